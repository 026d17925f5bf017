"""Fitting: LightGBM with early stopping on log loss, search, refit, calibration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

import anxin
from anxin import Tables, train
from anxin.training import DEFAULT_PARAMS
from anxin.training.fitting import (
    best_iteration,
    fit_booster,
    fit_model,
    lightgbm_params,
    refit_booster,
    shrink,
)
from anxin.training.splits import SplitData, SplitRows

ROOT = Path(__file__).parents[2]


def _rows(n: int, seed: int) -> SplitRows:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"f{i}" for i in range(5)])
    p = 1 / (1 + np.exp(-(x["f0"] - 2.5)))
    y = (rng.random(n) < p).astype(int)
    return SplitRows(x, np.asarray(y), np.full(n, "2024-01"))


def _params(**over: object) -> dict[str, object]:
    return lightgbm_params({"learning_rate": 0.3, **over}, seed=0, n_jobs=1)


def _settled(losses: list[float], rounds: int) -> int | None:
    """The round early stopping on log loss alone keeps: its best round once
    it has gone ``rounds`` rounds without improving."""
    best = (float("inf"), 0)
    for it, value in enumerate(losses):
        if value < best[0]:
            best = (value, it)
        if it - best[1] >= rounds:
            return best[1] + 1
    return None


def test_early_stopping_watches_log_loss_alone() -> None:
    # AP and AUC are reported, but only the log loss (the first metric) stops
    train_rows, valid = _rows(4000, 0), _rows(2000, 1)
    params = _params(learning_rate=0.1, min_data_in_leaf=20)
    booster = fit_booster(
        params, train_rows.x, train_rows.y, rounds=500, valid=valid, early_stopping=15
    )
    best = best_iteration(booster)
    assert booster.current_iteration() == best  # the booster keeps the best rounds
    curves: dict[str, Any] = {}
    train_set = lgb.Dataset(train_rows.x, train_rows.y)
    lgb.train(
        params,
        train_set,
        num_boost_round=best + 15,
        valid_sets=[lgb.Dataset(valid.x, valid.y, reference=train_set)],
        callbacks=[lgb.record_evaluation(curves)],
    )
    valid_curves = curves["valid_0"]
    assert list(valid_curves) == ["binary_logloss", "average_precision", "auc"]
    losses = valid_curves["binary_logloss"]
    assert best == _settled(losses, 15)
    assert min(losses) == losses[best - 1]


def test_without_validation_every_round_is_fitted() -> None:
    rows = _rows(1000, 2)
    booster = fit_booster(_params(), rows.x, rows.y, rounds=7)
    assert booster.current_iteration() == best_iteration(booster) == 7


def test_shrink_keeps_the_first_trees() -> None:
    rows = _rows(1000, 3)
    booster = fit_booster(_params(), rows.x, rows.y, rounds=20)
    small = shrink(booster, 8)
    assert small.current_iteration() == 8
    np.testing.assert_array_equal(
        small.predict(rows.x), booster.predict(rows.x, num_iteration=8)
    )
    assert shrink(booster, 20) is booster


def test_refit_fits_train_and_validation_for_exactly_the_rounds() -> None:
    train_rows, valid = _rows(1000, 4), _rows(500, 5)
    data = SplitData(train_rows, valid, valid)
    booster = refit_booster(_params(), data, rounds=11)
    assert booster.current_iteration() == 11
    both = fit_booster(
        _params(),
        pd.concat([train_rows.x, valid.x]),
        np.concatenate([train_rows.y, valid.y]),
        rounds=11,
    )
    assert booster.model_to_string() == both.model_to_string()


def test_params_override_the_defaults_and_carry_seed_and_threads() -> None:
    params = lightgbm_params({"num_leaves": 31, "seed": 99}, seed=1, n_jobs=3)
    assert params["num_leaves"] == 31 and params["max_depth"] == 6
    assert params["seed"] == 1 and params["num_threads"] == 3
    assert DEFAULT_PARAMS["num_leaves"] == 15  # the defaults are untouched


def test_the_docs_describe_the_defaults() -> None:
    # docs/training.md quotes anxin.training.DEFAULT_PARAMS: say what it holds
    doc = " ".join((ROOT / "docs" / "training.md").read_text("utf-8").split())
    assert "`anxin.training.DEFAULT_PARAMS`" in doc
    leaves, depth = DEFAULT_PARAMS["num_leaves"], DEFAULT_PARAMS["max_depth"]
    assert f"{leaves} leaves and a depth of at most {depth}" in doc
    assert f"at least {DEFAULT_PARAMS['min_data_in_leaf']} rows per leaf" in doc
    assert f"L2 = {DEFAULT_PARAMS['lambda_l2']:g} at" in doc
    # early stopping watches the first metric alone: what the docs and
    # train's docstring say
    assert DEFAULT_PARAMS["metric"][0] == "binary_logloss"
    assert "once the validation log loss has gone 100 rounds" in doc
    train_doc = " ".join((train.__doc__ or "").split())
    assert "Stop once the validation log loss has not improved" in train_doc
    assert "average precision (needs" in train_doc  # the search maximises AP


def test_same_seed_same_model(model_world: Tables, quick: anxin.TrainResult) -> None:
    a = quick
    b = train(model_world, seed=7, log=False, num_boost_round=60)
    assert a.model.booster.model_to_string() == b.model.booster.model_to_string()
    assert a.metrics.keys() == b.metrics.keys()
    assert pd.Series(a.metrics).equals(pd.Series(b.metrics))  # NaN == NaN here
    assert a.model.calibrator.to_dict() == b.model.calibrator.to_dict()


def test_refit_uses_train_and_validation_for_more_rounds(
    model_world: Tables, quick: anxin.TrainResult
) -> None:
    refit = quick  # the default
    plain = train(model_world, seed=7, log=False, num_boost_round=60, refit=False)
    assert refit.model.spec.info["refit"] is True
    assert plain.model.spec.info["refit"] is False
    assert plain.model.booster.current_iteration() == plain.best_iteration
    # the rounds grow with the rows: train + validation over train
    rows = refit.splits.assign(anxin.build_features(model_world)["period"])
    labelled = anxin.build_labels(model_world)["label"].notna().to_numpy()
    grown = ((rows == "train") | (rows == "valid"))[labelled].sum() / (rows == "train")[
        labelled
    ].sum()
    expected = round(plain.best_iteration * grown)
    assert refit.model.booster.current_iteration() == expected > plain.best_iteration
    assert refit.model.calibrator.to_dict() == plain.model.calibrator.to_dict()


def test_folds_stand_in_for_validation() -> None:
    rows = _rows(3000, 7)
    data = SplitData(rows, rows, _rows(500, 8), folds=np.arange(3000) % 5)
    fitted = fit_model(
        _params(learning_rate=0.1),
        data,
        rounds=300,
        early_stopping=15,
        calibration="sigmoid",
        refit=False,  # folds always refit
    )
    assert fitted.refit is True
    assert fitted.booster.current_iteration() == round(fitted.best_iteration * 5 / 4)
    # out-of-fold scores, calibrated on themselves: their sum is the positives
    assert fitted.valid_score.shape == (3000,)
    assert fitted.valid_score.sum() == pytest.approx(rows.y.sum(), rel=1e-3)


def test_calibrated_on_validation(model_world: Tables) -> None:
    result = train(model_world, seed=3, log=False, refit=False)
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
    # the thresholds come from the validation scores before the refit, which
    # has seen these rows: the shares move a little (orange 2.6% here)
    assert share.get("red", 0) == pytest.approx(0.01, abs=0.004)
    assert share.get("orange", 0) == pytest.approx(0.02, abs=0.008)
    assert share.get("yellow", 0) == pytest.approx(0.05, abs=0.01)


def test_optuna_search_is_seeded(model_world: Tables) -> None:
    a = train(model_world, tune=3, seed=4, log=False, num_boost_round=40)
    b = train(model_world, tune=3, seed=4, log=False, num_boost_round=40)
    params = a.model.booster.params
    assert 15 <= int(params["num_leaves"]) <= 127
    assert 0.02 <= float(params["learning_rate"]) <= 0.2
    assert params["num_leaves"] != 15 or params["learning_rate"] != 0.05  # searched
    assert a.model.booster.model_to_string() == b.model.booster.model_to_string()
