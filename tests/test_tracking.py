"""MLflow plumbing: where runs go, experiments, project runs, model lookup."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
import pytest

import anxin
from anxin import ModelNotFoundError, tracking


def test_use_tracking_restores_where_mlflow_logs(
    tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///elsewhere.db")
    before = mlflow.get_tracking_uri()
    with tracking.use_tracking(tracking_uri) as uri:
        assert uri == tracking_uri
        assert mlflow.get_tracking_uri() == tracking_uri
        assert mlflow.get_registry_uri() == tracking_uri
    assert mlflow.get_tracking_uri() == before
    assert os.environ["MLFLOW_TRACKING_URI"] == "sqlite:///elsewhere.db"


def test_local_store_directory_is_created(tmp_path: Path) -> None:
    uri = f"sqlite:///{(tmp_path / 'deep' / 'er' / 'mlflow.db').as_posix()}"
    assert tracking.resolve_tracking_uri(uri) == uri
    assert (tmp_path / "deep" / "er").is_dir()


def test_experiments_are_created_once_with_local_artifacts(
    tracking_uri: str, tmp_path: Path
) -> None:
    with anxin.config_context(artifact_root=str(tmp_path / "art")):
        first = tracking.ensure_experiment("anxin-test", tracking_uri)
        again = tracking.ensure_experiment("anxin-test", tracking_uri)
    assert first == again
    exp = tracking.client(tracking_uri).get_experiment(first)
    assert exp.artifact_location == (tmp_path / "art" / "anxin-test").as_uri()


def test_runs_start_beside_a_project_run_and_name_it(
    tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_RUN_ID", "feedc0de")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", "999")
    with tracking.use_tracking(tracking_uri) as uri:
        exp = tracking.ensure_experiment("anxin-test", uri)
        with tracking.start_run(exp, "r", {"k": "v"}) as run:
            assert "MLFLOW_RUN_ID" not in os.environ
            run_id = run.info.run_id
    assert os.environ["MLFLOW_RUN_ID"] == "feedc0de"
    got = tracking.client(tracking_uri).get_run(run_id)
    assert got.info.experiment_id == exp
    assert got.data.tags["anxin_parent_run_id"] == "feedc0de"
    assert got.data.tags["k"] == "v"


def test_unknown_model_is_a_clear_error(tracking_uri: str) -> None:
    with pytest.raises(ModelNotFoundError, match="anxin train DATA_DIR"):
        tracking.resolve_model("models:/nothing@champion", tracking_uri=tracking_uri)


def test_a_local_directory_is_a_model(
    trained: tuple[anxin.TrainResult, str], tmp_path: Path
) -> None:
    trained[0].model.save(tmp_path / "bundle")
    found = tracking.resolve_model(str(tmp_path / "bundle"))
    assert (found.path, found.version) == (tmp_path / "bundle", "local")


def test_non_finite_metrics_are_not_logged() -> None:
    assert tracking.clean_metrics(
        {"ap": 0.5, "auc": float("nan"), "x": float("inf"), "n": 3}
    ) == {"ap": 0.5, "n": 3.0}
