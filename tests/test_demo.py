"""The demo: the whole chain on a synthetic world, as `make demo` runs it, and
the commands it prints at the end work exactly as printed."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import anxin
from anxin.demo import next_steps


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _printed_commands(out: str) -> list[str]:
    lines = out.split("Next / 下一步:", 1)[1].splitlines()
    return [ln.strip() for ln in lines if ln.startswith("    ") and "(" not in ln]


@pytest.mark.slow
def test_demo_runs_the_whole_chain_and_its_commands_work(tmp_path: Path) -> None:
    env = {**os.environ, "ANXIN_HOME": ".anxin", "ANXIN_TODAY": "2026-11"}
    for var in ("MLFLOW_TRACKING_URI", "ANXIN_CASES_URL", "COLUMNS"):
        env.pop(var, None)
    run = subprocess.run(
        [sys.executable, "-m", "anxin", "demo", "-n", "1500", "-m", "30"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert "Top warnings / 重点预警企业" in out
    assert "Case queue / 待派单案件" in out
    for step in range(1, 7):
        assert f"{step}/6 " in out
    scores = tmp_path / "anxin-demo" / "scores" / "as_of=2026-06" / "scores.parquet"
    assert scores.exists()
    commands = _printed_commands(out)
    assert len(commands) == 2, out
    ui, cases = (shlex.split(c) for c in commands)
    # the UI: as printed, on a free port instead of 5000 (which may be taken)
    port = _free_port()
    ui[ui.index("--port") + 1] = str(port)
    server = subprocess.Popen(
        ui, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline, status = time.monotonic() + 120, None
        while time.monotonic() < deadline and status != 200:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/", timeout=5
                ) as r:
                    status = r.status
            except OSError:
                time.sleep(1)
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    listed = subprocess.run(
        cases, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    store = anxin.CaseStore(f"sqlite:///{tmp_path / '.anxin' / 'cases.db'}")
    first = store.list().iloc[0]
    store.close()
    assert str(first["enterprise_id"]) in listed.stdout


def test_the_closing_commands_use_this_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")  # nothing on PATH
    lines = next_steps("sqlite:///.anxin/mlflow.db")
    here = Path(sys.executable).parent
    assert (
        f"    {here / 'mlflow'} ui --backend-store-uri sqlite:///.anxin/mlflow.db"
        in ("\n".join(lines))
    )
    assert lines[-1] == f"    {here / 'anxin'} cases list"
