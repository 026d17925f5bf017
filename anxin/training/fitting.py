"""Fitting: LightGBM with early stopping, an Optuna search, refit, calibration.

Early stopping watches **all three** validation metrics of
:data:`DEFAULT_PARAMS` (log loss, average precision, AUC): training stops as
soon as one of them has gone ``early_stopping`` rounds without improving, and
the booster keeps the rounds up to that metric's best. ``first_metric_only``
in the parameters does not change this: LightGBM applies it only to its own
early stopping (``early_stopping_round``), not to the callback passed here.
The Optuna search (``tune``) picks the trial with the best validation
average precision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from anxin.calibration import Calibrator
from anxin.exceptions import InvalidParameterError
from anxin.training.splits import SplitData, SplitRows

__all__ = [
    "DEFAULT_PARAMS",
    "best_iteration",
    "calibrate",
    "fit_booster",
    "lightgbm_params",
    "predict_calibrated",
    "refit_booster",
    "shrink",
    "tune_params",
]

logger = logging.getLogger(__name__)

#: LightGBM defaults for rare events (about 1% positives per quarter).
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
    # meant to stop on log loss alone (a proper score, steadier than AP with
    # few positives), but first_metric_only reaches only LightGBM's own early
    # stopping, not the callback of fit_booster: whichever of the three stalls
    # first stops training (see the module docstring); kept so models stay
    # identical
    "metric": ["binary_logloss", "average_precision", "auc"],
    "first_metric_only": True,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}


def lightgbm_params(
    params: Mapping[str, Any] | None, *, seed: int, n_jobs: int
) -> dict[str, Any]:
    """:data:`DEFAULT_PARAMS` overridden by ``params``, with seed and threads.

    Examples
    --------
    >>> p = lightgbm_params({"num_leaves": 31}, seed=1, n_jobs=2)
    >>> p["num_leaves"], p["max_depth"], p["seed"], p["num_threads"]
    (31, 6, 1, 2)
    """
    return {**DEFAULT_PARAMS, **(params or {}), "seed": seed, "num_threads": n_jobs}


def fit_booster(
    params: dict[str, Any],
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    rounds: int,
    valid: SplitRows | None = None,
    early_stopping: int = 100,
) -> lgb.Booster:
    """Fit LightGBM for up to ``rounds`` rounds.

    With ``valid``, training stops once any metric of ``params`` (log loss,
    average precision and AUC by default) has not improved on it for
    ``early_stopping`` rounds; ``best_iteration`` of the booster is then that
    metric's best round.
    """
    train_set = lgb.Dataset(x, y, free_raw_data=True)
    callbacks: list[Callable[..., Any]] = []
    valid_sets = []
    if valid is not None:
        valid_sets = [lgb.Dataset(valid.x, valid.y, reference=train_set)]
        callbacks.append(lgb.early_stopping(early_stopping, verbose=False))
    return lgb.train(
        params,
        train_set,
        num_boost_round=rounds,
        valid_sets=valid_sets,
        callbacks=callbacks,
    )


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
            data.train.x,
            data.train.y,
            rounds=rounds,
            valid=data.valid,
            early_stopping=early_stopping,
        )
        pred = booster.predict(data.valid.x, num_iteration=booster.best_iteration)
        return float(average_precision_score(data.valid.y, pred))

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
    calibrator = Calibrator(method).fit(margin, valid.y)  # type: ignore[arg-type]
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
    return fit_booster(
        params,
        pd.concat([data.train.x, data.valid.x]),
        np.concatenate([data.train.y, data.valid.y]),
        rounds=rounds,
    )


def shrink(booster: lgb.Booster, iterations: int) -> lgb.Booster:
    """A booster holding only the first ``iterations`` trees."""
    if booster.current_iteration() == iterations:
        return booster
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=iterations))
