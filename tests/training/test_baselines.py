"""The baselines: today's rule score and a logistic regression."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from anxin.rules import BUREAU_RULES, rule_score
from anxin.training.baselines import (
    fit_logistic_regression,
    logistic_regression_baseline,
    logistic_regression_scores,
    own_baseline,
    rule_baseline,
    signed_log,
)
from anxin.training.splits import SplitRows


def _rule_rows(n: int, seed: int, columns: list[str] | None = None) -> SplitRows:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            "si_gap_streak": rng.integers(0, 4, n),
            "headcount_chg_1m": rng.normal(0, 0.2, n),
            "electricity_chg_1m": rng.normal(0, 0.4, n),
            "tax_arrears": rng.exponential(1, n) * (rng.random(n) < 0.2),
            "complaints_3m": rng.poisson(0.3, n),
            "pay_delay_days": rng.integers(0, 60, n),
            "lawsuits_3m": rng.poisson(0.1, n),
            "other": rng.normal(size=n),
        }
    )
    if columns is not None:
        x = x[columns]
    points = rule_score(x, tuple(r for r in BUREAU_RULES if r.feature in x))
    y = (rng.random(n) < 0.02 + 0.04 * points).astype(np.int8)
    return SplitRows(x, y, np.full(n, "2024-01"))


def test_rule_baseline_is_the_rule_score_calibrated_on_validation() -> None:
    valid, test = _rule_rows(4000, 0), _rule_rows(3000, 1)
    base = rule_baseline(valid, test, seed=3)
    assert base is not None
    np.testing.assert_array_equal(base.points, rule_score(test.x))
    # calibrated: probabilities, never lower for more points, ties nudged apart
    assert ((base.probability > 0) & (base.probability < 1)).all()
    order = np.argsort(base.points, kind="stable")
    assert (np.diff(base.probability[order]) >= 0).all()
    assert base.probability.mean() == pytest.approx(test.y.mean(), abs=0.02)
    # a seeded shuffle orders ties, not the row order
    again = rule_baseline(valid, test, seed=3)
    other = rule_baseline(valid, test, seed=4)
    assert again is not None and other is not None
    np.testing.assert_array_equal(base.tiebreak, again.tiebreak)
    assert not np.array_equal(base.tiebreak, other.tiebreak)
    assert base.tiebreak.shape == (len(test.x),)


def test_rules_whose_feature_is_missing_are_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cols = ["complaints_3m", "lawsuits_3m", "other"]
    valid, test = _rule_rows(2000, 0, cols), _rule_rows(2000, 1, cols)
    with caplog.at_level(logging.INFO, "anxin.training.baselines"):
        base = rule_baseline(valid, test, seed=0)
    assert base is not None
    expected = 2 * (test.x["complaints_3m"] >= 1) + 2 * (test.x["lawsuits_3m"] >= 1)
    np.testing.assert_array_equal(base.points, expected.to_numpy(dtype=float))
    (record,) = caplog.records
    assert record.levelno == logging.INFO  # told, not warned about
    assert "si_gap_streak" in record.getMessage()
    assert "those rules are left out" in record.getMessage()


def test_without_any_rule_feature_there_is_no_rule_baseline_and_no_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    valid, test = _rule_rows(500, 0, ["other"]), _rule_rows(500, 1, ["other"])
    with caplog.at_level(logging.INFO, "anxin.training.baselines"):
        assert rule_baseline(valid, test, seed=0) is None
    assert "no rule baseline" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_own_baseline_is_the_callers_score_ranked_like_the_rules() -> None:
    valid, test = _rule_rows(3000, 0), _rule_rows(2000, 1)
    frame = pd.concat([valid.x, test.x], ignore_index=True)
    score = rule_score(frame) * 10.0 - 7  # any scale, any sign
    valid = SplitRows(frame.iloc[:3000], valid.y, valid.months)
    test = SplitRows(frame.iloc[3000:], test.y, test.months)
    own = own_baseline(score, valid, test, seed=0)
    assert own is not None and own_baseline(None, valid, test, seed=0) is None
    np.testing.assert_array_equal(own.points, score[3000:])
    rules = rule_baseline(valid, test, seed=0)
    assert rules is not None
    # the same ranking and probabilities as the rules (the same points, scaled)
    np.testing.assert_allclose(own.probability, rules.probability, atol=1e-8)
    assert ((own.probability >= 0) & (own.probability < 1)).all()
    # a row without a score ranks lowest
    score[3005] = np.nan
    own = own_baseline(score, valid, test, seed=0)
    assert own is not None and own.points[5] < np.nanmin(score)


def _mixed_rows(n: int, seed: int, sectors: tuple[str, ...]) -> SplitRows:
    rng = np.random.default_rng(seed)
    debt = rng.lognormal(2, 1.5, n) * np.where(rng.random(n) < 0.5, 1, -1)
    debt[rng.random(n) < 0.1] = np.nan  # missing values are imputed
    sector = pd.Categorical(rng.choice(sectors, n), categories=sorted(sectors))
    logit = -3 + 0.8 * np.nan_to_num(signed_log(debt)) + (sector == sectors[0]) * 1.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    x = pd.DataFrame({"debt": debt, "sector": sector})
    return SplitRows(x, y, np.full(n, "2024-01"))


def test_logistic_regression_learns_numeric_and_categorical_signal() -> None:
    train, test = _mixed_rows(5000, 0, ("a", "b")), _mixed_rows(2000, 1, ("a", "b"))
    score = logistic_regression_baseline(
        train, test, features=["debt", "sector"], categorical=["sector"], seed=0
    )
    assert score.shape == (2000,) and ((score > 0) & (score < 1)).all()
    assert roc_auc_score(test.y, score) > 0.75
    again = logistic_regression_baseline(
        train, test, features=["debt", "sector"], categorical=["sector"], seed=0
    )
    np.testing.assert_array_equal(score, again)


def test_logistic_regression_samples_large_data_and_ignores_new_levels() -> None:
    train, test = _mixed_rows(3000, 0, ("a", "b")), _mixed_rows(500, 1, ("a", "c"))
    kwargs = {"features": ["debt", "sector"], "categorical": ["sector"]}
    small = fit_logistic_regression(train.x, train.y, seed=1, max_rows=400, **kwargs)
    full = fit_logistic_regression(train.x, train.y, seed=1, **kwargs)
    assert small.named_steps["pre"].n_features_in_ == 2
    a = logistic_regression_scores(small, test.x, **kwargs)
    b = logistic_regression_scores(full, test.x, **kwargs)
    assert np.isfinite(a).all() and not np.allclose(a, b)  # a sample, not all rows


def test_signed_log_keeps_the_sign() -> None:
    np.testing.assert_allclose(
        signed_log(np.array([-(np.e - 1), 0.0, np.e - 1])), [-1.0, 0.0, 1.0]
    )
