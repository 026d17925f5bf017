"""pipelines/spark_monthly_scoring.py on local Spark: the monthly job's files,
summary and cases, and one machine's scores."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest

import anxin
from anxin.config import config_context
from anxin.scoring import month_dir
from anxin.spark import read_scores
from tests.spark.conftest import AS_OF, TODAY

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


@pytest.fixture(scope="module")
def job() -> Any:
    """The job script, imported the way ``python pipelines/X.py`` sees it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(PIPELINES))
        return importlib.import_module("spark_monthly_scoring")


@contextlib.contextmanager
def _process_state() -> Iterator[None]:
    """Undo the job's logging setup and the MLflow URIs it leaves behind."""
    root = logging.getLogger()
    names = (None, "anxin", "pipelines", "py.warnings", "mlflow", "alembic")
    levels = {n: logging.getLogger(n).level for n in names}
    handlers = list(root.handlers)
    uris = {
        k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    }
    try:
        yield
    finally:
        logging.captureWarnings(False)
        for h in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(h)
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)
        mlflow.set_tracking_uri(uris["MLFLOW_TRACKING_URI"])  # type: ignore[arg-type]
        for key, value in uris.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _config(path: Path, score: dict[str, Any], cases_db: Path | None) -> Path:
    lines = ["[score]"] + [f"{k} = {json.dumps(v)}" for k, v in score.items()]
    lines += ["[score.policy]", 'kind = "quota"', "red = 0.02", "orange = 0.03"]
    lines += ["yellow = 0.05", 'by = "region"']
    if cases_db is not None:
        lines += ["[cases]", f'url = "sqlite:///{cases_db.as_posix()}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_job_scores_the_month_as_one_machine_and_opens_cases(
    job: Any,
    spark: Any,
    spark_model: Path,
    dirty_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    score = {
        "data_dir": str(dirty_dir),
        "out_dir": "out",
        "model": str(spark_model),
        "log": False,
    }
    config = _config(tmp_path / "anxin.toml", score, tmp_path / "cases.db")
    with config_context(today=TODAY, home=str(tmp_path / "home")), _process_state():
        assert job.main(["--config", str(config), "--as-of", AS_OF, "-q"]) == 0
        summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        local = anxin.score_month(
            dirty_dir,
            tmp_path / "local",
            as_of=AS_OF,
            model=str(spark_model),
            log=False,
            policy={"kind": "quota", "red": 0.02, "orange": 0.03, "yellow": 0.05},
        )
    month = month_dir(tmp_path / "out", AS_OF)
    assert summary["status"] == "ok" and summary["as_of"] == AS_OF
    assert {p.name for p in month.iterdir()} >= {
        "scores.parquet",
        "summary.json",
        "drift.csv",
        "quarantine.csv",
    }
    scores = read_scores(month / "scores.parquet").sort_values("enterprise_id")
    one = local.scores.sort_values("enterprise_id")
    assert len(scores) == summary["scored"] == len(one)
    gap = np.abs(scores["risk_score"].to_numpy() - one["risk_score"].to_numpy())
    assert gap.max() <= 1e-9
    # the config's policy (quotas by region) was applied
    assert json.loads((month / "summary.json").read_text())["policy"]["by"] == "region"
    flagged = read_scores(month / "scores.parquet", flagged=True)
    assert len(flagged) == int((scores["risk_level"] != "none").sum()) > 0
    assert summary["cases"] == {"opened": len(flagged), "escalated": 0, "unchanged": 0}


def test_a_csv_encoding_is_a_config_error(
    job: Any, spark: Any, spark_model: Path, dirty_dir: Path, tmp_path: Path
) -> None:
    score = {
        "data_dir": str(dirty_dir),
        "out_dir": "out",
        "model": str(spark_model),
        "encoding": "gbk",
    }
    config = _config(tmp_path / "anxin.toml", score, None)
    with _process_state():
        assert job.main(["--config", str(config), "--as-of", AS_OF, "-q"]) == 2
    assert not (tmp_path / "out").exists()


def test_read_scores_flagged_reads_the_warnings_only(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"enterprise_id": ["a", "b", "c"], "risk_level": ["red", "none", "yellow"]}
    )
    frame["rank"] = [1, 3, 2]
    frame.to_parquet(tmp_path / "scores.parquet")
    got = read_scores(tmp_path / "scores.parquet", flagged=True)
    assert got["enterprise_id"].tolist() == ["a", "c"]
