"""Training: splits, fitting, calibration, baselines, determinism, MLflow."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import anxin
from anxin import InvalidParameterError, Tables, make_splits, train
from anxin._calendar import index_to_periods, to_index
from anxin.calibration import Calibrator
from anxin.exceptions import NotFittedError


def _months(n: int, start: str = "2022-01") -> list[str]:
    s = to_index(start)
    return list(index_to_periods(np.arange(s, s + n)))


@given(
    horizon=st.integers(1, 6),
    valid=st.integers(1, 4),
    test=st.integers(1, 4),
    extra=st.integers(0, 24),
)
def test_splits_keep_a_horizon_gap(
    horizon: int, valid: int, test: int, extra: int
) -> None:
    n = 6 + valid + test + 2 * horizon + extra
    splits = make_splits(
        _months(n), horizon=horizon, valid_months=valid, test_months=test
    )
    tr_end, va_lo, va_hi, te_lo = (
        to_index(splits.train[1]),
        to_index(splits.valid[0]),
        to_index(splits.valid[1]),
        to_index(splits.test[0]),
    )
    # no training label window (t, t+h] reaches the validation months, and
    # exactly h months lie between the splits
    assert tr_end + horizon < va_lo and va_lo - tr_end - 1 == horizon
    assert va_hi + horizon < te_lo and te_lo - va_hi - 1 == horizon
    assert splits.test[1] == _months(n)[-1]
    assert va_hi - va_lo + 1 == valid
    assigned = splits.assign(np.array(_months(n)))
    assert (assigned == "test").sum() == test
    assert (assigned == "").sum() == 2 * horizon


def test_too_little_history_is_explained() -> None:
    with pytest.raises(InvalidParameterError, match="Not enough labelled history"):
        make_splits(_months(12), horizon=3)


def test_result_and_baselines(trained: tuple[anxin.TrainResult, str]) -> None:
    result, _ = trained
    m = result.metrics
    for key in (
        "test_auc",
        "test_ap",
        "test_ks",
        "test_brier",
        "test_log_loss",
        "test_recall_at_1pct",
        "test_recall_at_3pct",
        "test_recall_at_5pct",
        "test_recall_at_10pct",
        "test_precision_at_5pct",
        "rules_test_ap",
        "rules_test_recall_at_5pct",
        "logreg_test_ap",
        "valid_ap",
    ):
        assert key in m and np.isfinite(m[key]), key
    assert list(result.comparison.index) == ["model", "rules", "logreg"]
    # the model beats today's rules on the same out-of-time months
    assert m["test_ap"] > m["rules_test_ap"]
    assert m["test_recall_at_5pct"] >= m["rules_test_recall_at_5pct"]
    assert set(result.slices) == {"industry", "region"}
    assert result.slices["region"]["rows"].sum() == m["test_rows"]
    assert result.lift["rows"].sum() == m["test_rows"]
    assert result.lift["lift"].iloc[0] > 2
    assert "Model card" in result.card and "Limitations" in result.card


def test_calibrated_on_validation(
    trained: tuple[anxin.TrainResult, str], model_world: Tables
) -> None:
    result, _ = trained
    feats = anxin.build_features(model_world)
    labels = anxin.build_labels(model_world, horizon=3)
    split = result.splits.assign(feats["period"])
    # fitted on validation: Platt scaling matches the observed count exactly
    valid = split == "valid"
    p_valid = result.model.predict_proba(feats[valid])
    y_valid = labels["label"][valid].to_numpy(dtype=float)
    assert p_valid.sum() == pytest.approx(y_valid.sum(), rel=1e-3)
    # out of time (a different season) it stays within a factor of two
    test = split == "test"
    p_test = result.model.predict_proba(feats[test])
    y_test = labels["label"][test].to_numpy(dtype=float)
    assert abs(np.log(p_test.sum() / y_test.sum())) < np.log(2)
    # and it ranks: the top decile's risk is far above the bottom half's
    top = p_test >= np.quantile(p_test, 0.9)
    assert y_test[top].mean() > 5 * y_test[p_test < np.median(p_test)].mean()


def test_levels_cover_the_configured_shares(
    trained: tuple[anxin.TrainResult, str], model_world: Tables
) -> None:
    result, _ = trained
    feats = anxin.build_features(model_world)
    valid = result.splits.assign(feats["period"]) == "valid"
    levels = result.model.levels(result.model.predict_proba(feats[valid]))
    share = pd.Series(levels).value_counts(normalize=True)
    assert share.get("red", 0) == pytest.approx(0.01, abs=0.004)
    assert share.get("orange", 0) == pytest.approx(0.02, abs=0.006)
    assert share.get("yellow", 0) == pytest.approx(0.05, abs=0.01)


def test_same_seed_same_model(model_world: Tables) -> None:
    a = train(model_world, seed=7, log=False, num_boost_round=60)
    b = train(model_world, seed=7, log=False, num_boost_round=60)
    assert a.model.booster.model_to_string() == b.model.booster.model_to_string()
    assert a.metrics.keys() == b.metrics.keys()
    assert pd.Series(a.metrics).equals(pd.Series(b.metrics))  # NaN == NaN here
    assert a.model.calibrator.to_dict() == b.model.calibrator.to_dict()


def test_refit_uses_train_and_validation(model_world: Tables) -> None:
    plain = train(model_world, seed=1, log=False, num_boost_round=80)
    refit = train(model_world, seed=1, log=False, num_boost_round=80, refit=True)
    assert refit.model.spec.info["refit"] is True
    assert refit.model.booster.current_iteration() == plain.best_iteration
    assert (
        refit.model.booster.model_to_string() != plain.model.booster.model_to_string()
    )
    assert refit.model.calibrator.to_dict() == plain.model.calibrator.to_dict()


def test_prepared_frame_with_custom_columns(model_world: Tables) -> None:
    feats = anxin.build_features(model_world)
    labels = anxin.build_labels(model_world)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "company": feats["enterprise_id"],
            "month": feats["period"],
            "y": labels["label"],
            "si_gap_months_6m": feats["si_gap_months_6m"],
            "complaints_3m": feats["complaints_3m"],
            "local_hotline_calls": feats["complaints_6m"]
            + rng.poisson(0.1, len(feats)),
            "industry": feats["industry"].astype(str),
        }
    )
    result = train(
        frame,
        entity="company",
        period="month",
        label="y",
        log=False,
        num_boost_round=50,
    )
    spec = result.model.spec
    assert spec.features == [
        "si_gap_months_6m",
        "complaints_3m",
        "local_hotline_calls",
        "industry",
    ]
    assert "C" in spec.categorical["industry"]
    assert "rules_test_ap" in result.metrics  # complaints_3m and si rules apply
    # an unknown column explains itself by its name
    assert (
        spec.catalogue["local_hotline_calls"].reason_en
        == "local_hotline_calls: {value}"
    )
    assert spec.catalogue["complaints_3m"].group == "complaints"


def test_prepared_frame_without_keys() -> None:
    with pytest.raises(anxin.ContractError, match=r"column\(s\) \['month'\] missing"):
        train(
            pd.DataFrame({"enterprise_id": ["a"], "label": [1], "x": [1.0]}),
            period="month",
            log=False,
        )


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"horizon": 0}, "horizon"),
        ({"calibration": "platt"}, "calibration"),
        ({"tune": -1}, "tune"),
        ({"alert_volume": 1.5}, "alert_volume"),
    ],
)
def test_bad_parameters(
    model_world: Tables, kwargs: dict[str, object], name: str
) -> None:
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of train"):
        train(model_world, log=False, **kwargs)  # type: ignore[arg-type]


def test_calibrator_recovers_sigmoid_and_round_trips() -> None:
    rng = np.random.default_rng(1)
    margin = rng.normal(size=20_000)
    y = rng.random(20_000) < 1 / (1 + np.exp(-(1.5 * margin - 2)))
    for method in ("sigmoid", "isotonic"):
        cal = Calibrator(method).fit(margin, y)  # type: ignore[arg-type]
        again = Calibrator.from_dict(cal.to_dict())
        np.testing.assert_array_equal(cal.transform(margin), again.transform(margin))
        p = cal.transform(np.sort(margin))
        assert (np.diff(p) >= 0).all()
    sig = Calibrator().fit(margin, y)
    assert sig.params_["a"] == pytest.approx(1.5, abs=0.1)
    with pytest.raises(NotFittedError, match="not fitted"):
        Calibrator().transform(margin)


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


def test_optuna_search_is_seeded(model_world: Tables) -> None:
    a = train(model_world, tune=3, seed=4, log=False, num_boost_round=40)
    b = train(model_world, tune=3, seed=4, log=False, num_boost_round=40)
    params = a.model.booster.params
    assert 15 <= int(params["num_leaves"]) <= 127
    assert 0.02 <= float(params["learning_rate"]) <= 0.2
    assert params["num_leaves"] != 15 or params["learning_rate"] != 0.05  # searched
    assert a.model.booster.model_to_string() == b.model.booster.model_to_string()
