"""The demo: the whole chain on a synthetic world, as `make demo` runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

import anxin
from anxin.cli import main


@pytest.mark.slow
def test_demo_runs_the_whole_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "-n", "1500", "-m", "30", "--workdir", "demo"]) == 0
    out = capsys.readouterr().out
    assert "Top warnings / 重点预警企业" in out
    assert "Case queue / 待派单案件" in out
    assert "mlflow ui --backend-store-uri" in out
    assert (tmp_path / "demo" / "scores" / "as_of=2026-06" / "scores.parquet").exists()
    store = anxin.CaseStore()
    assert len(store.list()) > 0
    store.close()
