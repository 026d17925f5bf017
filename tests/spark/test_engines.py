"""``anxin score --engine spark``: the output equals the local engine's."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from anxin._machine_output import scoring_facts
from anxin.cli import main
from anxin.config import config_context
from anxin.scoring import month_dir
from anxin.spark import read_scores
from tests.spark.conftest import AS_OF, TODAY


def _score(data: Path, out: Path, model: Path, *extra: str) -> int:
    args = ["score", str(data), "--out", str(out), "--as-of", AS_OF]
    return main([*args, "--model", str(model), "--no-log", "--top", "5", *extra])


def test_engine_spark_writes_what_engine_local_writes(
    spark: Any,
    spark_model: Path,
    dirty_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with config_context(today=TODAY, home=str(tmp_path / "home")):
        assert _score(dirty_dir, tmp_path / "one", spark_model) == 0
        local_out = capsys.readouterr().out
        assert (
            _score(dirty_dir, tmp_path / "two", spark_model, "--engine", "spark") == 0
        )
        spark_out = capsys.readouterr().out
    one, two = month_dir(tmp_path / "one", AS_OF), month_dir(tmp_path / "two", AS_OF)
    a = pd.read_parquet(one / "scores.parquet").sort_values("enterprise_id")
    b = read_scores(two / "scores.parquet").sort_values("enterprise_id")
    assert len(a) == len(b) > 500
    assert np.abs(a["risk_score"].to_numpy() - b["risk_score"].to_numpy()).max() <= 1e-9
    for column in ("enterprise_id", "risk_level", "rank", "reasons_zh"):
        assert a[column].astype(str).tolist() == b[column].astype(str).tolist()
    s1, s2 = (json.loads((d / "summary.json").read_text()) for d in (one, two))
    assert s1["levels"] == s2["levels"] and s1["quarantine"] == s2["quarantine"]
    assert s2["engine"] == "spark"
    listed = scoring_facts(SimpleNamespace(summary=s2, out_dir=two, run_id=None))
    assert {"scores.parquet/", "summary.json", "quarantine/"} <= set(listed["files"])
    # the same level counts and table of warnings are printed
    assert _table(spark_out.replace("/two/", "/one/")) == _table(local_out)
    assert "Top warnings" in _table(spark_out)


def _table(out: str) -> str:
    """What ``anxin score`` printed from the level counts to the top warnings."""
    return out[out.index("Warnings for") : out.index("written to")]


def test_engine_spark_refuses_csv_exports(
    spark: Any, spark_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "payroll.csv").write_text("enterprise_id,period\n", encoding="utf-8")
    code = _score(tmp_path, tmp_path / "out", spark_model, "--engine", "spark")
    assert code == 2
    assert "--engine local" in capsys.readouterr().err
