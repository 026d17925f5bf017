"""The deployable jobs in pipelines/, run end to end on a small synthetic world.

One module-scoped store holds a registered champion (trained by the retrain
job itself); the scoring tests score against it. The autouse fixture in
conftest isolates ANXIN_HOME per test, so every config below names its
tracking store and paths explicitly.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import types
import typing
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from pydantic import BaseModel

import anxin
import anxin.jobs

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
EXAMPLE = PIPELINES / "config.example.toml"
LATEST = "2026-06"  # last month of anxin.synthetic's default world
URI_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
MONTH_FILES = {"scores.parquet", "summary.json", "drift.csv", "quarantine.csv"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def jobs() -> types.SimpleNamespace:
    """The job scripts, imported the way ``python pipelines/X.py`` sees them."""
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(PIPELINES))
        return types.SimpleNamespace(
            score=importlib.import_module("monthly_scoring"),
            retrain=importlib.import_module("retrain"),
        )


@contextlib.contextmanager
def _process_state() -> Iterator[None]:
    """Undo what running the jobs in-process leaves behind: their logging
    setup, and the MLflow URIs that anxin.tracking.use_tracking leaves in
    os.environ and in MLflow's globals."""
    root = logging.getLogger()
    names = ("anxin", "pipelines", "py.warnings", "mlflow", "alembic")
    levels = {n: logging.getLogger(n).level for n in (None, *names)}
    handlers = list(root.handlers)
    uris = {k: os.environ.get(k) for k in URI_VARS}
    try:
        yield
    finally:
        logging.captureWarnings(False)
        for h in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(h)
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)
        mlflow.set_tracking_uri(uris["MLFLOW_TRACKING_URI"])  # type: ignore[arg-type]
        mlflow.set_registry_uri(uris["MLFLOW_REGISTRY_URI"])  # type: ignore[arg-type]
        for key, value in uris.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(autouse=True)
def _quiet_jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "WARNING")
    with _process_state():
        yield


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value) if isinstance(value, Path) else value)


def write_config(path: Path, **tables: dict[str, Any]) -> Path:
    """Write ``[name] key = value`` tables (a dotted name is a sub-table)."""
    lines = []
    for name, keys in tables.items():
        lines.append(f"[{name.replace('__', '.')}]")
        lines += [f"{k} = {_toml(v)}" for k, v in keys.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _summary(out: str) -> dict[str, Any]:
    """The job's one-line JSON summary (the last line on stdout)."""
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def store(
    tmp_path_factory: pytest.TempPathFactory, jobs: types.SimpleNamespace
) -> types.SimpleNamespace:
    """A world on disk and a tracking store with a champion, made by the
    retrain job (the registry's first model becomes champion)."""
    root = tmp_path_factory.mktemp("pipelines")
    with pytest.MonkeyPatch.context() as mp, _process_state():
        mp.setenv("ANXIN_HOME", str(root / ".anxin"))
        mp.setenv("ANXIN_TODAY", "2026-11")
        mp.setenv("MLFLOW_LOGGING_LEVEL", "WARNING")
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        world = anxin.synth(1500, 30, seed=7)
        world.write(root / "data")
        tracking = f"sqlite:///{(root / 'mlflow.db').as_posix()}"
        config = write_config(
            root / "retrain.toml",
            retrain={"data_dir": "data", "seed": 0, "tracking_uri": tracking},
        )
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = jobs.retrain.main(["--config", str(config), "-q"])
    assert code == 0
    return types.SimpleNamespace(
        root=root, data=root / "data", tracking=tracking, first=_summary(out.getvalue())
    )


# ---------------------------------------------------------------------------
# retraining
# ---------------------------------------------------------------------------


def test_retrain_registers_champion_then_challenger_and_promotes(
    store: types.SimpleNamespace,
    jobs: types.SimpleNamespace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = store.first
    assert first["model_version"] == "1"
    assert sorted(first["aliases"]) == ["challenger", "champion"]
    assert first["promotion"]["promoted"]
    assert first["promotion"]["reason"] == "first model: champion by default"

    config = write_config(
        tmp_path / "anxin.toml",
        retrain={
            "data_dir": str(store.data),
            "seed": 1,
            "tracking_uri": store.tracking,
        },
        retrain__promotion={"alert_volume": 0.05, "tolerance": 0.01, "eval_months": 2},
    )
    assert jobs.retrain.main(["--config", str(config)]) == 0
    captured = capsys.readouterr()
    second = _summary(captured.out)
    assert second["model_version"] == "2"
    assert second["aliases"] == ["challenger"]
    decision = second["promotion"]
    assert (decision["challenger_version"], decision["champion_version"]) == ("2", "1")
    assert len(decision["months"]) == 2
    # the rule ran and recorded its decision in the registry
    client = MlflowClient(store.tracking)
    version = client.get_model_version("anxin-arrears", "2")
    assert version.tags["promotion_decision"] == (
        "promoted" if decision["promoted"] else "refused"
    )
    champion = client.get_model_version_by_alias("anxin-arrears", "champion").version
    assert str(champion) == ("2" if decision["promoted"] else "1")
    assert "promotion (晋级) of v2 over v1" in captured.err
    # the training runs went to anxin's experiment
    run = client.get_run(second["train_run_id"])
    assert client.get_experiment(run.info.experiment_id).name == "anxin-arrears"


# ---------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------


def test_scoring_writes_latest_month_and_rerun_replaces_it(
    store: types.SimpleNamespace,
    jobs: types.SimpleNamespace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "scores"
    # this month's data drift: a wave of social-insurance underpayment
    drifted = tmp_path / "data"
    tables = anxin.load_tables(store.data)
    pay = tables.payroll.copy()
    late = pay["period"] == LATEST
    pay.loc[late, "social_insurance_paid"] *= 0.3
    pay.loc[late, "insured_headcount"] *= 3
    tables.replace(payroll=pay).write(drifted)
    config = write_config(
        tmp_path / "anxin.toml",
        score={
            "data_dir": str(drifted),
            "out_dir": "scores",  # relative to the config file
            "tracking_uri": store.tracking,
            "explain": "alerts",
        },
        score__policy={"kind": "quota", "red": 0.01, "orange": 0.02, "yellow": 0.05},
        cases={"url": f"sqlite:///{(tmp_path / 'cases.db').as_posix()}"},
    )
    month = out / f"as_of={LATEST}"

    assert jobs.score.main(["--config", str(config)]) == 0
    captured = capsys.readouterr()
    first = _summary(captured.out)
    files = sorted(p.relative_to(month).as_posix() for p in month.rglob("*"))
    scores = pd.read_parquet(month / "scores.parquet")
    summary = json.loads((month / "summary.json").read_text("utf-8"))

    assert first["as_of"] == summary["as_of"] == LATEST
    assert set(files) >= MONTH_FILES
    assert len(scores) == first["scored"] == summary["scored"]
    assert scores["enterprise_id"].is_unique
    assert summary["policy"]["kind"] == "quota"
    flagged = int((scores["risk_level"] != "none").sum())
    assert first["cases"] == {"opened": flagged, "escalated": 0, "unchanged": 0}
    assert flagged > 0
    # drift is reported (log + summary) but the job still exits 0
    assert first["drift_alerts"]
    assert "drift (漂移): Scoring data for 2026-06 have drifted" in captured.err
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", captured.err, re.M)

    assert jobs.score.main(["--config", str(config), "--as-of", LATEST]) == 0
    second = _summary(capsys.readouterr().out)
    # the month was replaced: one directory, same files, same rows, no leftovers
    assert sorted(p.name for p in out.iterdir()) == [f"as_of={LATEST}"]
    assert sorted(p.relative_to(month).as_posix() for p in month.rglob("*")) == files
    pd.testing.assert_frame_equal(pd.read_parquet(month / "scores.parquet"), scores)
    # and no case was opened twice
    assert second["cases"] == {"opened": 0, "escalated": 0, "unchanged": flagged}
    with anxin.CaseStore(f"sqlite:///{(tmp_path / 'cases.db').as_posix()}") as cases:
        assert len(cases.list()) == flagged
    # both runs are in the scoring experiment of the configured store
    client = MlflowClient(store.tracking)
    for result in (first, second):
        run = client.get_run(result["mlflow_run_id"])
        assert client.get_experiment(run.info.experiment_id).name == "anxin-scoring"


def _mlflow_run(
    entry_point: str, config: Path, tracking: str, cwd: Path, *params: str
) -> subprocess.CompletedProcess[str]:
    bin_dir = Path(sys.executable).parent  # `python` in MLproject is this venv's
    env = {k: v for k, v in os.environ.items() if k not in URI_VARS}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_TRACKING_URI"] = tracking
    args = [f"config={config}", *params]
    return subprocess.run(
        [str(bin_dir / "mlflow"), "run", str(PIPELINES), "-e", entry_point,
         "--env-manager", "local", "--experiment-name", "anxin-jobs",
         *[x for p in args for x in ("-P", p)]],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_mlflow_run_score_entry_point(
    store: types.SimpleNamespace, tmp_path: Path
) -> None:
    """`mlflow run pipelines -e score` works and keeps anxin's runs apart."""
    config = write_config(
        tmp_path / "anxin.toml",
        # no tracking_uri: the job must use the store `mlflow run` passes on
        score={"data_dir": str(store.data), "out_dir": "scores"},
    )
    proc = _mlflow_run("score", config, store.tracking, tmp_path, "as_of=2026-05")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = _summary(proc.stdout)
    assert (tmp_path / "scores" / "as_of=2026-05" / "summary.json").is_file()

    client = MlflowClient(store.tracking)
    jobs_exp = client.get_experiment_by_name("anxin-jobs")
    (project_run,) = client.search_runs([jobs_exp.experiment_id])
    assert project_run.info.status == "FINISHED"
    tags = project_run.data.tags
    assert (tags["anxin_job"], tags["anxin_exit_code"]) == ("score", "0")
    assert project_run.data.metrics["scored"] == result["scored"]
    # anxin's scoring run is its own, in its own experiment, not the project run
    scoring_run = client.get_run(tags["anxin_scoring_run_id"])
    assert scoring_run.info.run_id != project_run.info.run_id
    assert scoring_run.info.status == "FINISHED"
    assert client.get_experiment(scoring_run.info.experiment_id).name == "anxin-scoring"


def test_failure_under_mlflow_run_records_the_exit_code(
    store: types.SimpleNamespace,
    jobs: types.SimpleNamespace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`mlflow run` reduces every failure to exit 1; the job's code is kept
    on the project run (simulated here as `mlflow run` sets it up)."""
    client = MlflowClient(store.tracking)
    experiment = client.create_experiment(
        "project-failures", artifact_location=(tmp_path / "artifacts").as_uri()
    )
    run = client.create_run(experiment)
    monkeypatch.setenv("MLFLOW_RUN_ID", run.info.run_id)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", experiment)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.tracking)
    bad = write_config(tmp_path / "bad.toml", score={"out_dir": "scores"})

    assert jobs.score.main(["--config", str(bad)]) == 2
    tags = client.get_run(run.info.run_id).data.tags
    assert tags["anxin_exit_code"] == "2"
    assert os.environ["MLFLOW_RUN_ID"] == run.info.run_id  # restored after the job


# ---------------------------------------------------------------------------
# failures and exit codes
# ---------------------------------------------------------------------------


def test_missing_model_alias_exits_1(
    store: types.SimpleNamespace,
    jobs: types.SimpleNamespace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(
        tmp_path / "anxin.toml",
        score={
            "data_dir": str(store.data),
            "out_dir": "scores",
            "tracking_uri": store.tracking,
            "model": "models:/anxin-arrears@production",
        },
    )
    assert jobs.score.main(["--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "models:/anxin-arrears@production" in err
    assert "[score] model" in err
    assert "Traceback" not in err
    assert not (tmp_path / "scores").exists()


def _without_payroll(store: types.SimpleNamespace, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(store.data, data, ignore=shutil.ignore_patterns("payroll.*"))
    return data


def test_contract_broken_data_exits_2(
    store: types.SimpleNamespace,
    jobs: types.SimpleNamespace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = _without_payroll(store, tmp_path)
    config = write_config(
        tmp_path / "anxin.toml",
        score={"data_dir": "data", "out_dir": "scores", "tracking_uri": store.tracking},
        retrain={"data_dir": "data", "tracking_uri": store.tracking},
    )
    assert jobs.score.main(["--config", str(config)]) == 2
    assert f"{data}: required table 'payroll' not found" in capsys.readouterr().err
    assert not (tmp_path / "scores").exists()
    assert jobs.retrain.main(["--config", str(config)]) == 2
    assert "required table 'payroll' not found" in capsys.readouterr().err


def test_scoring_a_month_without_data_exits_2(
    store: types.SimpleNamespace,
    jobs: types.SimpleNamespace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # ANXIN_TODAY is 2026-11: the previous month has not been delivered
    config = write_config(
        tmp_path / "anxin.toml",
        score={
            "data_dir": str(store.data),
            "out_dir": "scores",
            "tracking_uri": store.tracking,
            "as_of": "previous-month",
            "log": False,
        },
    )
    assert jobs.score.main(["--config", str(config)]) == 2
    assert "Got '2026-10'" in capsys.readouterr().err


SCORE_OK = {"data_dir": "data", "out_dir": "scores"}
QUOTAS_OVER_1 = {"kind": "quota", "red": 0.5, "orange": 0.4, "yellow": 0.3}


@pytest.mark.parametrize(
    ("tables", "key"),
    [
        ({"score": {"out_dir": "scores"}}, "data_dir"),
        ({"score": {**SCORE_OK, "explian": "all"}}, "explian"),
        ({"score": {**SCORE_OK, "explain": "everything"}}, "explain"),
        ({"score": {**SCORE_OK, "top_k": "3"}}, "top_k"),
        ({"score": {**SCORE_OK, "log": 1}}, "log"),
        ({"score": {**SCORE_OK, "as_of": "June"}}, "as_of"),
        ({"score": {**SCORE_OK, "policy": "no-such-policy.json"}}, "policy"),
        ({"score": SCORE_OK, "score__policy": QUOTAS_OVER_1}, "policy"),
        ({"score": SCORE_OK, "cases": {"min_level": "red"}}, "url"),
        ({"score": SCORE_OK, "cases": {"url_env": "ANXIN_TEST_UNSET_URL"}}, "url_env"),
        ({"score": SCORE_OK, "scoring": {"as_of": "latest"}}, "scoring"),
        ({"retrain": {"data_dir": "data"}}, "score"),
    ],
)  # fmt: skip
def test_bad_scoring_config_exits_2_naming_the_key(
    jobs: types.SimpleNamespace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tables: dict[str, dict[str, Any]],
    key: str,
) -> None:
    config = write_config(tmp_path / "anxin.toml", **tables)
    assert jobs.score.main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err
    assert re.search(rf"\b{re.escape(key)}\b", err), err


@pytest.mark.parametrize(
    ("tables", "key"),
    [
        ({"retrain": {}}, "data_dir"),
        ({"retrain": {"data_dir": "data", "horizon": "3"}}, "horizon"),
        ({"retrain": {"data_dir": "data", "refit": "yes"}}, "refit"),
        ({"retrain": {"data_dir": "data"}, "retrain__promotion": {"volume": 0.05}},
         "volume"),
        ({"retrain": {"data_dir": "data"},
          "retrain__promotion": {"tolerance": "0.01"}}, "tolerance"),
        ({"score": SCORE_OK}, "retrain"),
    ],
)  # fmt: skip
def test_bad_retrain_config_exits_2_naming_the_key(
    jobs: types.SimpleNamespace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tables: dict[str, dict[str, Any]],
    key: str,
) -> None:
    config = write_config(tmp_path / "anxin.toml", **tables)
    assert jobs.retrain.main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert re.search(rf"\b{re.escape(key)}\b", err), err


@pytest.mark.parametrize("job", ["score", "retrain"])
def test_unreadable_config_exits_2(
    jobs: types.SimpleNamespace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    job: str,
) -> None:
    main = getattr(jobs, job).main
    assert main(["--config", str(tmp_path / "missing.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text("[score\ndata_dir = 'x'\n", encoding="utf-8")
    assert main(["--config", str(broken)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main([]) == 2  # --config is required (argparse usage error)


@pytest.mark.parametrize(
    ("today", "value", "expected"),
    [
        ("2026-07", "previous-month", "2026-06"),
        ("2026-01", "previous-month", "2025-12"),
        ("2026-07", "latest", None),
        ("2026-07", "2025-03", "2025-03"),
    ],
)
def test_as_of_words(
    monkeypatch: pytest.MonkeyPatch,
    today: str,
    value: str,
    expected: str | None,
) -> None:
    monkeypatch.setenv("ANXIN_TODAY", today)
    assert anxin.jobs.resolve_as_of(value) == expected


def _tables(model: type[BaseModel], prefix: str = "") -> dict[str, set[str]]:
    """Each table a job reads (dotted name) and the keys it reads there."""
    read: dict[str, set[str]] = {}
    for key, field in model.model_fields.items():
        for kind in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                read[prefix + key] = set(kind.model_fields)
                read |= _tables(kind, f"{prefix}{key}.")
    return read


def test_example_config_is_valid_and_documents_every_key() -> None:
    read = _tables(anxin.jobs.ScoreJobConfig) | _tables(anxin.jobs.RetrainJobConfig)
    scoring = anxin.jobs.load_config(EXAMPLE, anxin.jobs.ScoreJobConfig)
    retraining = anxin.jobs.load_config(EXAMPLE, anxin.jobs.RetrainJobConfig)
    assert scoring.score.policy == anxin.LevelPolicy(
        "quota", 0.01, 0.02, 0.05, by="region"
    )
    assert scoring.cases is not None
    assert scoring.cases.url is not None
    assert retraining.retrain.promotion.tolerance == 0.01
    assert set(read) == {"score", "cases", "retrain", "retrain.promotion"}
    text = EXAMPLE.read_text("utf-8")
    for section, keys in read.items():
        for key in keys - {"promotion"}:  # [retrain.promotion] is a table
            assert re.search(rf"^(# )?{key} = ", text, re.M), (section, key)


def test_airflow_dag_file_parses_without_airflow() -> None:
    path = PIPELINES / "schedules" / "anxin_monthly_dag.py"
    namespace: dict[str, Any] = {"__name__": "anxin_monthly_dag", "__doc__": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(path.read_text("utf-8"), str(path), "exec"), namespace)
    assert "monthly_scoring.py --config" in namespace["_command"](
        namespace["SCORE_CMD"]
    )
