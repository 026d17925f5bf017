"""Evaluation: the model beside the baselines, lift, slices, importance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin.levels import LevelPolicy
from anxin.metrics import evaluate
from anxin.training.baselines import RuleBaseline
from anxin.training.evaluation import (
    HEADLINE,
    MIN_SLICE_POSITIVES,
    ScoresOnTest,
    evaluate_scores,
    feature_importance,
    flat_metrics,
    monthly_series,
    slice_tables,
)
from anxin.training.splits import SplitData, SplitRows


def test_result_and_baselines(trained: tuple[anxin.TrainResult, str]) -> None:
    result, _ = trained
    m = result.metrics
    for key in (
        "test_auc",
        "test_gini",
        "test_ap",
        "test_ks",
        "test_brier",
        "test_recall_at_5pct",
        "test_precision_at_5pct",
        "test_ece",
        "test_calibration_slope",
        "test_calibration_intercept",
        "test_red_precision",
        "test_red_recall",
        "test_red_volume",
        "rules_test_ap",
        "rules_test_recall_at_5pct",
        "logreg_test_ap",
        "valid_ap",
    ):
        assert key in m and np.isfinite(m[key]), key
    comparison = result.comparison
    for key in ("log_loss", "recall_at_1pct", "recall_at_3pct", "recall_at_10pct"):
        assert np.isfinite(comparison.loc["model", key]), key
    assert list(comparison.index) == ["model", "rules", "logreg"]
    # the model beats today's rules on the same out-of-time months
    assert m["test_ap"] > m["rules_test_ap"]
    assert m["test_recall_at_5pct"] >= m["rules_test_recall_at_5pct"]
    assert m["test_gini"] == pytest.approx(2 * m["test_auc"] - 1)
    rows = comparison.loc["model", "rows"]
    assert set(result.slices) == {"industry", "region"}
    assert result.slices["region"]["rows"].sum() == rows
    assert result.lift["rows"].sum() == rows
    assert result.lift["lift"].iloc[0] > 2
    assert "Model card" in result.card and "Limitations" in result.card
    # levels as the model assigns them, and the months of the test split
    assert result.levels["level"].tolist() == ["red", "orange", "yellow"]
    assert result.levels["rows"].sum() <= rows
    assert m["test_red_precision"] > m["test_yellow_precision"]
    months = result.monthly
    assert set(months["scorer"]) == {"model", "rules", "logreg"}
    model_months = months[months["scorer"] == "model"]
    assert model_months["month"].iloc[0] == result.splits.test[0]
    assert model_months["month"].iloc[-1] == result.splits.test[1]
    assert model_months["rows"].sum() == rows


def _split(n: int, seed: int, **columns: object) -> SplitRows:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(np.int8)
    y[:2] = [0, 1]
    x = pd.DataFrame({"f": rng.normal(size=n), **columns})
    months = np.where(np.arange(n) % 2, "2024-02", "2024-01")
    return SplitRows(x, y, months)


def _scores(y: np.ndarray, rules: bool, seed: int = 0) -> ScoresOnTest:
    rng = np.random.default_rng(seed)
    model = np.clip(0.5 * y + 0.6 * rng.random(len(y)), 0.01, 0.99)
    points = (y * 2 + rng.integers(0, 2, len(y))).astype(float)
    base = RuleBaseline(points, points / 4 + 1e-9 * points, rng.random(len(y)))
    return ScoresOnTest(model, base if rules else None, rng.random(len(y)))


def test_model_and_baselines_are_evaluated_on_the_same_rows() -> None:
    test = _split(400, 0, industry=np.repeat(["C", "F"], 200))
    data = SplitData(_split(50, 1), _split(300, 2), test)
    scores = _scores(test.y, rules=True)
    valid_score = np.linspace(0.01, 0.9, 300)
    ev = evaluate_scores(data, scores, valid_score=valid_score)
    assert list(ev.comparison.index) == ["model", "rules", "logreg"]
    assert ev.test == evaluate(test.y, scores.model, test.months)
    assert ev.valid == evaluate(data.valid.y, valid_score, data.valid.months)
    assert scores.rules is not None
    assert ev.rules == evaluate(
        test.y, scores.rules.probability, test.months, tiebreak=scores.rules.tiebreak
    )
    assert ev.comparison.loc["logreg", "ap"] == pytest.approx(ev.logreg["ap"])
    assert ev.lift["rows"].sum() == 400
    # slices: by industry when the data have it, one "all" slice otherwise
    assert ev.slices["industry"]["industry"].tolist() == ["C", "F"]
    assert ev.slices["industry"]["rows"].tolist() == [200, 200]
    assert ev.slices["region"]["region"].tolist() == ["all"]
    assert scores.curves().keys() == {"model", "logreg", "rules"}
    np.testing.assert_array_equal(scores.curves()["rules"], scores.rules.points)


def test_without_rules_the_comparison_has_two_rows() -> None:
    test = _split(200, 0)
    data = SplitData(test, test, test)
    scores = _scores(test.y, rules=False)
    ev = evaluate_scores(data, scores, valid_score=scores.model)
    assert ev.rules is None
    assert list(ev.comparison.index) == ["model", "logreg"]
    assert scores.curves().keys() == {"model", "logreg"}
    metrics = flat_metrics(ev, best_iteration=12)
    assert not any(k.startswith("rules_") for k in metrics)


def test_flat_metrics_are_the_headline_figures() -> None:
    test = _split(
        400,
        0,
        industry=np.repeat(["C", "F"], 200),
        region=np.repeat(["330502", "330521"], 200),
    )
    data = SplitData(test, test, test)
    policy = LevelPolicy("threshold", red=0.9, orange=0.7, yellow=0.5)
    ev = evaluate_scores(
        data,
        _scores(test.y, rules=True),
        valid_score=test.y * 0.5,
        policy=policy,
        alert_volume=0.02,
    )
    metrics = flat_metrics(ev, best_iteration=12)
    headline = (*HEADLINE, "recall_at_2pct", "precision_at_2pct")
    for prefix, source in (
        ("test_", ev.test),
        ("rules_test_", ev.rules),
        ("logreg_test_", ev.logreg),
    ):
        assert source is not None
        for name in headline:
            assert metrics[prefix + name] == pytest.approx(source[name], nan_ok=True)
    assert "test_log_loss" not in metrics and "test_rows" not in metrics
    assert metrics["test_ece"] == ev.calibration["ece"]
    assert metrics["test_calibration_slope"] == ev.calibration["calibration_slope"]
    levels = ev.levels.set_index("level")
    for level in ("red", "orange", "yellow"):
        for what in ("precision", "recall", "volume"):
            assert metrics[f"test_{level}_{what}"] == pytest.approx(
                levels.loc[level, what], nan_ok=True
            )
    industry = ev.slices["industry"]
    counted = industry[industry["positives"] >= MIN_SLICE_POSITIVES]
    assert metrics["test_auc_worst_industry"] == counted["auc"].min()
    assert metrics["valid_ap"] == ev.valid["ap"]
    assert metrics["best_iteration"] == 12.0
    assert all(isinstance(v, float) for v in metrics.values())
    assert len(metrics) <= 40
    series = monthly_series(ev)
    assert list(series) == ["test_auc_by_month", "test_ap_by_month"]
    assert [month for month, _ in series["test_ap_by_month"]] == ["2024-01", "2024-02"]
    jan = test.months == "2024-01"
    model_score = _scores(test.y, rules=True).model
    expected = evaluate(test.y[jan], model_score[jan], test.months[jan])
    assert series["test_auc_by_month"][0][1] == pytest.approx(expected["auc"])


def test_slice_tables_cover_every_test_row() -> None:
    test = _split(300, 0, region=np.repeat(["a", "b", "c"], 100))
    tables = slice_tables(test, np.random.default_rng(0).random(300))
    assert tables["region"]["rows"].sum() == 300
    assert tables["region"]["positives"].sum() == test.y.sum()


def test_feature_importance(
    quick: anxin.TrainResult, model_world: anxin.Tables
) -> None:
    model = quick.model
    x = anxin.build_features(model_world, as_of="2025-12")[model.spec.features]
    imp, groups = feature_importance(model, x, seed=0, max_rows=500)
    assert sorted(imp["feature"]) == sorted(model.spec.features)
    assert imp["mean_abs_shap"].is_monotonic_decreasing
    assert (imp["mean_abs_shap"] >= 0).all()
    np.testing.assert_array_equal(
        imp.set_index("feature").loc[model.spec.features, "gain"],
        model.booster.feature_importance("gain"),
    )
    assert sorted(groups["group"]) == sorted(model.spec.groups())
    assert groups["mean_abs_shap"].is_monotonic_decreasing
    # a group's value is that of the sum of its features' contributions: never
    # more than the sum of their mean |SHAP|
    per_group = imp.groupby("group")["mean_abs_shap"].sum()
    for rec in groups.itertuples():
        assert rec.mean_abs_shap <= per_group[rec.group] + 1e-12
    # seeded sample
    again, _ = feature_importance(model, x, seed=0, max_rows=500)
    pd.testing.assert_frame_equal(imp, again)
