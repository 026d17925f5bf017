"""anxin.jobs: the config models of the deployable jobs, and how a job runs
(arguments, logging, exit codes, the run of ``mlflow run``).

The jobs themselves are run end to end in test_pipelines.py.
"""

from __future__ import annotations

import json
import logging
import os
import typing
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

import anxin
from anxin import jobs
from anxin.reasons import EXPLAIN_MODES
from anxin.schemas import LEVELS

EXAMPLE = Path(__file__).resolve().parents[1] / "pipelines" / "config.example.toml"
SCORE = '[score]\ndata_dir = "data"\nout_dir = "scores"\n'


@pytest.fixture(autouse=True)
def _logging_state() -> Iterator[None]:
    """Undo the logging setup of jobs.main."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    names = (None, "anxin", "pipelines", "py.warnings", "mlflow", "alembic")
    levels = {n: logging.getLogger(n).level for n in names}
    yield
    logging.captureWarnings(False)
    for h in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(h)
    for n, level in levels.items():
        logging.getLogger(n).setLevel(level)


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "anxin.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _echo(config: jobs.ScoreJobConfig) -> jobs.Outcome:
    return jobs.Outcome({"job": "echo", "status": "ok", "as_of": config.score.as_of})


def _run(path: Path, *args: str) -> int:
    return jobs.main(
        "echo",
        _echo,
        jobs.ScoreJobConfig,
        ["--config", str(path), *args],
        prog="echo.py",
        description="Echo the config.",
        epilog="",
        as_of_option=True,
    )


# ---------------------------------------------------------------------------
# config models
# ---------------------------------------------------------------------------


def test_example_config_loads() -> None:
    scoring = jobs.load_config(EXAMPLE, jobs.ScoreJobConfig)
    retraining = jobs.load_config(EXAMPLE, jobs.RetrainJobConfig)
    assert scoring.score.data_dir == Path("/srv/anxin/data/current")
    assert scoring.score.as_of is None  # "latest"
    assert scoring.score.policy == anxin.LevelPolicy(
        "quota", 0.01, 0.02, 0.05, by="region"
    )
    assert scoring.cases is not None
    assert scoring.cases.resolved_url == "sqlite:////srv/anxin/.anxin/cases.db"
    assert retraining.retrain.horizon == 3
    assert retraining.retrain.promotion == jobs.PromotionConfig()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (SCORE + 'explian = "all"\n', "[score] has unknown key 'explian'"),
        (SCORE + '[scoring]\nas_of = "latest"\n', "unknown top-level key or table "
         "'scoring'"),
        ('[retrain]\ndata_dir = "d"\n[retrain.promotion]\nvolume = 0.05\n',
         "[retrain.promotion] has unknown key 'volume'"),
    ],
)  # fmt: skip
def test_unknown_key_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, key: str
) -> None:
    path = _file(tmp_path, text)
    model = jobs.RetrainJobConfig if "[retrain]" in text else jobs.ScoreJobConfig
    with pytest.raises(jobs.ConfigError, match=r"Known (keys|tables)") as caught:
        jobs.load_config(path, model)
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith(f"{path}: {key}")
    if model is jobs.ScoreJobConfig:
        assert _run(path) == 2
        assert f"{path}: {key}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('top_k = "3"', "[score] top_k must be an integer. Got '3' instead."),
        ("log = 1", "[score] log must be a boolean. Got 1 instead."),
        ("data_dir = 3", "[score] data_dir must be a string (a path). Got 3 instead."),
        ("top_k = 0", "[score] top_k must be at least 1. Got 0 instead."),
        ('explain = "most"', "[score] explain must be one of ['alerts', 'all', "
         "'none']. Got 'most' instead."),
        ('as_of = "June"', "[score] as_of must be YYYY-MM, 'latest' or "
         "'previous-month'. Got 'June' instead."),
        ("policy = 3", "[score] policy must be a string (a JSON file) or a table"),
    ],
)  # fmt: skip
def test_wrong_type_exits_2_naming_key_and_expected_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    text = SCORE.replace('data_dir = "data"\n', "") if "data_dir" in line else SCORE
    path = _file(tmp_path, f"{text}{line}\n")
    with pytest.raises(jobs.ConfigError) as caught:
        jobs.load_config(path, jobs.ScoreJobConfig)
    assert str(caught.value).startswith(f"{path}: {message}")
    assert caught.value.key == f"score.{line.split()[0]}"  # type: ignore[attr-defined]
    assert _run(path) == 2
    err = capsys.readouterr().err
    assert f"{path}: {message}" in err
    # anxin's one line, not pydantic's report
    assert len(err.strip().splitlines()) == 1
    assert "validation error" not in err
    assert "errors.pydantic.dev" not in err


def test_several_errors_are_one_line_naming_each_key(tmp_path: Path) -> None:
    path = _file(tmp_path, SCORE + 'top_k = "3"\nexplian = "all"\n')
    with pytest.raises(jobs.ConfigError) as caught:
        jobs.load_config(path, jobs.ScoreJobConfig)
    message = str(caught.value)
    assert "\n" not in message
    assert "[score] top_k must be an integer" in message
    assert message.endswith("(Also check [score] explian.)")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[retrain]\ndata_dir = "d"\n', "table [score] is missing."),
        ('[score]\nout_dir = "s"\n', "[score] data_dir is required but missing."),
        ("score = 3\n", "score must be a table. Got 3 instead."),
        (SCORE + "[cases]\n", "[cases] needs exactly one of 'url' or 'url_env'"),
        (SCORE + '[cases]\nurl_env = "ANXIN_TEST_UNSET_URL"\n',
         "[cases] url_env: environment variable ANXIN_TEST_UNSET_URL is not set."),
        (SCORE + '[score.policy]\nkind = "quota"\nred = 0.5\norange = 0.4\n'
         "yellow = 0.3\n", "[score] policy is not a valid level policy: "
         "LevelPolicy quotas must add up to at most 1."),
    ],
)  # fmt: skip
def test_missing_and_inconsistent_tables(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(jobs.ConfigError) as caught:
        jobs.load_config(path, jobs.ScoreJobConfig)
    assert str(caught.value).startswith(f"{path}: {message}")


def test_a_job_checks_only_its_own_tables(tmp_path: Path) -> None:
    """A typo in [retrain] does not stop the monthly scoring, nor the other
    way round; the table names are checked by both."""
    path = _file(tmp_path, SCORE + '[retrain]\ndata_dir = "d"\nhorizn = 3\n')
    assert jobs.load_config(path, jobs.ScoreJobConfig).retrain == {
        "data_dir": "d",
        "horizn": 3,
    }
    with pytest.raises(jobs.ConfigError, match="unknown key 'horizn'"):
        jobs.load_config(path, jobs.RetrainJobConfig)


def test_relative_paths_are_taken_from_the_config_files_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "policy.json").write_text(
        json.dumps({"kind": "threshold", "red": 0.5, "orange": 0.3, "yellow": 0.1}),
        encoding="utf-8",
    )
    path = etc / "anxin.toml"
    path.write_text(
        '[score]\ndata_dir = "data"\nout_dir = "../scores"\npolicy = "policy.json"\n'
        '[retrain]\ndata_dir = "/srv/data"\n',
        encoding="utf-8",
    )
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # cron, systemd, `mlflow run` start elsewhere
    config = jobs.load_config(Path("..") / "etc" / "anxin.toml", jobs.ScoreJobConfig)
    assert config.score.data_dir == (etc / "data").resolve()
    assert config.score.out_dir == (tmp_path / "scores").resolve()
    assert config.score.policy == anxin.LevelPolicy("threshold", 0.5, 0.3, 0.1)
    retrain = jobs.load_config(path, jobs.RetrainJobConfig).retrain
    assert retrain.data_dir == Path("/srv/data")


def test_cases_url_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANXIN_TEST_CASES_URL", "sqlite:///cases.db")
    path = _file(tmp_path, SCORE + '[cases]\nurl_env = "ANXIN_TEST_CASES_URL"\n')
    cases = jobs.load_config(path, jobs.ScoreJobConfig).cases
    assert cases is not None
    assert (cases.resolved_url, cases.min_level) == ("sqlite:///cases.db", "yellow")
    assert "sqlite:///cases.db" not in repr(cases)  # a password stays out of logs


def test_numbers_may_be_written_as_integers(tmp_path: Path) -> None:
    path = _file(tmp_path, '[retrain]\ndata_dir = "d"\n[retrain.promotion]\n'
                 "tolerance = 0\n")  # fmt: skip
    promotion = jobs.load_config(path, jobs.RetrainJobConfig).retrain.promotion
    assert promotion.tolerance == 0.0
    assert isinstance(promotion.tolerance, float)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(jobs.ConfigError, match="config file not found"):
        jobs.load_config(tmp_path / "missing.toml", jobs.ScoreJobConfig)
    with pytest.raises(jobs.ConfigError, match="not valid TOML"):
        jobs.load_config(_file(tmp_path, "[score\n"), jobs.ScoreJobConfig)


def test_choices_are_the_librarys() -> None:
    fields = jobs.ScoreConfig.model_fields
    assert typing.get_args(fields["explain"].annotation) == EXPLAIN_MODES
    levels = jobs.CasesConfig.model_fields["min_level"].annotation
    assert set(typing.get_args(levels)) == set(LEVELS) - {"none"}


# ---------------------------------------------------------------------------
# as_of
# ---------------------------------------------------------------------------


def test_as_of_option_overrides_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, SCORE + 'as_of = "2026-03"\n')
    assert _run(path) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == "2026-03"
    assert _run(path, "--as-of", "previous-month") == 0  # ANXIN_TODAY 2026-11
    assert json.loads(capsys.readouterr().out)["as_of"] == "2026-10"
    assert _run(path, "--as-of", "") == 0  # `mlflow run` without -P as_of
    assert json.loads(capsys.readouterr().out)["as_of"] == "2026-03"
    assert _run(path, "--as-of", "2026-13") == 2
    captured = capsys.readouterr()
    assert "--as-of must be YYYY-MM, 'latest' or 'previous-month'." in captured.err
    assert json.loads(captured.out) == {
        "job": "echo",
        "status": "failed",
        "exit_code": 2,
        "error": "--as-of must be YYYY-MM, 'latest' or 'previous-month'. Got "
        "'2026-13' instead.",
    }


def test_resolve_as_of_names_where_the_value_came_from() -> None:
    with pytest.raises(jobs.ConfigError, match=r"^\[score\] as_of must be") as caught:
        jobs.resolve_as_of("2026-6", "[score] as_of")
    assert caught.value.exit_code == 2


# ---------------------------------------------------------------------------
# running a job
# ---------------------------------------------------------------------------


def test_usage_errors_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert jobs.main("echo", _echo, jobs.ScoreJobConfig, [], prog="echo.py",
                     description="", epilog="") == 2  # fmt: skip
    assert "--config" in capsys.readouterr().err
    assert jobs.main("echo", _echo, jobs.ScoreJobConfig, ["--help"], prog="echo.py",
                     description="", epilog="") == 0  # fmt: skip
    assert "--as-of" not in capsys.readouterr().out  # only with as_of_option=True


@pytest.mark.parametrize(
    ("error", "code", "logged"),
    [
        (anxin.ContractError("payroll: column 'period' is missing."), 2,
         "echo job failed (exit 2): payroll: column 'period' is missing."),
        (anxin.ModelNotFoundError("no champion"), 1,
         "echo job failed (exit 1): no champion"),
        (KeyError("bug"), 1, "echo job failed (exit 1) with an unexpected error"),
        (PermissionError(13, "Permission denied", "/srv/anxin/data"), 1,
         "echo job failed (exit 1): permission denied: /srv/anxin/data"),
    ],
)  # fmt: skip
def test_exit_codes(
    capsys: pytest.CaptureFixture[str], error: Exception, code: int, logged: str
) -> None:
    def job() -> jobs.Outcome:
        raise error

    jobs.setup_logging(quiet=True)
    assert jobs.run_job(job, "echo") == code
    captured = capsys.readouterr()
    assert f"ERROR   pipelines: {logged}" in captured.err
    assert ("Traceback" in captured.err) == isinstance(error, KeyError)
    summary = json.loads(captured.out)
    assert (summary["status"], summary["exit_code"]) == ("failed", code)


def test_a_password_never_reaches_the_summary_or_the_error_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def job() -> jobs.Outcome:
        raise RuntimeError("cannot reach postgresql://anxin:s3cret@db:5432/cases")

    jobs.setup_logging(quiet=True)
    assert jobs.run_job(job, "echo") == 1
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert (
        "s3cret" not in summary["error"] and "postgresql://anxin:" in summary["error"]
    )
    assert "s3cret" not in captured.err.split("Traceback")[0]


def test_drift_is_logged_other_warnings_pass_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("pipelines.test")
    with (
        caplog.at_level(logging.WARNING, "pipelines.test"),
        warnings.catch_warnings(record=True) as passed_on,
        jobs.report_drift(log),
    ):
        warnings.warn("tax_arrears (PSI 0.38)", anxin.DriftWarning, stacklevel=1)
        warnings.warn("other", UserWarning, stacklevel=1)
    assert [r.getMessage() for r in caplog.records] == [
        "drift (漂移): tax_arrears (PSI 0.38)"
    ]
    assert [str(w.message) for w in passed_on] == ["other"]


def test_under_mlflow_run_the_job_is_detached_and_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tracking_uri: str
) -> None:
    client = MlflowClient(tracking_uri)
    experiment = client.create_experiment(
        "project", artifact_location=(tmp_path / "artifacts").as_uri()
    )
    run_id = client.create_run(experiment).info.run_id
    monkeypatch.setenv("MLFLOW_RUN_ID", run_id)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", experiment)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    seen: dict[str, Any] = {}

    def job() -> jobs.Outcome:
        seen.update(
            {k: os.environ.get(k) for k in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID")}
        )
        return jobs.Outcome(
            {"job": "echo", "status": "ok"},
            tags={"anxin_job": "echo"},
            metrics={"scored": 3, "psi_score": None},
        )

    assert jobs.run_job(job, "echo") == 0
    assert seen == {"MLFLOW_RUN_ID": None, "MLFLOW_EXPERIMENT_ID": None}
    assert os.environ["MLFLOW_RUN_ID"] == run_id  # restored
    data = client.get_run(run_id).data
    assert (data.tags["anxin_job"], data.tags["anxin_exit_code"]) == ("echo", "0")
    assert data.metrics == {"scored": 3.0}


def test_log_month_names_the_quarantine_and_the_output(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Month:  # what score_month and anxin.spark.score return, in short
        out_dir = tmp_path / "as_of=2026-06"
        summary = {  # noqa: RUF012
            "quarantine": {"rows": 3, "by_table": {"payroll": 3}},
            "scored": 10,
            "levels": {"red": 1},
        }

    log = logging.getLogger("pipelines.test")
    with caplog.at_level(logging.INFO, logger="pipelines.test"):
        jobs.log_month(Month(), log)
    warning, info = caplog.records
    assert warning.levelno == logging.WARNING
    assert "3 rows quarantined" in warning.getMessage()
    assert str(tmp_path / "as_of=2026-06" / "quarantine.csv") in warning.getMessage()
    assert info.getMessage().startswith(f"wrote {tmp_path / 'as_of=2026-06'}: 10 ")
    Month.summary["quarantine"]["rows"] = 0
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pipelines.test"):
        jobs.log_month(Month(), log)
    assert [r.levelno for r in caplog.records] == [logging.INFO]  # no warning
