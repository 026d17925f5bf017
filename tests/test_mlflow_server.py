"""Training against real MLflow servers, and the MLflow UI over a trained store.

* ``mlflow server`` with a fresh PostgreSQL database as backend store and
  proxied artifacts: :func:`anxin.train` logs the run and registers the model
  through the REST API, exactly as a team deployment would; the experiment's
  kind, the run's name, description, metric set and per-month series, the
  versions' descriptions, and a promotion's comparison run with its report
  and bootstrap intervals arrive there too.
* ``mlflow ui`` over a local SQLite store: the pages and REST calls the run
  page and the registered-model page make answer with the run's data, and
  headless Chromium opening the experiment page lands on the training runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from _browser import Chromium, chromium_or_skip
from _servers import MLFLOW, Server, running_server
from mlflow import MlflowClient

import anxin
from anxin import _mlflow_ui, tracking
from anxin.config import config_context

pytestmark = pytest.mark.slow

NAME = "anxin-arrears"
CORE_METRICS = [
    "test_ap",
    "test_auc",
    "test_recall_at_5pct",
    "test_precision_at_5pct",
    "valid_ap",
    "rules_test_ap",
    "rules_test_recall_at_5pct",
    "logreg_test_ap",
]
PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


@pytest.fixture(scope="module")
def small_tables() -> anxin.Tables:
    """A world small enough to train in seconds (validated)."""
    with config_context(today="2026-11"):
        return anxin.validate(anxin.synth(2000, 30, seed=3).tables).tables


@pytest.fixture(scope="module")
def last_features(small_tables: anxin.Tables) -> pd.DataFrame:
    last = str(small_tables.payroll["period"].astype("str").max())
    return anxin.build_features(small_tables, as_of=last)


@pytest.fixture
def pg_server(pg_url: str, tmp_path: Path) -> Iterator[Server]:
    """``mlflow server`` on a fresh PostgreSQL database, artifacts proxied."""
    artifacts = tmp_path / "server-artifacts"
    with running_server(
        "mlflow-server",
        lambda port: [
            MLFLOW,
            "server",
            "--backend-store-uri",
            pg_url,
            "--artifacts-destination",
            str(artifacts),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        log_dir=tmp_path / "logs",
        health="/health",
    ) as server:
        yield server


def _train(
    tables: anxin.Tables, uri: str, home: Path, **kwargs: Any
) -> anxin.TrainResult:
    with config_context(home=str(home), today="2026-11"):
        return anxin.train(tables, tracking_uri=uri, n_jobs=2, **kwargs)


def _walk_model(model_dir: Path) -> list[Path]:
    """Every file of a downloaded model; fails on anything pickled."""
    files = sorted(p for p in model_dir.rglob("*") if p.is_file())
    for path in files:
        assert path.suffix not in (".pkl", ".pickle", ".joblib"), path
        with path.open("rb") as fh:
            assert not fh.read(2).startswith(PICKLE_MAGIC), f"{path} is a pickle"
    mlmodel = (model_dir / "MLmodel").read_text("utf-8")
    assert "python_model:" not in mlmodel  # a pickled PythonModel would be named
    assert "loader_module: mlflow.pyfunc.loaders.code_model" in mlmodel
    return files


# ---------------------------------------------------------------------------
# mlflow server + PostgreSQL
# ---------------------------------------------------------------------------


@pytest.mark.postgres
def test_train_logs_run_to_postgres_backed_server(
    pg_server: Server,
    pg_url: str,
    small_tables: anxin.Tables,
    last_features: pd.DataFrame,
    tmp_path: Path,
) -> None:
    """Metrics, tags, dataset, artifacts and a pickle-free model reach the server."""
    uri = pg_server.url
    result = _train(small_tables, uri, tmp_path / ".anxin", register=False)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.get_run(result.run_id)

    assert run.info.status == "FINISHED"
    for key in CORE_METRICS:
        assert key in run.data.metrics, key
        assert run.data.metrics[key] == pytest.approx(result.metrics[key])
        assert 0 <= run.data.metrics[key] <= 1
    tags = run.data.tags
    assert tags["anxin_version"] == anxin.__version__
    assert tags["horizon"] == "3"
    # what the UI shows first: the kind, a name that says what differs, the
    # description, a small metric set and AUC/AP per test month
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert "mlflow.sharedViewState.anxin-headline" in experiment.tags
    splits = result.splits
    assert run.info.run_name == result.run_name
    window = f"{splits.train[0]}..{splits.test[1]}"
    assert result.run_name.startswith(f"lgbm-h3-{window}-sigmoid")
    assert tags["mlflow.note.content"].startswith(f"AP {result.metrics['test_ap']:.3f}")
    assert len(run.data.metrics) <= 40
    for series in ("test_auc_by_month", "test_ap_by_month"):
        history = client.get_metric_history(result.run_id, series)
        assert [m.step for m in history] == [0, 1, 2], series
    assert re.fullmatch(r"[0-9a-f]{16}", tags["data_fingerprint"])
    assert re.fullmatch(r"\d{4}-\d{2}\.\.\d{4}-\d{2}", tags["data_window"])
    assert run.data.params["horizon"] == "3"
    datasets = run.inputs.dataset_inputs
    assert [d.dataset.digest for d in datasets] == [tags["data_fingerprint"]]

    top = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"model_card.md", "plots", "tables"} <= top
    plots = {a.path for a in client.list_artifacts(result.run_id, "plots")}
    assert {"plots/roc.png", "plots/pr.png", "plots/lift.png"} <= plots
    card = client.download_artifacts(result.run_id, "model_card.md", str(tmp_path))
    assert Path(card).read_text("utf-8") == result.card
    # proxied artifacts land in the server's --artifacts-destination
    stored = {p.name for p in (tmp_path / "server-artifacts").rglob("*") if p.is_file()}
    assert {"model_card.md", "roc.png", "booster.txt", "MLmodel"} <= stored

    with tracking.use_tracking(uri):  # models:/ URIs resolve in the global store
        model_dir = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=result.model_uri, dst_path=str(tmp_path / "model")
            )
        )
    names = {p.relative_to(model_dir).as_posix() for p in _walk_model(model_dir)}
    assert {
        "MLmodel",
        "_pyfunc_model.py",
        "artifacts/booster.txt",
        "artifacts/spec.json",
        "artifacts/policy.json",
    } <= names

    loaded = anxin.load_model(result.model_uri, tracking_uri=uri)
    np.testing.assert_allclose(
        loaded.predict_proba(last_features),
        result.model.predict_proba(last_features),
        atol=1e-12,
    )

    # the server's backend store really is the PostgreSQL database
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            runs = conn.execute(sa.text("SELECT run_uuid FROM runs")).scalars().all()
    finally:
        engine.dispose()
    assert runs == [result.run_id]


@pytest.mark.postgres
def test_registry_champion_and_challenger_on_postgres_backed_server(
    pg_server: Server,
    small_tables: anxin.Tables,
    last_features: pd.DataFrame,
    tmp_path: Path,
) -> None:
    """First model: champion + challenger; the second only challenger."""
    uri = pg_server.url
    home = tmp_path / ".anxin"
    first = _train(small_tables, uri, home)
    assert first.model_version == "1"
    assert sorted(first.aliases) == ["challenger", "champion"]
    second = _train(small_tables, uri, home, seed=1)
    assert second.model_version == "2"
    assert second.aliases == ["challenger"]

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert client.get_registered_model(NAME).aliases == {
        "champion": "1",
        "challenger": "2",
    }
    champion = client.get_model_version_by_alias(NAME, "champion")
    assert (champion.version, champion.run_id) == ("1", first.run_id)
    assert float(champion.tags["test_ap"]) == pytest.approx(
        first.metrics["test_ap"], abs=1e-5
    )
    assert client.get_run(second.run_id).data.tags["registered_version"] == "2"

    answer = pg_server.get(f"/api/2.0/mlflow/registered-models/get?name={NAME}")
    assert answer.status == 200, answer.text
    aliases = {
        a["alias"]: a["version"] for a in answer.json()["registered_model"]["aliases"]
    }
    assert aliases == {"champion": "1", "challenger": "2"}

    for alias, result in (("champion", first), ("challenger", second)):
        loaded = anxin.load_model(f"models:/{NAME}@{alias}", tracking_uri=uri)
        assert loaded.version == result.model_version
        np.testing.assert_allclose(
            loaded.predict_proba(last_features),
            result.model.predict_proba(last_features),
            atol=1e-12,
        )
        out = anxin.explain(last_features, model=loaded)
        assert len(out) == len(last_features)
        assert (out["model_version"] == result.model_version).all()

    # each version describes itself and links its run and model card
    exp_id = client.get_run(first.run_id).info.experiment_id
    description = client.get_model_version(NAME, "1").description
    assert f"/runs/{first.run_id}/artifacts/model_card.md?workflowType=" in description
    assert description.startswith("**LightGBM, horizon 3 months**")

    # promotion: a comparison run with its report and intervals, on the server
    with config_context(home=str(home), today="2026-11"):
        decision = anxin.promote(small_tables, tracking_uri=uri, n_boot=200)
    assert decision.comparison_run_id and decision.intervals is not None
    run = client.get_run(decision.comparison_run_id)
    assert client.get_experiment(run.info.experiment_id).name == "anxin-comparisons"
    assert run.info.run_name == f"challenger v2 vs champion v1 {_window(decision)}"
    for metric in ("ap", "auc", "recall_at_5pct"):
        low, high = (run.data.metrics[f"diff_{metric}_{e}"] for e in ("low", "high"))
        assert low == pytest.approx(decision.intervals.loc[metric, "low"])
        assert low <= run.data.metrics[f"diff_{metric}"] <= high
    files = {a.path for a in client.list_artifacts(decision.comparison_run_id)}
    assert {"report.html", "report.md", "plots", "tables"} <= files
    page = client.download_artifacts(
        decision.comparison_run_id, "report.html", str(tmp_path)
    )
    assert "data:image/png;base64," in Path(page).read_text("utf-8")
    verdict = "promoted" if decision.promoted else "not promoted"
    for version in ("1", "2"):
        text = client.get_model_version(NAME, version).description
        assert f"challenger v2 vs champion v1 -- {verdict}." in text
        link = _mlflow_ui.run_link(
            run.info.experiment_id,
            decision.comparison_run_id,
            uri,
            artifact="report.html",
        )
        assert f"[Comparison report]({link})" in text
    assert exp_id != run.info.experiment_id


def _window(decision: anxin.PromotionDecision) -> str:
    return f"{decision.months[0]}..{decision.months[-1]}"


# ---------------------------------------------------------------------------
# mlflow ui
# ---------------------------------------------------------------------------


GET_RUN = """
query GetRun($data: MlflowGetRunInput!) {
  mlflowGetRun(input: $data) {
    apiError { code message }
    run {
      info { runUuid status runName }
      modelVersions { name version }
      data { metrics { key value } tags { key value } }
      outputs { modelOutputs { modelId } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def trained_ui(
    small_tables: anxin.Tables, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[anxin.TrainResult, Server]]:
    """A model trained into a SQLite store, and ``mlflow ui`` over the store."""
    tmp_path = tmp_path_factory.mktemp("ui")
    home = tmp_path / ".anxin"
    store = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    result = _train(small_tables, store, home)
    with running_server(
        "mlflow-ui",
        lambda port: [
            MLFLOW,
            "ui",
            "--backend-store-uri",
            store,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        log_dir=tmp_path / "logs",
        env={"ANXIN_HOME": str(home)},
    ) as ui:
        yield result, ui


def test_mlflow_ui_renders_the_run_and_registered_model(
    trained_ui: tuple[anxin.TrainResult, Server],
) -> None:
    """``mlflow ui`` over the store serves the app and the run page's data.

    The run page is the single-page app at ``/`` (``#/experiments/<id>/runs/
    <run>`` is a client-side route); it loads its JS bundle, then asks the
    GraphQL ``mlflowGetRun`` query and the ``ajax-api`` endpoints checked here.
    """
    result, ui = trained_ui
    run_id = result.run_id
    page = ui.get("/")
    assert page.status == 200 and "<title>MLflow</title>" in page.text
    main_js = r'src="(static-files/static/js/main\.[^"]+\.js)"'
    bundles = re.findall(main_js, page.text)
    assert bundles, page.text[:500]
    script = ui.get("/" + bundles[0])
    assert script.status == 200 and len(script.text) > 100_000

    got = ui.get(f"/ajax-api/2.0/mlflow/runs/get?run_id={run_id}")
    assert got.status == 200, got.text
    metrics = {m["key"]: m["value"] for m in got.json()["run"]["data"]["metrics"]}
    assert metrics["test_ap"] == pytest.approx(result.metrics["test_ap"])

    graph = ui.post(
        "/graphql", {"query": GET_RUN, "variables": {"data": {"runId": run_id}}}
    )
    assert graph.status == 200, graph.text
    data = graph.json()["data"]["mlflowGetRun"]
    assert data["apiError"] is None, data
    assert data["run"]["info"]["status"] == "FINISHED"
    assert {m["key"] for m in data["run"]["data"]["metrics"]} >= set(CORE_METRICS)
    assert {"name": NAME, "version": "1"} in data["run"]["modelVersions"]
    model_ids = [m["modelId"] for m in data["run"]["outputs"]["modelOutputs"]]
    assert model_ids == [result.model_uri.removeprefix("models:/")]

    listed = ui.get(f"/ajax-api/2.0/mlflow/artifacts/list?run_id={run_id}")
    assert listed.status == 200, listed.text
    assert {f["path"] for f in listed.json()["files"]} >= {
        "model_card.md",
        "plots",
        "tables",
    }
    plots = ui.get(f"/ajax-api/2.0/mlflow/artifacts/list?run_id={run_id}&path=plots")
    assert "plots/roc.png" in {f["path"] for f in plots.json()["files"]}
    card = ui.get(f"/get-artifact?path=model_card.md&run_uuid={run_id}")
    assert card.status == 200 and card.text == result.card
    logged = ui.get(f"/ajax-api/2.0/mlflow/logged-models/{model_ids[0]}")
    assert logged.status == 200, logged.text

    registered = ui.get(f"/api/2.0/mlflow/registered-models/get?name={NAME}")
    assert registered.status == 200, registered.text
    body = registered.json()["registered_model"]
    assert {a["alias"]: a["version"] for a in body["aliases"]} == {
        "champion": "1",
        "challenger": "1",
    }
    versions = ui.get(
        "/ajax-api/2.0/mlflow/model-versions/search?filter=" + f"name%3D%27{NAME}%27"
    )
    assert versions.status == 200, versions.text
    [version] = versions.json()["model_versions"]
    assert (version["version"], version["run_id"]) == ("1", run_id)


def test_the_experiment_page_opens_on_the_training_runs(
    trained_ui: tuple[anxin.TrainResult, Server],
) -> None:
    """Headless Chromium, a fresh profile (a new user's browser), the link
    anxin gives for the experiment: MLflow shows the training runs with the
    headline metrics, not the GenAI traces overview."""
    binary = chromium_or_skip()
    result, ui = trained_ui
    client = MlflowClient(ui.url, ui.url)
    exp_id = client.get_run(str(result.run_id)).info.experiment_id
    with Chromium(binary) as page:
        page.open(_mlflow_ui.experiment_link(exp_id, ui.url))
        text = page.wait_for([str(result.run_name), "matching run"], timeout=120)
        url = page.url()
        assert f"#/experiments/{exp_id}/runs" in url, url
        assert "workflowType=machine_learning" in url
        assert "Training runs of the wage-arrears risk model" in text
        assert "test_ap" in text and "rules_test_ap" in text  # the headline columns
        for genai in ("Detect Issues", "Usage", "Tool calls"):
            assert genai not in text, genai
        # the run's page: its description against the rules
        page.open(_mlflow_ui.run_link(exp_id, str(result.run_id), ui.url))
        text = page.wait_for(["vs rules", str(result.run_name)], timeout=120)
        assert f"AP {result.metrics['test_ap']:.3f} vs rules" in text
