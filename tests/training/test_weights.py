"""Row weights of a down-sampled frame: LightGBM, calibration, levels and the
headline metrics stand for the full population."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin.config import config_context
from anxin.exceptions import ContractError, InvalidParameterError
from anxin.metrics import evaluate
from anxin.training.preparation import prepare

SHARE = 0.25


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The full labelled frame and the same with 1 in 4 negatives kept (weight 4)."""
    with config_context(today="2026-11"):
        world = anxin.validate(anxin.synth(1500, 30, seed=5).tables).tables
    full = anxin.build_features(world)
    full["label"] = anxin.build_labels(world, horizon=3)["label"].to_numpy()
    full = full[full["label"].notna()].reset_index(drop=True)
    rng = np.random.default_rng(0)
    keep = (full["label"] == 1).to_numpy() | (rng.random(len(full)) < SHARE)
    sampled = full[keep].reset_index(drop=True)
    sampled["weight"] = np.where(sampled["label"] == 1, 1.0, 1 / SHARE)
    return full, sampled


@pytest.fixture(scope="module")
def fits(
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> dict[str, anxin.TrainResult]:
    full, sampled = frames
    options: dict[str, Any] = {"log": False, "num_boost_round": 40, "horizon": 3}
    one = anxin.train(full, **options)
    splits = one.splits  # the same months for all three
    return {
        "full": one,
        "weighted": anxin.train(sampled, weight="weight", splits=splits, **options),
        "unweighted": anxin.train(
            sampled.drop(columns="weight"), splits=splits, **options
        ),
    }


def _test(result: anxin.TrainResult, metric: str) -> float:
    """The model's test metric (weighted when the frame has weights)."""
    return float(result.comparison.loc["model", metric])


def test_weighted_base_rate_and_probabilities_are_the_full_datas(
    fits: dict[str, anxin.TrainResult], frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    full, weighted, unweighted = fits["full"], fits["weighted"], fits["unweighted"]
    rate = _test(full, "base_rate")
    assert _test(weighted, "base_rate") == pytest.approx(rate, rel=0.15)
    # without the weights the sampled frame looks ~4x as risky
    assert _test(unweighted, "base_rate") > 2.5 * rate
    # calibration on weighted validation rows: probabilities of the full data
    rows = frames[0]
    mean_p = {k: float(np.mean(r.model.predict_proba(rows))) for k, r in fits.items()}
    assert mean_p["weighted"] == pytest.approx(mean_p["full"], rel=0.25)
    assert mean_p["unweighted"] > 2.5 * mean_p["full"]
    # level thresholds from weighted validation shares: close to the full data's
    assert weighted.model.policy.red == pytest.approx(full.model.policy.red, rel=0.5)
    assert weighted.model.policy.yellow < unweighted.model.policy.yellow


def test_weighted_metrics_are_the_full_populations(
    fits: dict[str, anxin.TrainResult],
) -> None:
    full, weighted = fits["full"], fits["weighted"]
    assert _test(weighted, "rows") == pytest.approx(_test(full, "rows"), rel=0.05)
    assert _test(weighted, "positives") == _test(full, "positives")
    assert _test(weighted, "auc") == pytest.approx(_test(full, "auc"), abs=0.05)
    # the sampled rows alone would count a quarter of the negatives
    assert _test(fits["unweighted"], "rows") < 0.5 * _test(full, "rows")


def test_the_model_card_states_the_weights(
    fits: dict[str, anxin.TrainResult],
) -> None:
    card = fits["weighted"].card
    assert "weighted by the column `weight`" in card and "down-sampled" in card
    assert "down-sampled" not in fits["full"].card


def test_weighted_metrics_equal_repeated_rows() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(3000) < 0.1).astype(int)
    score = np.clip(0.1 + 0.3 * y + rng.normal(0, 0.2, y.size), 0, 1)
    months = rng.choice(["2026-01", "2026-02"], y.size)
    w = rng.integers(1, 4, y.size)
    rows = np.repeat(np.arange(y.size), w)
    weighted = evaluate(y, score, months, weight=w.astype(float))
    repeated = evaluate(y[rows], score[rows], months[rows])
    for key in ("auc", "ap", "ks", "brier", "log_loss", "base_rate", "rows"):
        assert weighted[key] == pytest.approx(repeated[key], rel=1e-9), key
    unit = evaluate(y, score, months, weight=np.ones(y.size))
    assert unit == pytest.approx(evaluate(y, score, months), rel=1e-12)


def test_bad_weights_are_refused(
    frames: tuple[pd.DataFrame, pd.DataFrame], tables: anxin.Tables
) -> None:
    _, sampled = frames
    bad = sampled.assign(weight=sampled["weight"].where(sampled.index != 3, -1.0))
    with pytest.raises(ContractError, match="'weight': a row weight must be"):
        prepare(bad, horizon=3, weight="weight")
    with pytest.raises(InvalidParameterError, match="contract tables have none"):
        prepare(tables, horizon=3, weight="weight")
    prep = prepare(sampled, horizon=3, weight="weight")
    assert "weight" not in prep.features
    assert prep.weight is not None and prep.weight.max() == 1 / SHARE
