"""Metrics of a risk score: alert volumes per month, lift, slices."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from anxin.metrics import (
    VOLUMES,
    calibration_bins,
    calibration_stats,
    evaluate,
    gini,
    level_table,
    lift_table,
    monthly_metrics,
    slice_metrics,
)


def test_headline_metrics_match_their_definitions() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.1).astype(int)
    score = np.clip(0.3 * y + rng.random(2000) * 0.7, 0.001, 0.999)
    m = evaluate(y, score, np.zeros(2000))
    assert m["rows"] == 2000 and m["positives"] == y.sum()
    assert m["base_rate"] == pytest.approx(y.mean())
    assert m["auc"] == pytest.approx(roc_auc_score(y, score))
    assert m["ap"] == pytest.approx(average_precision_score(y, score))
    assert m["brier"] == pytest.approx(np.mean((score - y) ** 2))
    expected_ll = -np.mean(y * np.log(score) + (1 - y) * np.log(1 - score))
    assert m["log_loss"] == pytest.approx(expected_ll)
    assert 0 < m["ks"] <= 1
    for v in VOLUMES:
        pct = f"{round(v * 100)}pct"
        assert f"recall_at_{pct}" in m and f"precision_at_{pct}" in m


def test_alert_volumes_are_taken_per_month() -> None:
    # month A scores everything higher than month B: a pooled top 50% would
    # take only A, the monthly one takes the top half of each
    y = np.array([1, 0, 0, 0, 0, 1, 0, 0])
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1])
    months = np.array(["A"] * 4 + ["B"] * 4)
    m = evaluate(y, score, months, volumes=(0.5,))
    # flagged: A's 0.9, 0.8 and B's 0.4, 0.3 -> both positives caught
    assert m["recall_at_50pct"] == 1.0
    assert m["precision_at_50pct"] == 0.5


def test_volumes_round_up_within_each_month() -> None:
    # 10 rows a month: top 5% of a month is one row (ceil of 0.5)
    y = np.zeros(20, dtype=int)
    y[[0, 10]] = 1
    score = np.tile(np.linspace(1, 0.1, 10), 2)
    months = np.repeat(["A", "B"], 10)
    m = evaluate(y, score, months, volumes=(0.05,))
    assert m["recall_at_5pct"] == 1.0 and m["precision_at_5pct"] == 1.0


def test_ties_are_broken_by_the_tiebreak_not_the_row_order() -> None:
    y = np.array([0, 0, 0, 1])
    score = np.full(4, 0.5)
    months = np.zeros(4)
    by_row = evaluate(y, score, months, volumes=(0.25,))
    assert by_row["recall_at_25pct"] == 0.0  # the first row wins the tie
    tiebreak = np.array([0.1, 0.2, 0.3, 0.9])  # higher first
    broken = evaluate(y, score, months, tiebreak=tiebreak, volumes=(0.25,))
    assert broken["recall_at_25pct"] == 1.0


def test_one_class_gives_nan_ranking_metrics() -> None:
    m = evaluate(np.zeros(5, dtype=int), np.linspace(0, 1, 5), np.zeros(5))
    assert np.isnan(m["auc"]) and np.isnan(m["ap"]) and np.isnan(m["ks"])
    assert np.isnan(m["recall_at_5pct"])  # no positives to recall
    assert m["precision_at_5pct"] == 0.0
    assert m["brier"] == pytest.approx(np.mean(np.linspace(0, 1, 5) ** 2))


def test_lift_table_bins_from_the_top() -> None:
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    table = lift_table(y, score, n_bins=5)
    assert table["decile"].tolist() == [1, 2, 3, 4, 5]
    assert table["rows"].tolist() == [2] * 5
    assert table["positives"].tolist() == [2, 0, 1, 0, 0]
    assert table["rate"].tolist() == [1.0, 0.0, 0.5, 0.0, 0.0]
    assert table["lift"].iloc[0] == pytest.approx(1.0 / 0.3)
    assert table["cum_recall"].tolist() == pytest.approx([2 / 3, 2 / 3, 1, 1, 1])
    assert table["mean_score"].iloc[0] == pytest.approx(0.85)


def test_slice_metrics_evaluate_each_group() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(600) < 0.2).astype(int)
    score = rng.random(600)
    months = np.zeros(600)
    groups = np.repeat(["b", "a", "c"], 200)
    table = slice_metrics(y, score, months, groups, "region")
    assert table["region"].tolist() == ["a", "b", "c"]
    assert table.columns.tolist() == [
        "region",
        "rows",
        "positives",
        "base_rate",
        "auc",
        "ap",
        "brier",
        "recall_at_5pct",
    ]
    a = groups == "a"
    expected = evaluate(y[a], score[a], months[a], volumes=(0.05,))
    row = table.set_index("region").loc["a"]
    assert row["rows"] == 200 and row["positives"] == y[a].sum()
    assert row["auc"] == pytest.approx(expected["auc"])
    assert row["recall_at_5pct"] == pytest.approx(expected["recall_at_5pct"])


def test_gini_is_twice_the_auc_above_chance() -> None:
    y = np.array([0, 0, 1, 1])
    m = evaluate(y, np.array([0.1, 0.6, 0.5, 0.9]), np.zeros(4))
    assert m["gini"] == pytest.approx(2 * m["auc"] - 1) == pytest.approx(gini(0.75))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def test_calibration_numbers_have_their_known_values() -> None:
    rng = np.random.default_rng(3)
    true = _expit(rng.normal(-4, 1.2, 200_000))
    y = (rng.random(true.size) < true).astype(int)
    right = calibration_stats(y, true)
    assert right["calibration_slope"] == pytest.approx(1, abs=0.03)
    assert right["calibration_intercept"] == pytest.approx(0, abs=0.03)
    assert right["ece"] < 0.002
    # too extreme: logit doubled -> the slope halves
    extreme = calibration_stats(y, _expit(2 * _logit(true)))
    assert extreme["calibration_slope"] == pytest.approx(0.5, abs=0.02)
    # twice the odds everywhere -> the intercept is -log 2
    high = calibration_stats(y, _expit(_logit(true) + np.log(2)))
    assert high["calibration_intercept"] == pytest.approx(-np.log(2), abs=0.03)
    assert high["calibration_slope"] == pytest.approx(1, abs=0.03)
    assert high["ece"] > 5 * right["ece"]
    one_class = calibration_stats(np.zeros(10), np.full(10, 0.1))
    assert all(np.isnan(v) for v in one_class.values())


def test_calibration_bins_equal_counts_or_given_edges() -> None:
    y = np.array([0, 1, 0, 0, 1, 1])
    score = np.array([0.01, 0.02, 0.03, 0.2, 0.3, 0.9])
    equal = calibration_bins(y, score, 3)
    assert equal["rows"].tolist() == [2, 2, 2]
    assert equal["observed"].tolist() == [0.5, 0.0, 1.0]
    edged = calibration_bins(y, score, edges=np.array([0.01, 0.1, 1.0]))
    assert edged["rows"].tolist() == [3, 3]
    assert edged["positives"].tolist() == [1, 2]
    assert edged["predicted"].iloc[1] == pytest.approx((0.2 + 0.3 + 0.9) / 3)


def test_monthly_metrics_are_those_of_each_month() -> None:
    rng = np.random.default_rng(2)
    y = (rng.random(900) < 0.2).astype(int)
    score = rng.random(900) + 0.3 * y
    months = np.repeat(["2026-03", "2026-01", "2026-02"], 300)
    table = monthly_metrics(y, score, months, volume=0.1)
    assert table["month"].tolist() == ["2026-01", "2026-02", "2026-03"]
    feb = months == "2026-02"
    expected = evaluate(y[feb], score[feb], months[feb], volumes=(0.1,))
    row = table.set_index("month").loc["2026-02"]
    assert row["auc"] == pytest.approx(expected["auc"])
    assert row["ap"] == pytest.approx(expected["ap"])
    assert row["recall_at_10pct"] == pytest.approx(expected["recall_at_10pct"])
    assert row["rows"] == 300


def test_level_table_counts_each_level_and_from_the_top() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 1, 0])
    levels = np.array(["red", "red", "orange", "orange", "yellow"] + ["none"] * 5)
    months = np.repeat(["A", "B"], 5)
    table = level_table(y, levels, months).set_index("level")
    assert table["rows"].tolist() == [2, 2, 1]
    assert table["per_month"].tolist() == [1.0, 1.0, 0.5]
    assert table["precision"].tolist() == [1.0, 0.5, 0.0]
    assert table["recall"].tolist() == [0.5, 0.25, 0.0]
    assert table.loc["yellow", "cum_recall"] == 0.75
    assert table.loc["orange", "cum_precision"] == 0.75
    assert table.loc["yellow", "cum_volume"] == 0.5
