"""Batch scoring: outputs, quarantine passthrough, atomic and idempotent writes,
drift, MLflow logging."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

import anxin
from anxin import DriftWarning, Tables, score_month
from anxin.scoring import month_dir, recover

AS_OF = "2026-06"


@pytest.fixture(scope="module")
def model_dir(
    trained: tuple[anxin.TrainResult, str], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("model")
    trained[0].model.save(path)
    return path


@pytest.fixture(scope="module")
def data_dir(model_world: Tables, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data")
    model_world.write(path)
    return path


def test_outputs(
    data_dir: Path, model_dir: Path, tmp_path: Path, tracking_uri: str
) -> None:
    result = score_month(
        data_dir, tmp_path, as_of=AS_OF, model=str(model_dir), tracking_uri=tracking_uri
    )
    out = month_dir(tmp_path, AS_OF)
    assert result.out_dir == out
    assert {p.name for p in out.iterdir()} >= {
        "scores.parquet",
        "summary.json",
        "drift.csv",
        "quarantine.csv",
    }
    scores = pd.read_parquet(out / "scores.parquet")
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert len(scores) == summary["scored"] == len(result.scores)
    counts = scores["risk_level"].value_counts().to_dict()
    assert {k: v for k, v in summary["levels"].items() if v} == counts
    by_region = pd.crosstab(scores["region"], scores["risk_level"])
    for region, row in summary["levels_by_region"].items():
        assert row["red"] == by_region.loc[region].get("red", 0)
    # reasons survive the parquet round trip
    alert = scores[scores["risk_level"] != "none"].iloc[0]
    assert len(alert["reasons"]) >= 1 and alert["reasons"][0]["text_zh"]
    assert summary["quarantine"]["rows"] == 0
    # reading the files and checking them are timed apart, then each step
    steps = ["load model", "read tables", "validate", "features", "predict"]
    assert list(summary["timings"])[:5] == steps
    drift = summary["drift"]
    assert np.isfinite(drift["psi_score"])
    # the same world the model was trained on: nothing to act on, and said so
    assert drift["verdict"] in ("stable", "watch") and not drift["alerts"]
    assert drift["thresholds"] == {"watch": 0.1, "act": 0.25}
    assert [t["feature"] for t in drift["top"]] == (
        result.drift.loc[result.drift["feature"] != "risk_score", "feature"]
        .head(5)
        .tolist()
    )
    share = float(np.mean(scores["risk_level"] != "none"))
    assert drift["alert_share"] == pytest.approx(share, abs=1e-4)
    assert 0.5 < drift["alert_volume_ratio"] < 2
    # the run is logged beside the training runs
    run = mlflow.MlflowClient(tracking_uri).get_run(result.run_id)
    assert run.data.metrics["scored"] == len(scores)
    assert run.data.metrics["level_red"] == summary["levels"]["red"]
    assert run.data.tags["as_of"] == AS_OF


def test_quarantined_rows_are_reported_not_dropped(
    model_dir: Path, tmp_path: Path
) -> None:
    world = anxin.synth(800, 24, seed=8, dirty=True)
    world.write(tmp_path / "data")
    result = score_month(
        tmp_path / "data",
        tmp_path / "out",
        as_of=AS_OF,
        model=str(model_dir),
        log=False,
    )
    out = month_dir(tmp_path / "out", AS_OF)
    injected = world.injected
    assert result.summary["quarantine"]["rows"] == len(injected)
    q = pd.read_csv(out / "quarantine.csv")
    assert set(zip(q["table"], q["source_row"], strict=True)) == set(
        zip(injected["table"], injected["source_row"], strict=True)
    )
    raw = pd.read_csv(out / "quarantine" / "payroll.csv")
    assert len(raw) == int((injected["table"] == "payroll").sum())
    # every valid enterprise active in the month is scored
    valid = result.validation.tables.payroll
    assert len(result.scores) == int((valid["period"] == AS_OF).sum())


def test_rerun_replaces_the_month(
    data_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    first = score_month(
        data_dir, tmp_path, as_of=AS_OF, model=str(model_dir), log=False
    )
    second = score_month(
        data_dir,
        tmp_path,
        as_of=AS_OF,
        model=str(model_dir),
        log=False,
        policy={"kind": "quota", "red": 0.1, "orange": 0.0, "yellow": 0.0},
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"as_of={AS_OF}"]
    scores = pd.read_parquet(month_dir(tmp_path, AS_OF) / "scores.parquet")
    assert len(scores) == len(first.scores)  # replaced, not appended
    assert (scores["risk_level"] == "red").sum() == second.summary["levels"]["red"]
    assert second.summary["levels"] != first.summary["levels"]


_PAUSED_WRITER = """
import os, sys, time
import pandas as pd
import anxin.scoring as S
real = pd.DataFrame.to_parquet
def paused(self, path, *args, **kwargs):
    real(self, path, *args, **kwargs)
    open(sys.argv[4], "w").write("writing")
    deadline = time.monotonic() + 120
    while not os.path.exists(sys.argv[5]) and time.monotonic() < deadline:
        time.sleep(0.05)
pd.DataFrame.to_parquet = paused
S.score_month(sys.argv[1], sys.argv[2], as_of="2026-06", model=sys.argv[3], log=False)
"""


def _paused_writer(
    data_dir: Path, out: Path, model_dir: Path, tmp: Path
) -> tuple[subprocess.Popen[bytes], Path]:
    """A scoring run paused in its write step (until the returned file exists)."""
    stamp = time.monotonic_ns()
    ready, go = tmp / f"ready-{stamp}", tmp / f"go-{stamp}"
    proc = subprocess.Popen(
        [sys.executable, "-c", _PAUSED_WRITER]
        + [str(p) for p in (data_dir, out, model_dir, ready, go)],
        env={**os.environ},
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the scoring process never reached the write")
        time.sleep(0.1)
    return proc, go


def _kill_mid_write(data_dir: Path, out: Path, model_dir: Path, tmp: Path) -> None:
    proc, _ = _paused_writer(data_dir, out, model_dir, tmp)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_kill_mid_write_leaves_previous_output_or_none(
    data_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    # no previous output: a killed run leaves none
    _kill_mid_write(data_dir, out, model_dir, tmp_path)
    assert not month_dir(out, AS_OF).exists()
    # a complete run, then a killed one: the complete output is intact
    done = score_month(
        data_dir, out, as_of=AS_OF, model=str(model_dir), log=False, lock_timeout=0
    )
    before = (month_dir(out, AS_OF) / "summary.json").read_bytes()
    _kill_mid_write(data_dir, out, model_dir, tmp_path)
    final = month_dir(out, AS_OF)
    assert (final / "summary.json").read_bytes() == before
    assert len(pd.read_parquet(final / "scores.parquet")) == len(done.scores)
    # the next run cleans up the leftovers and succeeds; the killed run's lock
    # went with it (no waiting)
    score_month(
        data_dir, out, as_of=AS_OF, model=str(model_dir), log=False, lock_timeout=0
    )
    assert sorted(p.name for p in out.iterdir()) == [f"as_of={AS_OF}"]


def _anxin_score(
    data_dir: Path, out: Path, model_dir: Path, log: Path, *args: str
) -> subprocess.Popen[bytes]:
    """``anxin score`` of AS_OF in a process of its own; stderr goes to ``log``."""
    command = [sys.executable, "-m", "anxin", "score", str(data_dir), "--out", str(out)]
    command += ["--as-of", AS_OF, "--model", str(model_dir), "--no-log", *args]
    with log.open("wb") as err:
        return subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "COLUMNS": "200"},
        )


def _wait_for(text: str, log: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while text not in log.read_text("utf-8", errors="replace"):
        assert proc.poll() is None, log.read_text("utf-8", errors="replace")
        assert time.monotonic() < deadline, f"never saw {text!r}"
        time.sleep(0.1)


def test_two_runs_of_a_month_take_turns(
    data_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    """A second run of the month exits naming the first, or waits for it; the
    first never notices; the month ends up as the later run wrote it."""
    out = tmp_path / "out"
    first, go = _paused_writer(data_dir, out, model_dir, tmp_path)
    work = list(out.glob(f".as_of={AS_OF}.tmp-*"))
    assert len(work) == 1  # the first run is in the middle of its write
    patient: subprocess.Popen[bytes] | None = None
    try:
        eager_log = tmp_path / "eager.log"
        eager = _anxin_score(data_dir, out, model_dir, eager_log, "--lock-timeout", "0")
        assert eager.wait(timeout=300) == 1
        err = eager_log.read_text("utf-8")
        assert f"pid {first.pid} on host " in err and " since " in err, err
        assert "Traceback" not in err
        policy = tmp_path / "policy.json"
        policy.write_text('{"kind": "quota", "red": 0.1, "orange": 0, "yellow": 0}')
        patient_log = tmp_path / "patient.log"
        patient = _anxin_score(
            data_dir, out, model_dir, patient_log, "--policy", str(policy)
        )
        _wait_for(f"being written by pid {first.pid}", patient_log, patient)
        assert work[0].is_dir()  # nobody touched the first run's work
        go.write_text("go")
        assert first.wait(timeout=300) == 0
        assert patient.wait(timeout=300) == 0, patient_log.read_text("utf-8")
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        if patient is not None and patient.poll() is None:
            patient.kill()
    assert sorted(p.name for p in out.iterdir()) == [f"as_of={AS_OF}"]
    summary = json.loads((month_dir(out, AS_OF) / "summary.json").read_text("utf-8"))
    assert summary["policy"]["kind"] == "quota"  # the later run's output
    scores = pd.read_parquet(month_dir(out, AS_OF) / "scores.parquet")
    assert (scores["risk_level"] == "red").sum() == summary["levels"]["red"]


def test_interrupted_swap_is_rolled_back(tmp_path: Path) -> None:
    old = tmp_path / f".as_of={AS_OF}.old-deadbeef"
    old.mkdir()
    (old / "summary.json").write_text("{}")
    (tmp_path / f".as_of={AS_OF}.tmp-cafe").mkdir()
    recover(tmp_path, AS_OF)
    assert (month_dir(tmp_path, AS_OF) / "summary.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"as_of={AS_OF}"]


def test_drift_warns(model_world: Tables, model_dir: Path, tmp_path: Path) -> None:
    pay = model_world.payroll.copy()
    late = pay["period"] == AS_OF
    pay.loc[late, "social_insurance_paid"] *= 0.3  # a wave of underpayment
    pay.loc[late, "insured_headcount"] = pay.loc[late, "insured_headcount"] * 3
    model_world.replace(payroll=pay).write(tmp_path / "data")
    with pytest.warns(DriftWarning, match="drifted"):
        result = score_month(
            tmp_path / "data",
            tmp_path / "out",
            as_of=AS_OF,
            model=str(model_dir),
            log=False,
        )
    assert result.summary["drift"]["alerts"]
    drift = pd.read_csv(month_dir(tmp_path / "out", AS_OF) / "drift.csv")
    assert drift["psi"].notna().all() and np.isfinite(drift["psi"]).all()


def test_contract_broken_writes_nothing(
    data_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "data"
    broken.mkdir()
    for f in data_dir.iterdir():
        if f.name != "payroll.parquet":
            (broken / f.name).write_bytes(f.read_bytes())
    with pytest.raises(anxin.ContractError, match="payroll"):
        score_month(
            broken, tmp_path / "out", as_of=AS_OF, model=str(model_dir), log=False
        )
    assert not (tmp_path / "out").exists()
