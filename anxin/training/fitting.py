"""Fitting: LightGBM with early stopping, an Optuna search, refit, calibration.

:func:`fit_model` is the whole step. With a validation split, LightGBM
trains on the training rows and **stops early on the validation log loss**
alone (average precision and AUC are reported, not watched); the calibrator
is fitted on the validation margins; then, by default, the model is fitted
again on training + validation rows for the chosen rounds scaled by the
growth in rows. Without one (a snapshot, or a split column without
``valid`` rows), stratified folds of the training rows each stop early on
their held-out fold; the calibrator is fitted on the pooled out-of-fold
margins and the model on all training rows for the mean round scaled by
``folds / (folds - 1)``.

The LightGBM parameters are :data:`DEFAULT_PARAMS` with the leaf size and
regularisation set from the number of training rows and positives
(:func:`scaled_params`), then the caller's ``params``. The Optuna search
(``tune``) picks the trial with the best validation average precision.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from anxin.calibration import Calibrator
from anxin.exceptions import InvalidParameterError
from anxin.training.preparation import lightgbm_names
from anxin.training.splits import SplitData, SplitRows

__all__ = [
    "DEFAULT_PARAMS",
    "Fitted",
    "best_iteration",
    "calibrate",
    "fit_booster",
    "fit_model",
    "lightgbm_params",
    "predict_calibrated",
    "refit_booster",
    "scaled_params",
    "shrink",
    "tune_params",
]

logger = logging.getLogger(__name__)

#: LightGBM defaults; the leaf size and regularisation are then set from the
#: data's size (:func:`scaled_params`).
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    # shallow trees: as accurate here as 31 leaves, and exact TreeSHAP
    # (pred_contrib, the reasons) costs about a third
    "num_leaves": 15,
    "max_depth": 6,
    "min_data_in_leaf": 200,
    "min_sum_hessian_in_leaf": 1.0,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 5.0,
    "max_bin": 255,
    "cat_smooth": 20,
    "max_cat_to_onehot": 8,
    # early stopping watches the first, log loss (a proper score, steadier
    # than AP with few positives); AP and AUC are reported alongside
    "metric": ["binary_logloss", "average_precision", "auc"],
    "first_metric_only": True,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}


def scaled_params(rows: int, positives: int) -> dict[str, Any]:
    """Leaf size and regularisation for ``rows`` training rows, ``positives``
    of them positive.

    A leaf should expect a couple of positives, so the fewest rows per leaf
    is about two over the positive rate, between 20 (LightGBM's own default)
    and 200 (millions of rows with 1% positives); the hessian floor and L2
    shrink with it.

    Examples
    --------
    >>> scaled_params(1_800_000, 18_000)["min_data_in_leaf"]
    200
    >>> scaled_params(5_600, 220)["min_data_in_leaf"]
    51
    """
    rate = max(positives, 1) / max(rows, 1)
    leaf = int(np.clip(round(2.0 / rate), 20, 200))
    return {
        "min_data_in_leaf": leaf,
        "min_sum_hessian_in_leaf": round(leaf / 200, 3),
        "lambda_l2": round(5.0 * leaf / 200, 3),
    }


def lightgbm_params(
    params: Mapping[str, Any] | None,
    *,
    seed: int,
    n_jobs: int,
    data: SplitData | None = None,
) -> dict[str, Any]:
    """:data:`DEFAULT_PARAMS`, scaled to the training rows of ``data``,
    overridden by ``params``, with seed and threads.

    Examples
    --------
    >>> p = lightgbm_params({"num_leaves": 31}, seed=1, n_jobs=2)
    >>> p["num_leaves"], p["max_depth"], p["seed"], p["num_threads"]
    (31, 6, 1, 2)
    """
    scaled = {}
    if data is not None:
        scaled = scaled_params(len(data.train.y), int(data.train.y.sum()))
    return {
        **DEFAULT_PARAMS,
        **scaled,
        **(params or {}),
        "seed": seed,
        "num_threads": n_jobs,
    }


def fit_booster(
    params: dict[str, Any],
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    rounds: int,
    valid: SplitRows | None = None,
    early_stopping: int = 100,
    weight: np.ndarray | None = None,
) -> lgb.Booster:
    """Fit LightGBM for up to ``rounds`` rounds.

    With ``valid``, training stops once the first metric of ``params`` (log
    loss by default) has not improved on it for ``early_stopping`` rounds;
    ``best_iteration`` of the booster is then its best round. Feature names
    LightGBM refuses are passed as :func:`lightgbm_names` (the booster is
    fed by position, so the caller's names still work for prediction).
    ``weight`` (and ``valid.w``) weigh the rows of a down-sampled frame.
    """
    train_set = lgb.Dataset(_safe(x), y, weight=weight, free_raw_data=True)
    callbacks: list[Callable[..., Any]] = []
    valid_sets = []
    if valid is not None:
        valid_sets = [
            lgb.Dataset(_safe(valid.x), valid.y, weight=valid.w, reference=train_set)
        ]
        callbacks.append(
            lgb.early_stopping(early_stopping, first_metric_only=True, verbose=False)
        )
    return lgb.train(
        params,
        train_set,
        num_boost_round=rounds,
        valid_sets=valid_sets,
        callbacks=callbacks,
    )


def _safe(x: pd.DataFrame) -> pd.DataFrame:
    """``x`` with names LightGBM accepts (the same frame when they are)."""
    names = [str(c) for c in x.columns]
    safe = lightgbm_names(names)
    if safe == list(x.columns):
        return x
    return x.set_axis(safe, axis=1)


def best_iteration(booster: lgb.Booster) -> int:
    """The round early stopping chose (all rounds when it did not stop)."""
    return int(booster.best_iteration or booster.current_iteration())


def tune_params(
    params: dict[str, Any],
    data: SplitData,
    *,
    n_trials: int,
    seed: int,
    rounds: int,
    early_stopping: int,
) -> dict[str, Any]:
    """``params`` with the leaves, learning rate, leaf size, feature fraction
    and L2 of the best of ``n_trials`` seeded Optuna trials (validation AP).

    Raises
    ------
    InvalidParameterError
        If Optuna is not installed.
    """
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - depends on extras
        raise InvalidParameterError(
            "Hyperparameter search needs Optuna: pip install 'anxin[tune]'."
        ) from exc
    from sklearn.metrics import average_precision_score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    train, valid = data.train, data.valid
    if data.folds is not None:  # search on the first fold
        held = np.asarray(data.folds) == 0
        train, valid = data.train.take(~held), data.train.take(held)

    def objective(trial: Any) -> float:
        trial_params = dict(params)
        trial_params.update(
            num_leaves=trial.suggest_int("num_leaves", 15, 127, log=True),
            learning_rate=trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
            min_data_in_leaf=trial.suggest_int("min_data_in_leaf", 50, 1000, log=True),
            feature_fraction=trial.suggest_float("feature_fraction", 0.5, 1.0),
            lambda_l2=trial.suggest_float("lambda_l2", 1e-2, 50.0, log=True),
        )
        booster = fit_booster(
            trial_params,
            train.x,
            train.y,
            rounds=rounds,
            valid=valid,
            early_stopping=early_stopping,
        )
        pred = booster.predict(valid.x, num_iteration=booster.best_iteration)
        return float(average_precision_score(valid.y, pred))

    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed)
    )
    study.optimize(objective, n_trials=n_trials)
    best = dict(params)
    best.update(study.best_params)
    logger.info(
        "tuning: best valid AP %.4f with %s", study.best_value, study.best_params
    )
    return best


def calibrate(
    booster: lgb.Booster, valid: SplitRows, *, method: str, iterations: int
) -> tuple[Calibrator, np.ndarray]:
    """Fit a calibrator on the validation margins of the first ``iterations``
    rounds; return it and the calibrated validation scores."""
    margin = np.asarray(
        booster.predict(valid.x, raw_score=True, num_iteration=iterations)
    )
    calibrator = Calibrator(method)  # type: ignore[arg-type]
    calibrator.fit(margin, valid.y, sample_weight=valid.w)
    return calibrator, calibrator.transform(margin)


def predict_calibrated(
    booster: lgb.Booster, calibrator: Calibrator, x: pd.DataFrame
) -> np.ndarray:
    """Calibrated probabilities of the rows of ``x`` (all the booster's trees)."""
    return calibrator.transform(np.asarray(booster.predict(x, raw_score=True)))


def refit_booster(
    params: dict[str, Any], data: SplitData, *, rounds: int
) -> lgb.Booster:
    """Fit again on train + validation for exactly ``rounds`` rounds."""
    tw, vw = data.train.w, data.valid.w
    return fit_booster(
        params,
        pd.concat([data.train.x, data.valid.x]),
        np.concatenate([data.train.y, data.valid.y]),
        rounds=rounds,
        weight=None if tw is None or vw is None else np.concatenate([tw, vw]),
    )


def shrink(booster: lgb.Booster, iterations: int) -> lgb.Booster:
    """A booster holding only the first ``iterations`` trees."""
    if booster.current_iteration() == iterations:
        return booster
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=iterations))


@dataclasses.dataclass
class Fitted:
    """What :func:`fit_model` produced.

    Attributes
    ----------
    booster : lightgbm.Booster
        The model kept: refitted on training + validation rows, or the early
        stopped one cut to its best round.
    calibrator : Calibrator
        Fitted on the validation (or out-of-fold) margins.
    valid_score : ndarray
        Calibrated validation (or out-of-fold) scores of ``data.valid``.
    params : dict
        The LightGBM parameters (searched when ``tune``).
    best_iteration : int
        The round early stopping chose (the mean over folds).
    refit : bool
        Whether ``booster`` was fitted again on all training rows.
    """

    booster: lgb.Booster
    calibrator: Calibrator
    valid_score: np.ndarray
    params: dict[str, Any]
    best_iteration: int
    refit: bool


def fit_model(
    params: dict[str, Any],
    data: SplitData,
    *,
    rounds: int,
    early_stopping: int,
    calibration: str,
    refit: bool,
    tune: int = 0,
    seed: int = 0,
) -> Fitted:
    """Fit, stop early, calibrate and (by default) refit; see the module."""
    if tune:
        params = tune_params(
            params,
            data,
            n_trials=tune,
            seed=seed,
            rounds=rounds,
            early_stopping=early_stopping,
        )
    if data.folds is not None:
        return _fit_folds(params, data, rounds, early_stopping, calibration)
    booster = fit_booster(
        params,
        data.train.x,
        data.train.y,
        rounds=rounds,
        valid=data.valid,
        early_stopping=early_stopping,
        weight=data.train.w,
    )
    best = best_iteration(booster)
    calibrator, valid_score = calibrate(
        booster, data.valid, method=calibration, iterations=best
    )
    if refit:
        grown = (len(data.train.y) + len(data.valid.y)) / len(data.train.y)
        booster = refit_booster(params, data, rounds=max(1, round(best * grown)))
    else:
        booster = shrink(booster, best)
    return Fitted(booster, calibrator, valid_score, params, best, refit)


def _fit_folds(
    params: dict[str, Any],
    data: SplitData,
    rounds: int,
    early_stopping: int,
    calibration: str,
) -> Fitted:
    """Stratified folds stop early; out-of-fold margins calibrate; the model
    is fitted on all training rows for the mean round, scaled."""
    folds = np.asarray(data.folds)
    k = int(folds.max()) + 1
    x, y, w = data.train.x, data.train.y, data.train.w
    margin = np.empty(len(y))
    bests = []
    for fold in range(k):
        held = folds == fold
        part, rest = data.train.take(held), data.train.take(~held)
        booster = fit_booster(
            params,
            rest.x,
            rest.y,
            rounds=rounds,
            valid=part,
            early_stopping=early_stopping,
            weight=rest.w,
        )
        bests.append(best_iteration(booster))
        margin[held] = booster.predict(part.x, raw_score=True, num_iteration=bests[-1])
    best = max(1, round(float(np.mean(bests))))
    calibrator = Calibrator(calibration)  # type: ignore[arg-type]
    calibrator.fit(margin, y, sample_weight=w)
    final = fit_booster(
        params, x, y, rounds=max(1, round(best * k / (k - 1))), weight=w
    )
    logger.info("folds: best rounds %s, final model %d rounds", bests, best)
    return Fitted(final, calibrator, calibrator.transform(margin), params, best, True)
