"""The MLflow run of a training: what it holds, against a real SQLite store."""

from __future__ import annotations

import json
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
        "levels.png",
        "months.png",
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


SERIES = ("test_auc_by_month", "test_ap_by_month")


def test_the_headline_metrics_are_logged_as_computed(
    trained: tuple[anxin.TrainResult, str],
) -> None:
    result, uri = trained
    logged = mlflow.MlflowClient(uri, uri).get_run(result.run_id).data.metrics
    finite = {k: v for k, v in result.metrics.items() if np.isfinite(v)}
    assert set(logged) == set(finite) | set(SERIES)  # NaN metrics are dropped
    assert {k: logged[k] for k in finite} == pytest.approx(finite)
    # an analyst's set, not every figure: the rest is in tables/
    assert len(logged) <= 40
    assert not any("__" in k or k.startswith("valid_auc") for k in logged)
    for scorer in ("test_", "rules_test_", "logreg_test_"):
        for name in ("auc", "gini", "ap", "ks", "brier", "recall_at_5pct"):
            assert scorer + name in logged, scorer + name


def test_auc_and_ap_per_test_month_are_series(
    trained: tuple[anxin.TrainResult, str],
) -> None:
    result, uri = trained
    client = mlflow.MlflowClient(uri, uri)
    model = result.monthly[result.monthly["scorer"] == "model"]
    for name, column in zip(SERIES, ("auc", "ap"), strict=True):
        history = client.get_metric_history(result.run_id, name)
        assert [m.step for m in history] == [0, 1, 2]  # one step per test month
        assert [m.value for m in history] == pytest.approx(model[column].tolist())
        stamps = [pd.Timestamp(m.timestamp, unit="ms") for m in history]
        assert [t.strftime("%Y-%m") for t in stamps] == model["month"].tolist()
        assert stamps[0].strftime("%Y-%m") == result.splits.test[0]


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
    assert (params["refit"], params["tune_trials"]) == ("True", "0")  # the default
    assert params["n_features"] == str(len(result.model.spec.features))
    assert tags["mlflow.runName"] == result.run_name
    assert (
        result.run_name
        == f"lgbm-h3-{splits.train[0]}..{splits.test[1]}-sigmoid-refit-seed3"
    )
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
    # the description says what it is and links its run and card
    description = mv.description
    assert description.startswith("**LightGBM, horizon 3 months**, trained on ")
    assert mv.tags["data_window"] in description
    assert f"test {result.splits.test[0]}..{result.splits.test[1]}" in description
    assert f"vs rules {result.metrics['rules_test_ap']:.3f}" in description
    assert "| AP (PR-AUC) |" in description
    run = mlflow.MlflowClient(uri, uri).get_run(result.run_id)
    exp = run.info.experiment_id
    assert (
        f"[Training run {result.run_name}](#/experiments/{exp}/runs/"
        f"{result.run_id}?workflowType=machine_learning)"
    ) in description
    assert (
        f"[Model card](#/experiments/{exp}/runs/{result.run_id}/artifacts/"
        "model_card.md?workflowType=machine_learning)"
    ) in description


def test_the_run_describes_itself_against_the_rules(
    trained: tuple[anxin.TrainResult, str],
) -> None:
    result, uri = trained
    note = (
        mlflow.MlflowClient(uri, uri)
        .get_run(result.run_id)
        .data.tags["mlflow.note.content"]
    )
    first = note.splitlines()[0]
    m = result.metrics
    assert first == (
        f"AP {m['test_ap']:.3f} vs rules {m['rules_test_ap']:.3f} "
        f"({m['test_ap'] / m['rules_test_ap']:.1f}x) · AUC {m['test_auc']:.3f} "
        f"(Gini {m['test_gini']:.3f}) · recall at 5% "
        f"{m['test_recall_at_5pct']:.3f} vs rules {m['rules_test_recall_at_5pct']:.3f}"
    )
    assert "| test, out of time | model | rules | logreg |" in note
    assert f"ECE {m['test_ece']:.4f}" in note
    assert "Warning levels on test: red " in note
    assert f"Per test month (AUC/AP): {result.splits.test[0]} " in note


def test_the_training_experiment_opens_on_runs(
    trained: tuple[anxin.TrainResult, str],
) -> None:
    result, uri = trained
    client = mlflow.MlflowClient(uri, uri)
    run = client.get_run(result.run_id)
    tags = client.get_experiment(run.info.experiment_id).tags
    assert tags["mlflow.experimentKind"] == "custom_model_development"
    assert tags["mlflow.note.content"].startswith("**Training runs of the wage")
    view = json.loads(tags["mlflow.sharedViewState.anxin-headline"])
    assert "metrics.`test_ap`" in view["selectedColumns"]


def test_an_unregistered_run_in_another_experiment(
    model_world: anxin.Tables, tracking_uri: str
) -> None:
    result = anxin.train(
        model_world,
        num_boost_round=30,
        tracking_uri=tracking_uri,
        experiment="elsewhere",
        register=False,
        run_name="fewer rounds",
    )
    assert result.run_id and result.model_version is None and result.aliases == []
    client = mlflow.MlflowClient(tracking_uri, tracking_uri)
    run = client.get_run(result.run_id)
    assert run.info.run_name == result.run_name == "fewer rounds"
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "elsewhere"
    # any experiment anxin trains into is a training experiment
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert "mlflow.sharedViewState.anxin-headline" in experiment.tags
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
        "tables/months.csv",
        "tables/levels.csv",
        "tables/calibration_bins.csv",
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
