"""Tests for anxin.cases.reporting: field performance in MLflow."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from anxin.cases import CaseStore, log_field_performance
from anxin.config import config_context

from .helpers import T0, verified_world


# MLflow's own SQLAlchemy models trigger a deprecation warning under SA 2.1.
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning")
def test_log_field_performance_to_mlflow(
    store: CaseStore, enterprises: pd.DataFrame, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    verified_world(store, enterprises)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    with config_context(artifact_root=tmp_path / "artifacts"):
        run_id = log_field_performance(store, tracking_uri=uri, now=T0)
    run = MlflowClient(uri).get_run(run_id)
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    assert metrics["field_hit_rate"] == pytest.approx(0.6)
    assert metrics["field_hit_rate_red"] == pytest.approx(2 / 3)
    assert metrics["field_hit_rate_orange"] == pytest.approx(0.5)
    assert metrics["field_verified"] == 5
    assert metrics["field_hit_rate/anxin-arrears/v1"] == pytest.approx(0.6)
    assert run.data.tags["anxin.kind"] == "field-performance"
    assert run.data.tags["anxin.models"] == "anxin-arrears:1"
    experiment = MlflowClient(uri).get_experiment(run.info.experiment_id)
    assert experiment.name == "anxin-field"


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning")
def test_field_runs_go_where_every_anxin_run_goes(
    store: CaseStore,
    enterprises: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The experiment is made by tracking.ensure_experiment (artifacts under
    the artifact root) and the run by tracking.start_run (beside, not inside,
    the run of an ``mlflow run`` project)."""
    import os

    from mlflow.tracking import MlflowClient

    verified_world(store, enterprises)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_RUN_ID", "0123456789abcdef")
    root = tmp_path / "artifacts"
    with config_context(artifact_root=root):
        first = log_field_performance(store, tracking_uri=uri, now=T0)
        second = log_field_performance(store, uri, "field-other", now=T0)
    assert os.environ["MLFLOW_RUN_ID"] == "0123456789abcdef"
    client = MlflowClient(uri)
    run = client.get_run(first)
    assert run.data.tags["anxin_parent_run_id"] == "0123456789abcdef"
    assert run.info.run_name == "field-2026-06-05"
    assert run.data.tags["anxin.at"] == "2026-06-05 09:00:00"
    assert "sqlite:///" in run.data.tags["anxin.cases_db"]
    assert run.data.tags["mlflow.note.content"].startswith("Hit rate of warnings")
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.artifact_location == (root / "anxin-field").resolve().as_uri()
    other = client.get_experiment(client.get_run(second).info.experiment_id)
    assert other.name == "field-other"
    assert other.experiment_id != experiment.experiment_id
