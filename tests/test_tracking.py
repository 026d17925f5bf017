"""MLflow plumbing: where runs go, experiments, project runs, model lookup."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import mlflow
import pytest

import anxin
from anxin import InvalidParameterError, ModelNotFoundError, tracking


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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("sqlit:///x.db", "has a scheme MLflow does not know ('sqlit')"),
        ("notaurl://x", "has a scheme MLflow does not know ('notaurl')"),
        ("mlflow.db", "write it as 'sqlite:///mlflow.db'"),
        ("", "is empty"),
        ("sqlite:///x\x00.db", "NUL"),
        ("sqlite:///x\udcff.db", "not valid UTF-8"),
        ("http://", "names no host"),
        ("http://localhost:99999", "Port out of range"),
    ],
)
def test_a_mistyped_tracking_uri_is_refused_before_anything_is_created(
    uri: str, problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidParameterError, match=re.escape(problem)):
        tracking.resolve_tracking_uri(uri)
    assert list(tmp_path.iterdir()) == []


def test_the_environment_variable_is_checked_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlit:///x.db")
    with pytest.raises(InvalidParameterError, match=r"\(MLFLOW_TRACKING_URI\)"):
        tracking.resolve_tracking_uri()


@pytest.mark.parametrize(
    "uri",
    [
        "postgresql+psycopg://anxin@db.example/mlflow",
        "mysql://anxin@db.example/mlflow",
        "databricks",
        "file:///srv/mlruns",
        "./mlruns",
    ],
)
def test_uris_mlflow_supports_pass_without_io(uri: str) -> None:
    assert tracking.resolve_tracking_uri(uri) == uri


def test_a_server_that_does_not_answer_fails_fast() -> None:
    uri = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(ConnectionError, match="does not answer") as info:
        tracking.resolve_tracking_uri(uri)
    assert uri in str(info.value)


def test_a_sqlite_store_under_a_file_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    uri = f"sqlite:///{(tmp_path / 'afile' / 'mlflow.db').as_posix()}"
    with pytest.raises(InvalidParameterError, match="cannot be created"):
        tracking.resolve_tracking_uri(uri)


def test_reading_the_registry_never_creates_an_empty_store(tmp_path: Path) -> None:
    uri = f"sqlite:///{(tmp_path / 'deep' / 'mlfow.db').as_posix()}"  # a typo
    with pytest.raises(ModelNotFoundError, match="No MLflow store at"):
        tracking.resolve_tracking_uri(uri, create=False)
    with pytest.raises(ModelNotFoundError, match="No MLflow store at"):
        tracking.resolve_model("models:/anxin-arrears@champion", tracking_uri=uri)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("uri", ["no/such/bundle", "bundle-typo"])
def test_a_missing_local_model_is_not_looked_up_in_a_store(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelNotFoundError, match="there is no such directory"):
        tracking.resolve_model(uri)
    assert list(tmp_path.iterdir()) == []  # no .anxin/mlflow.db either


@pytest.mark.parametrize("uri", ["", "  ", "x\x00"])
def test_an_empty_model_uri_is_bad_input(uri: str) -> None:
    with pytest.raises(InvalidParameterError, match="empty or holds a NUL"):
        tracking.resolve_model(uri)
