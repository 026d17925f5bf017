"""The MLflow run of a training: what it holds, against a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

import anxin
from anxin import tracking
from anxin.training.preparation import Prepared
from anxin.training.run_logging import run_params, write_run_files


def test_mlflow_run_has_everything(trained: tuple[anxin.TrainResult, str]) -> None:
    result, uri = trained
    client = mlflow.MlflowClient(uri, uri)
    run = client.get_run(result.run_id)
    assert run.data.metrics["test_ap"] == pytest.approx(result.metrics["test_ap"])
    assert "rules_test_ap" in run.data.metrics and "logreg_test_auc" in run.data.metrics
    for tag in (
        "data_fingerprint",
        "anxin_version",
        "horizon",
        "data_window",
        "rows",
        "positives",
    ):
        assert run.data.tags[tag]
    assert run.data.params["horizon"] == "3"
    assert (
        run.inputs.dataset_inputs[0].dataset.digest == run.data.tags["data_fingerprint"]
    )
    paths = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"model_card.md", "plots", "tables"} <= paths
    plots = {Path(a.path).name for a in client.list_artifacts(result.run_id, "plots")}
    assert {
        "roc.png",
        "pr.png",
        "calibration.png",
        "lift.png",
        "feature_importance.png",
        "shap_features.png",
        "shap_groups.png",
    } <= plots
    mv = client.get_model_version_by_alias("anxin-arrears", "champion")
    assert str(mv.version) == result.model_version
    assert (
        client.get_model_version_by_alias("anxin-arrears", "challenger").version
        == mv.version
    )


def test_model_artifacts_hold_no_pickle(
    trained: tuple[anxin.TrainResult, str], tmp_path: Path
) -> None:
    result, uri = trained
    mlflow.set_tracking_uri(uri)
    local = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/anxin-arrears/{result.model_version}",
            dst_path=str(tmp_path),
        )
    )
    files = [p for p in local.rglob("*") if p.is_file()]
    assert any(p.name == "booster.txt" for p in files)
    for p in files:
        assert p.suffix not in (".pkl", ".pickle", ".joblib", ".cloudpickle"), p
        head = p.read_bytes()[:2]
        assert not (
            head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
        ), p
    # and the bundle loads back to the same predictions
    model = anxin.load_model(str(local))
    feats = anxin.build_features(anxin.synth(200, 14, seed=2).tables, as_of="2026-06")
    np.testing.assert_allclose(
        model.predict_proba(feats), result.model.predict_proba(feats)
    )


def test_every_finite_metric_is_logged_as_computed(
    trained: tuple[anxin.TrainResult, str],
) -> None:
    result, uri = trained
    logged = mlflow.MlflowClient(uri, uri).get_run(result.run_id).data.metrics
    finite = {k: v for k, v in result.metrics.items() if np.isfinite(v)}
    assert set(logged) == set(finite)  # NaN metrics (empty slices) are dropped
    assert logged == pytest.approx(finite)
    assert any(not np.isfinite(v) for v in result.metrics.values())


def test_the_run_records_parameters_tags_and_name(
    trained: tuple[anxin.TrainResult, str],
) -> None:
    result, uri = trained
    run = mlflow.MlflowClient(uri, uri).get_run(result.run_id)
    params, tags, splits = run.data.params, run.data.tags, result.splits
    assert params["lgb_num_leaves"] == "15" and params["lgb_max_depth"] == "6"
    assert params["lgb_seed"] == "3" and "lgb_metric" not in params
    assert params["split_train"] == "..".join(splits.train)
    assert params["split_test"] == "..".join(splits.test)
    assert params["calibration"] == "sigmoid"
    assert params["level_shares"] == "0.01,0.02,0.05"
    assert params["volumes"] == "0.01,0.03,0.05,0.1"
    assert params["best_iteration"] == str(result.best_iteration)
    assert (params["refit"], params["tune_trials"]) == ("False", "0")
    assert params["n_features"] == str(len(result.model.spec.features))
    assert tags["mlflow.runName"] == f"train-{splits.test[1]}-h3"
    assert tags["splits"] == str(splits) and tags["source"] == "tables"
    assert tags["alert_volume"] == "0.05"
    assert tags["data_window"] == "..".join(result.model.spec.info["data_window"])
    assert (tags["registered_model"], tags["registered_version"]) == (
        "anxin-arrears",
        result.model_version,
    )


def test_the_run_holds_the_tables_and_the_card(
    trained: tuple[anxin.TrainResult, str], tmp_path: Path
) -> None:
    result, uri = trained
    with tracking.use_tracking(uri):
        local = Path(
            mlflow.artifacts.download_artifacts(
                run_id=result.run_id, artifact_path="", dst_path=str(tmp_path)
            )
        )
    assert (local / "model_card.md").read_text("utf-8") == result.card
    comparison = pd.read_csv(local / "tables" / "metrics_comparison.csv")
    assert comparison["model"].tolist() == ["model", "rules", "logreg"]
    np.testing.assert_allclose(
        comparison.set_index("model")["ap"], result.comparison["ap"]
    )
    lift = pd.read_csv(local / "tables" / "lift.csv")
    pd.testing.assert_frame_equal(lift, result.lift, check_dtype=False)
    for kind in ("industry", "region"):
        assert len(pd.read_csv(local / "tables" / f"slices_{kind}.csv")) == len(
            result.slices[kind]
        )
    importance = pd.read_csv(local / "tables" / "feature_importance.csv")
    assert importance["feature"].tolist() == result.importance["feature"].tolist()


def test_the_registered_version_is_tagged_with_its_figures(
    trained: tuple[anxin.TrainResult, str],
) -> None:
    result, uri = trained
    mv = mlflow.MlflowClient(uri, uri).get_model_version(
        "anxin-arrears", str(result.model_version)
    )
    assert mv.run_id == result.run_id
    assert mv.tags["test_ap"] == f"{result.metrics['test_ap']:.5f}"
    assert mv.tags["rules_test_ap"] == f"{result.metrics['rules_test_ap']:.5f}"
    assert mv.tags["promotion_decision"] == "first model: champion by default"


def test_an_unregistered_run_in_another_experiment(
    model_world: anxin.Tables, tracking_uri: str
) -> None:
    result = anxin.train(
        model_world,
        num_boost_round=30,
        tracking_uri=tracking_uri,
        experiment="elsewhere",
        register=False,
    )
    assert result.run_id and result.model_version is None and result.aliases == []
    client = mlflow.MlflowClient(tracking_uri, tracking_uri)
    run = client.get_run(result.run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "elsewhere"
    assert "registered_model" not in run.data.tags
    assert client.search_registered_models() == []


def test_run_files_and_params_without_mlflow(
    quick: anxin.TrainResult, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.1).astype(int)
    write_run_files(tmp_path, quick, y, {"model": rng.random(300)})
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")}
    assert {
        "model_card.md",
        "plots/roc.png",
        "tables/metrics_comparison.csv",
        "tables/lift.csv",
        "tables/slices_industry.csv",
        "tables/slices_region.csv",
        "tables/feature_importance.csv",
        "tables/group_importance.csv",
    } <= written
    prep_params = run_params(
        quick,
        Prepared(pd.DataFrame(), quick.model.spec.features, {}, {}, "tables"),
        {"num_leaves": 15, "metric": ["auc"], "verbose": -1, "x": "y" * 600},
        calibration="isotonic",
        level_shares=(0.02, 0.03, 0.05),
        tune=2,
    )
    assert prep_params["lgb_num_leaves"] == "15"
    assert "lgb_metric" not in prep_params and "lgb_verbose" not in prep_params
    assert len(prep_params["lgb_x"]) == 500  # MLflow's limit
    assert prep_params["calibration"] == "isotonic"
    assert prep_params["level_shares"] == "0.02,0.03,0.05"
    assert prep_params["tune_trials"] == "2"
