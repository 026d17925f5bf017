"""Training, step by step: :func:`train`.

1. prepare the labelled rows (:mod:`~anxin.training.preparation`);
2. split them out of time (:mod:`~anxin.training.splits`);
3. fit LightGBM with early stopping on validation, optionally after an
   Optuna search, calibrate on validation and set the level thresholds;
   refit on train + validation if asked (:mod:`~anxin.training.fitting`);
4. score the test months with the model and the two baselines
   (:mod:`~anxin.training.baselines`) and evaluate them side by side
   (:mod:`~anxin.training.evaluation`);
5. assemble the model with its spec and drift reference
   (:mod:`~anxin.training.assembly`), measure feature importance, write the
   model card (:mod:`~anxin.training.model_card`);
6. log everything to MLflow and register the model
   (:mod:`~anxin.training.run_logging`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

import lightgbm as lgb
import pandas as pd

from anxin._params import check_horizon, check_param, resolve_n_jobs
from anxin.calibration import Calibrator
from anxin.catalogue import Feature
from anxin.config import get_config
from anxin.levels import LevelPolicy
from anxin.metrics import VOLUMES, evaluate, volume_key
from anxin.model import ArrearsModel
from anxin.periods import default_horizon
from anxin.tables import Tables
from anxin.training.assembly import assemble_model
from anxin.training.baselines import (
    RuleBaseline,
    logistic_regression_baseline,
    own_baseline,
    rule_baseline,
)
from anxin.training.evaluation import (
    HEADLINE,
    Evaluation,
    ScoresOnTest,
    evaluate_scores,
    feature_importance,
    flat_metrics,
    prefixed,
)
from anxin.training.fitting import fit_model, lightgbm_params, predict_calibrated
from anxin.training.model_card import model_card
from anxin.training.preparation import Prepared, prepare
from anxin.training.result import TrainResult
from anxin.training.run_logging import EXPERIMENT, log_run
from anxin.training.splits import (
    SplitData,
    SplitRows,
    Splits,
    resolve_splits,
    split_rows,
)
from anxin.training.summary import default_run_name

__all__ = ["train"]

logger = logging.getLogger(__name__)


# long: 25 documented options in their groups (the signature is 31 lines); the
# body is the list of steps, each a call into the modules of this package
def train(
    tables: Tables | pd.DataFrame,
    *,
    # what the columns of a prepared frame are called
    entity: str | None = "enterprise_id",
    period: str | None = "period",
    freq: str | None = None,
    label: str = "label",
    baseline: str | None = None,
    weight: str | None = None,
    catalogue: Mapping[str, Feature] | None = None,
    # splits
    horizon: int | None = None,
    valid_periods: int | None = None,
    test_periods: int | None = None,
    splits: Splits | str | None = None,
    # the LightGBM model
    params: Mapping[str, Any] | None = None,
    num_boost_round: int = 2000,
    early_stopping_rounds: int = 100,
    tune: int = 0,
    refit: bool = True,
    seed: int = 0,
    n_jobs: int | None = None,
    # calibration and levels
    calibration: str = "sigmoid",
    level_shares: tuple[float, float, float] = (0.01, 0.02, 0.05),
    alert_volume: float = 0.05,
    # MLflow
    log: bool = True,
    tracking_uri: str | None = None,
    experiment: str = EXPERIMENT,
    model_name: str | None = None,
    register: bool = True,
    run_name: str | None = None,
) -> TrainResult:
    """Train, evaluate out of time, and register an arrears-risk model.

    The options come in groups, in this order: the columns of a prepared
    frame; the splits; the LightGBM model; calibration and levels; MLflow.

    Parameters
    ----------
    tables : Tables or DataFrame
        Validated contract tables (features and labels are built), or a
        prepared feature frame with ``entity``, ``period``, ``label`` (0/1,
        missing = unknown) and numeric or categorical feature columns (any
        names; infinite values count as missing).
    entity : str or None, default "enterprise_id"
        The entity column of a prepared frame; ``None`` when each row is its
        own entity.
    period : str or None, default "period"
        The period column: months ``YYYY-MM``, quarters ``YYYYQn``, years
        ``YYYY`` or dates (:mod:`anxin.periods`); ``None`` for a snapshot
        without a time column (stratified splits, not out of time).
    freq : {"M", "Q", "Y"}, optional
        How to group dates in ``period`` (inferred, and reported, when
        omitted; text periods carry their own).
    label : str, default "label"
        The label column of a prepared frame.
    baseline : str, optional
        A column holding a score the bureau already runs (higher = riskier),
        evaluated beside the model on the same test rows (``baseline_test_*``
        metrics); not a feature.
    weight : str, optional
        A column of row weights: a frame whose negatives were down-sampled
        (:func:`anxin.spark.training_frame`, weight ``1 / share kept``).
        LightGBM, early stopping, calibration, the level thresholds and the
        headline metrics weigh each row by it, so probabilities and metrics
        are the full population's; the model card says so. Not a feature.
    catalogue : mapping, optional
        Reason text for custom features (name -> :class:`~anxin.catalogue.Feature`);
        without it a custom feature's name is its reason text.
    horizon : int, optional
        Periods ahead (1-12) the labels look, in the data's cadence; it sets
        the gaps between out-of-time splits. Default: 3 months, 1 quarter or
        1 year.
    valid_periods, test_periods : int, optional
        Length of the validation and test splits, in periods. Default: the
        shortest recent windows holding enough positives
        (:func:`make_splits`).
    splits : Splits or str, optional
        Explicit out-of-time splits, or the name of a column saying
        ``train``, ``valid`` or ``test`` for each row (without ``valid``
        rows, stratified folds of the training rows validate).
    params : mapping, optional
        LightGBM parameters overriding :data:`DEFAULT_PARAMS`.
    num_boost_round : int, default 2000
        Most boosting rounds.
    early_stopping_rounds : int, default 100
        Stop once the validation log loss has not improved for this many
        rounds; the model keeps the rounds up to its best.
    tune : int, default 0
        Optuna trials for a hyperparameter search maximising validation
        average precision (needs ``anxin[tune]``); 0 for none.
    refit : bool, default True
        Retrain on train + validation, with the chosen number of rounds
        scaled by the growth in rows, before registering (the calibrator and
        level thresholds stay those fitted on validation). Validation by
        folds always refits.
    seed : int, default 0
        Seeds LightGBM, the search, the baselines' samples and tie-breaks.
    n_jobs : int, optional
        Threads: ``None`` or ``-1`` all available cores, else that many.
    calibration : {"sigmoid", "isotonic"}, default "sigmoid"
        How the raw margin becomes a probability (fitted on validation).
    level_shares : tuple, default (0.01, 0.02, 0.05)
        Red, orange and yellow shares on validation that set the thresholds.
    alert_volume : float, default 0.05
        The alert volume used for promotion decisions (quoted in the model
        card, logged as a tag).
    log : bool, default True
        Log to MLflow. With ``False`` nothing is written anywhere.
    tracking_uri : str, optional
        MLflow tracking URI (default from configuration).
    experiment : str, default "anxin-arrears"
        MLflow experiment of the run.
    model_name : str, optional
        Registered model name (default from configuration, ``anxin-arrears``).
    register : bool, default True
        Register the model and set aliases.
    run_name : str, optional
        The MLflow run's name. Default: what differs between trainings, as
        ``lgbm-h3-2022-07..2026-03-sigmoid-refit`` (horizon, first training
        to last test month, calibration, then refit, search, parameters and
        seed when given).

    Returns
    -------
    TrainResult

    Raises
    ------
    ContractError
        If the data lack labels, keys or usable features.
    InvalidParameterError
        If a parameter is out of range or the history is too short.

    Examples
    --------
    The options of a call in their groups (training takes a few seconds even
    on a small world, so this example is not run):

    >>> import anxin
    >>> result = anxin.train(  # doctest: +SKIP
    ...     tables,
    ...     horizon=3, valid_periods=3, test_periods=3,
    ...     refit=True, seed=0,
    ...     calibration="sigmoid", alert_volume=0.05,
    ...     tracking_uri="sqlite:///.anxin/mlflow.db",
    ... )
    >>> result.comparison.loc[["model", "rules", "logreg"], "ap"]  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    _check_options(horizon, calibration, tune, alert_volume)
    jobs = resolve_n_jobs(n_jobs, "train")
    prep = prepare(
        tables,
        horizon=horizon or default_horizon("M"),
        entity=entity,
        period=period,
        label=label,
        catalogue=catalogue,
        freq=freq,
        split=splits if isinstance(splits, str) else None,
        baseline=baseline,
        weight=weight,
    )
    horizon = horizon or default_horizon(prep.freq)
    timings["prepare"] = time.perf_counter() - t0
    splits = resolve_splits(
        prep.frame,
        splits,
        freq=prep.freq,
        split=prep.split,
        horizon=horizon,
        valid_periods=valid_periods,
        test_periods=test_periods,
    )
    logger.info("splits: %s (%s)", splits, prep.columns.get("periods", ""))
    data = split_rows(
        prep.frame,
        prep.features,
        splits,
        split=prep.split,
        seed=seed,
        weight=prep.weight,
    )
    with _timed(timings, "lightgbm"):
        fitted = fit_model(
            lightgbm_params(params, seed=seed, n_jobs=jobs, data=data),
            data,
            rounds=num_boost_round,
            early_stopping=early_stopping_rounds,
            calibration=calibration,
            refit=refit,
            tune=tune,
            seed=seed,
        )
    booster, calibrator, valid_score = (
        fitted.booster,
        fitted.calibrator,
        fitted.valid_score,
    )
    lgb_params, best_iter, refit = fitted.params, fitted.best_iteration, fitted.refit
    policy = LevelPolicy.from_validation(valid_score, level_shares, data.valid.w)
    with _timed(timings, "evaluate"):
        scores = _scores_on_test(booster, calibrator, prep, data, seed)
        evaluation = evaluate_scores(
            data,
            scores,
            valid_score=valid_score,
            policy=policy,
            alert_volume=alert_volume,
        )
        own = own_baseline(prep.baseline, data.valid, data.test, seed=seed)
        own_metrics = _add_baseline(evaluation, data.test, own, alert_volume)
    with _timed(timings, "explain"):
        model = assemble_model(
            booster,
            calibrator,
            policy,
            prep,
            valid=data.valid,
            valid_score=valid_score,
            splits=splits,
            horizon=horizon,
            best_iteration=best_iter,
            refit=refit,
            seed=seed,
        )
        importance = _importance(model, data.test.x, seed)
    result = _result(
        model, splits, data, evaluation, importance, policy, alert_volume, timings
    )
    result.metrics.update(_baseline_metrics(own_metrics, alert_volume))
    result.periods = str(prep.columns.get("periods", ""))
    result.nonfinite = dict(prep.nonfinite)
    curves = scores.curves()
    if own is not None:
        curves["baseline"] = own.points
    result.run_name = run_name or default_run_name(
        splits,
        calibration=calibration,
        refit=refit,
        tune=tune,
        seed=seed,
        params=params,
    )
    if log:
        with _timed(timings, "mlflow"):
            log_run(
                result,
                prep,
                lgb_params,
                data.test,
                curves,
                calibration=calibration,
                level_shares=level_shares,
                alert_volume=alert_volume,
                tune=tune,
                tracking_uri=tracking_uri,
                experiment=experiment,
                model_name=model_name or get_config().model_name,
                register=register,
            )
    timings["total"] = time.perf_counter() - t0
    _log_summary(evaluation, timings["total"])
    return result


def _check_options(
    horizon: int | None, calibration: str, tune: int, alert_volume: float
) -> None:
    if horizon is not None:
        check_horizon(horizon, "train")
    check_param(
        "calibration",
        calibration,
        "train",
        "'sigmoid' or 'isotonic'",
        calibration in ("sigmoid", "isotonic"),
    )
    check_param(
        "tune", tune, "train", "an int >= 0", isinstance(tune, int) and tune >= 0
    )
    check_param(
        "alert_volume", alert_volume, "train", "a share in (0, 1)", 0 < alert_volume < 1
    )


@contextlib.contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    """Record the seconds the block takes as ``timings[step]``."""
    start = time.perf_counter()
    yield
    timings[step] = time.perf_counter() - start


def _scores_on_test(
    booster: lgb.Booster,
    calibrator: Calibrator,
    prep: Prepared,
    data: SplitData,
    seed: int,
) -> ScoresOnTest:
    """The model's and the two baselines' scores on the test rows."""
    return ScoresOnTest(
        model=predict_calibrated(booster, calibrator, data.test.x),
        rules=rule_baseline(data.valid, data.test, seed=seed),
        logreg=logistic_regression_baseline(
            data.train,
            data.test,
            features=prep.features,
            categorical=prep.categorical,
            seed=seed,
        ),
    )


def _add_baseline(
    evaluation: Evaluation,
    test: SplitRows,
    own: RuleBaseline | None,
    alert_volume: float,
) -> dict[str, float] | None:
    """The caller's baseline as the ``baseline`` row of the comparison; its
    test metrics."""
    if own is None:
        return None
    volumes = tuple(sorted({*VOLUMES, alert_volume}))
    row = evaluate(
        test.y, own.probability, test.months, tiebreak=own.tiebreak, volumes=volumes
    )
    evaluation.comparison.loc["baseline"] = pd.Series(row)
    return row


def _baseline_metrics(
    row: dict[str, float] | None, alert_volume: float
) -> dict[str, float]:
    """``baseline_test_*``: the headline metrics of the caller's baseline,
    under the names the rules' have."""
    if row is None:
        return {}
    keys = (
        *HEADLINE,
        volume_key(alert_volume),
        volume_key(alert_volume, "precision"),
    )
    return prefixed("baseline_test_", {k: row[k] for k in keys if k in row})


def _importance(
    model: ArrearsModel, x_test: pd.DataFrame, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Feature and group importance; the top 20 features go into the spec."""
    importance, group_importance = feature_importance(model, x_test, seed)
    model.spec.info["top_features"] = importance["feature"].head(20).tolist()
    return importance, group_importance


def _result(
    model: ArrearsModel,
    splits: Splits,
    data: SplitData,
    evaluation: Evaluation,
    importance: tuple[pd.DataFrame, pd.DataFrame],
    policy: LevelPolicy,
    alert_volume: float,
    timings: dict[str, float],
) -> TrainResult:
    """The result, with its metrics under their logged names and the card."""
    features, groups = importance
    best_iter = int(model.spec.info["best_iteration"])  # as assemble_model set it
    card = model_card(
        splits=splits,
        comparison=evaluation.comparison,
        slices=evaluation.slices,
        lift=evaluation.lift,
        group_importance=groups,
        policy=policy,
        spec=model.spec,
        rows=data.rows(),
        positives=data.positives(),
        alert_volume=alert_volume,
    )
    return TrainResult(
        model=model,
        splits=splits,
        metrics=flat_metrics(evaluation, best_iter),
        comparison=evaluation.comparison,
        lift=evaluation.lift,
        slices=evaluation.slices,
        importance=features,
        group_importance=groups,
        card=card,
        best_iteration=best_iter,
        monthly=evaluation.monthly,
        levels=evaluation.levels,
        timings=timings,
    )


def _log_summary(evaluation: Evaluation, seconds: float) -> None:
    rules = evaluation.rules
    logger.info(
        "trained in %.1fs: test AP %.4f (rules %s), AUC %.4f",
        seconds,
        evaluation.test["ap"],
        f"{rules['ap']:.4f}" if rules else "n/a",
        evaluation.test["auc"],
    )
