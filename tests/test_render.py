"""Output that survives logs: piped output keeps every cell and every step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import anxin

ELLIPSIS = "…"


def _anxin(*args: str, env: dict[str, str]) -> str:
    """Run the command line with stdout and stderr piped, as a scheduler does."""
    out = subprocess.run(
        [sys.executable, "-m", "anxin", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout + out.stderr


@pytest.fixture(scope="module")
def run_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env.update(ANXIN_HOME=str(home), ANXIN_TODAY="2026-11")
    return env


@pytest.mark.slow
def test_piped_output_is_never_cut_short(
    tmp_path: Path,
    run_env: dict[str, str],
    trained: tuple[anxin.TrainResult, str],
) -> None:
    data, model = tmp_path / "data", tmp_path / "model"
    _anxin("synth", str(data), "-n", "1500", "-m", "30", "--dirty", env=run_env)
    trained[0].model.save(model)
    outputs = {
        "validate": _anxin("validate", str(data), env=run_env),
        "train": _anxin(
            "train",
            str(data),
            "--no-register",
            "--tracking-uri",
            f"sqlite:///{tmp_path / 'mlflow.db'}",
            env=run_env,
        ),
        "score": _anxin(
            "score",
            str(data),
            "--out",
            str(tmp_path / "out"),
            "--model",
            str(model),
            "--no-log",
            env=run_env,
        ),
    }
    for command, text in outputs.items():
        assert ELLIPSIS not in text, (command, text)
    # reasons appear whole, in both languages, and every step has its line
    score = outputs["score"]
    assert "Top warnings / 重点预警企业" in score
    steps = ("load model", "read tables", "validate", "features")
    for i, step in enumerate(steps, start=1):
        assert f"step {i}/10 {step}:" in score
    assert "recall" in outputs["train"]
