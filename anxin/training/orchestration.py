"""Training, out-of-time evaluation against today's rules, and MLflow versioning.

:func:`train` takes validated contract tables (features are built with
:func:`anxin.build_features`) or a prepared feature frame, splits it by as-of
month into train / validation / test with a ``horizon``-month gap between
them, fits LightGBM with early stopping on validation, calibrates on
validation, evaluates on test beside two baselines (the weighted rule score
bureaus run today and a logistic regression on the same features), and logs
everything to MLflow: parameters, metrics, charts, a model card, the training
data as a dataset input, and the model as a pickle-free pyfunc registered with
the ``challenger`` alias (and ``champion`` if there is none yet).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from anxin import _calendar
from anxin._params import check_horizon, check_param, resolve_n_jobs
from anxin._version import __version__
from anxin.calibration import Calibrator
from anxin.catalogue import CATALOGUE, Feature
from anxin.config import get_config
from anxin.drift import Reference
from anxin.exceptions import ContractError, InvalidParameterError
from anxin.features import build_features, build_labels
from anxin.levels import LevelPolicy
from anxin.metrics import VOLUMES, evaluate, lift_table, slice_metrics
from anxin.model import ArrearsModel, ModelSpec
from anxin.rules import RULES, rule_score
from anxin.tables import Tables

__all__ = ["DEFAULT_PARAMS", "Splits", "TrainResult", "make_splits", "train"]

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
    # stop on log loss (a proper score, steadier than AP with few positives);
    # AP and AUC are reported alongside
    "metric": ["binary_logloss", "average_precision", "auc"],
    "first_metric_only": True,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}

EXPERIMENT = "anxin-arrears"


@dataclasses.dataclass(frozen=True)
class Splits:
    """As-of month ranges (inclusive) of the three splits.

    Between consecutive splits there is a gap of ``horizon`` months, so no
    training label window (``t+1 .. t+horizon``) reaches a later split.
    """

    train: tuple[str, str]
    valid: tuple[str, str]
    test: tuple[str, str]
    horizon: int

    def assign(self, periods: pd.Series | np.ndarray) -> np.ndarray:
        """Split name of each period (``""`` for gap months)."""
        p = np.asarray(periods, dtype=object).astype(str)
        out = np.full(p.shape, "", dtype=object)
        for name in ("train", "valid", "test"):
            lo, hi = getattr(self, name)
            out[(p >= lo) & (p <= hi)] = name
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "train": list(self.train),
            "valid": list(self.valid),
            "test": list(self.test),
            "horizon": self.horizon,
        }

    def __str__(self) -> str:
        return (
            f"train {self.train[0]}..{self.train[1]} | gap {self.horizon} | "
            f"valid {self.valid[0]}..{self.valid[1]} | gap {self.horizon} | "
            f"test {self.test[0]}..{self.test[1]}"
        )


def make_splits(
    periods: pd.Series | np.ndarray | list[str],
    *,
    horizon: int = 3,
    valid_months: int = 3,
    test_months: int = 3,
    min_train_months: int = 6,
) -> Splits:
    """Out-of-time splits over the labelled as-of months.

    The test split is the last ``test_months`` labelled months; validation is
    the ``valid_months`` before it, ``horizon`` months earlier; training is
    everything up to ``horizon`` months before validation.

    Examples
    --------
    >>> months = [f"2023-{m:02d}" for m in range(1, 13)] + [
    ...     f"2024-{m:02d}" for m in range(1, 13)]
    >>> print(make_splits(months, horizon=3))
    train 2023-01..2023-12 | gap 3 | valid 2024-04..2024-06 | gap 3 | test 2024-10..2024-12
    """  # noqa: E501
    check_horizon(horizon, "make_splits")
    for name, value in (("valid_months", valid_months), ("test_months", test_months)):
        check_param(
            name,
            value,
            "make_splits",
            "an int >= 1",
            isinstance(value, int) and value >= 1,
        )
    idx = sorted({_calendar.to_index(str(p)) for p in pd.unique(np.asarray(periods))})
    if not idx:
        raise InvalidParameterError("No labelled months to split.")
    last = idx[-1]
    test = (last - test_months + 1, last)
    valid = (test[0] - horizon - valid_months, test[0] - horizon - 1)
    train_end = valid[0] - horizon - 1
    train_start = idx[0]
    n_train = train_end - train_start + 1
    if n_train < min_train_months:
        have = last - idx[0] + 1
        need = min_train_months + valid_months + test_months + 2 * horizon
        raise InvalidParameterError(
            f"Not enough labelled history for out-of-time splits: {have} months "
            f"({_calendar.to_period(idx[0])}..{_calendar.to_period(last)}); "
            f"{need} are needed for {min_train_months} training months, "
            f"{valid_months} validation and {test_months} test months with "
            f"{horizon}-month gaps. Supply more history or lower "
            "--valid-months / --test-months.",
            parameter="periods",
        )
    p = _calendar.to_period
    return Splits(
        train=(p(train_start), p(train_end)),
        valid=(p(valid[0]), p(valid[1])),
        test=(p(test[0]), p(test[1])),
        horizon=horizon,
    )


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` produced.

    Attributes
    ----------
    model : ArrearsModel
        The model that was registered (refitted when ``refit=True``).
    splits : Splits
    metrics : dict
        Every metric logged: ``test_*`` and ``valid_*`` for the model,
        ``rules_test_*`` and ``logreg_test_*`` for the baselines.
    comparison : DataFrame
        Test metrics of model, rules and logistic regression side by side.
    lift : DataFrame
        Decile lift of the model on test.
    slices : dict
        ``industry`` and ``region`` -> test metrics per slice.
    importance, group_importance : DataFrame
        Gain and mean |SHAP| per feature, and mean |SHAP| per reason group.
    card : str
        The model card (Markdown), also logged as ``model_card.md``.
    run_id, model_uri, model_name, model_version : str or None
        MLflow coordinates (``None`` when ``log=False``).
    aliases : list of str
        Registry aliases the new version received.
    best_iteration : int
    timings : dict
        Seconds spent per step.
    """

    model: ArrearsModel
    splits: Splits
    metrics: dict[str, float]
    comparison: pd.DataFrame
    lift: pd.DataFrame
    slices: dict[str, pd.DataFrame]
    importance: pd.DataFrame
    group_importance: pd.DataFrame
    card: str
    best_iteration: int
    run_id: str | None = None
    model_uri: str | None = None
    model_name: str | None = None
    model_version: str | None = None
    aliases: list[str] = dataclasses.field(default_factory=list)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)


# ---------------------------------------------------------------------------
# data preparation
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Prepared:
    frame: pd.DataFrame  # enterprise_id, period, label, features (labelled rows)
    features: list[str]
    categorical: dict[str, list[str]]
    catalogue: dict[str, Feature]
    source: str


def _generic_feature(name: str) -> Feature:
    return Feature(
        name=name,
        group=name,
        zh=name,
        en=name,
        unit="",
        reason_zh=f"{name}：{{value}}",
        reason_en=f"{name}: {{value}}",
    )


def _prepare(
    data: Tables | pd.DataFrame,
    horizon: int,
    entity: str,
    period: str,
    label: str,
    catalogue: Mapping[str, Feature] | None,
) -> _Prepared:
    if isinstance(data, Tables):
        feats = build_features(data)
        labels = build_labels(data, horizon=horizon)
        frame = feats
        frame["label"] = labels["label"].to_numpy()
        source = "tables"
    elif isinstance(data, pd.DataFrame):
        missing = [c for c in (entity, period, label) if c not in data.columns]
        if missing:
            raise ContractError(
                f"training frame: column(s) {missing} missing. A prepared frame "
                f"needs the entity ({entity!r}), period ({period!r}, YYYY-MM) and "
                f"label ({label!r}, 0/1, empty when unknown) columns; pass "
                "entity=, period=, label= to name yours.",
                table="training frame",
                column=missing[0],
            )
        frame = data.rename(
            columns={entity: "enterprise_id", period: "period", label: "label"}
        )
        source = "frame"
    else:
        raise InvalidParameterError(
            "The 'tables' parameter of train must be Tables (from anxin.validate) or "
            f"a pandas DataFrame. Got {type(data).__name__} instead."
        )
    frame = frame[frame["label"].notna()].reset_index(drop=True)
    if frame.empty:
        raise ContractError(
            "No labelled rows: every label window runs past the events data. "
            "Supply more months of events (or a smaller horizon).",
            table="events",
        )
    frame["label"] = frame["label"].astype("int8")
    frame["period"] = frame["period"].astype("str")
    keys = {"enterprise_id", "period", "label"}
    features = [c for c in frame.columns if c not in keys]
    if not features:
        raise ContractError(
            "training frame: no feature columns besides the keys.",
            table="training frame",
        )
    base = dict(CATALOGUE)
    base.update(catalogue or {})
    cat_levels: dict[str, list[str]] = {}
    for name in features:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            # keep the codes; levels as text, unused ones dropped
            col = col.cat.remove_unused_categories()
            col = col.cat.rename_categories([str(c) for c in col.cat.categories])
            order = sorted(col.cat.categories)
            frame[name] = col.cat.reorder_categories(order)
            cat_levels[name] = order
        elif col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            values = col.astype("str")
            levels = sorted(pd.unique(values[col.notna()]).tolist())
            frame[name] = pd.Categorical(values.where(col.notna()), categories=levels)
            cat_levels[name] = [str(v) for v in levels]
        elif not pd.api.types.is_numeric_dtype(col.dtype):
            raise ContractError(
                f"training frame: feature {name!r} has type {col.dtype}; features "
                "must be numeric or categorical (text).",
                table="training frame",
                column=name,
            )
    cat = {f: base.get(f, _generic_feature(f)) for f in features}
    return _Prepared(frame, features, cat_levels, cat, source)


def _fingerprint(frame: pd.DataFrame) -> str:
    """Stable digest of the labelled training frame."""
    h = hashlib.sha256()
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    h.update(np.sort(hashed).tobytes())  # row order does not matter
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------
# fitting
# ---------------------------------------------------------------------------


def _fit_lgb(
    params: dict[str, Any],
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    x_valid: pd.DataFrame | None,
    y_valid: np.ndarray | None,
    rounds: int,
    early_stopping: int,
) -> lgb.Booster:
    train_set = lgb.Dataset(x_train, y_train, free_raw_data=True)
    callbacks: list[Callable[..., Any]] = []
    valid_sets = []
    if x_valid is not None:
        valid_sets = [lgb.Dataset(x_valid, y_valid, reference=train_set)]
        callbacks.append(lgb.early_stopping(early_stopping, verbose=False))
    return lgb.train(
        params,
        train_set,
        num_boost_round=rounds,
        valid_sets=valid_sets,
        callbacks=callbacks,
    )


def _tune(
    params: dict[str, Any],
    n_trials: int,
    seed: int,
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    x_valid: pd.DataFrame,
    y_valid: np.ndarray,
    rounds: int,
    early_stopping: int,
) -> dict[str, Any]:
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
        booster = _fit_lgb(
            trial_params, x_train, y_train, x_valid, y_valid, rounds, early_stopping
        )
        pred = booster.predict(x_valid, num_iteration=booster.best_iteration)
        return float(average_precision_score(y_valid, pred))

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


def _logreg(
    prep: _Prepared, x: pd.DataFrame, y: np.ndarray, seed: int, max_rows: int = 50_000
) -> Any:
    """Logistic regression on the same features (signed-log, imputed, scaled)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    numeric = [f for f in prep.features if f not in prep.categorical]
    cats = list(prep.categorical)
    if len(x) > max_rows:
        keep = np.random.default_rng(seed).choice(len(x), size=max_rows, replace=False)
        keep.sort()
        x, y = x.iloc[keep], y[keep]
    signed_log = FunctionTransformer(
        lambda x: np.sign(x) * np.log1p(np.abs(x)), feature_names_out="one-to-one"
    )
    pre = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(
                    signed_log,
                    SimpleImputer(
                        strategy="median", add_indicator=True, keep_empty_features=True
                    ),
                    StandardScaler(),
                ),
                numeric,
            ),
            ("cat", OneHotEncoder(handle_unknown="ignore"), cats),
        ]
    )
    pipe = Pipeline([("pre", pre), ("lr", LogisticRegression(C=0.1, max_iter=300))])
    x = x[prep.features].copy()
    for c in cats:
        x[c] = x[c].astype("str")
    pipe.fit(x, y)
    return pipe


def _logreg_predict(pipe: Any, prep: _Prepared, frame: pd.DataFrame) -> np.ndarray:
    x = frame[prep.features].copy()
    for c in prep.categorical:
        x[c] = x[c].astype("str")
    return np.asarray(pipe.predict_proba(x)[:, 1])


def _prefixed(prefix: str, metrics: Mapping[str, float]) -> dict[str, float]:
    return {f"{prefix}{k}": float(v) for k, v in metrics.items()}


# ---------------------------------------------------------------------------
# the public entry point
# ---------------------------------------------------------------------------


def train(
    tables: Tables | pd.DataFrame,
    *,
    horizon: int = 3,
    entity: str = "enterprise_id",
    period: str = "period",
    label: str = "label",
    catalogue: Mapping[str, Feature] | None = None,
    valid_months: int = 3,
    test_months: int = 3,
    splits: Splits | None = None,
    params: Mapping[str, Any] | None = None,
    num_boost_round: int = 2000,
    early_stopping_rounds: int = 100,
    calibration: str = "sigmoid",
    level_shares: tuple[float, float, float] = (0.01, 0.02, 0.05),
    alert_volume: float = 0.05,
    refit: bool = False,
    tune: int = 0,
    seed: int = 0,
    n_jobs: int | None = None,
    log: bool = True,
    tracking_uri: str | None = None,
    experiment: str = EXPERIMENT,
    model_name: str | None = None,
    register: bool = True,
) -> TrainResult:
    """Train, evaluate out of time, and register an arrears-risk model.

    Parameters
    ----------
    tables : Tables or DataFrame
        Validated contract tables (features and labels are built), or a
        prepared feature frame with ``entity``, ``period`` (YYYY-MM), ``label`` (0/1,
        missing = unknown) and numeric or categorical feature columns.
    horizon : int, default 3
        Months ahead (1-12); also the gap between splits.
    entity, period, label : str
        Column names in a prepared frame.
    catalogue : mapping, optional
        Reason text for custom features (name -> :class:`~anxin.features.Feature`);
        without it a custom feature's name is its reason text.
    valid_months, test_months : int, default 3
        Length of the validation and test splits (as-of months).
    splits : Splits, optional
        Explicit splits instead of the defaults.
    params : mapping, optional
        LightGBM parameters overriding :data:`DEFAULT_PARAMS`.
    num_boost_round, early_stopping_rounds : int
        Boosting rounds, stopped early on validation average precision.
    calibration : {"sigmoid", "isotonic"}, default "sigmoid"
    level_shares : tuple, default (0.01, 0.02, 0.05)
        Red, orange and yellow shares on validation that set the thresholds.
    alert_volume : float, default 0.05
        The alert volume used for promotion decisions (logged as a tag).
    refit : bool, default False
        Retrain on train + validation with the chosen number of rounds before
        registering (the calibrator and level thresholds stay those fitted on
        validation).
    tune : int, default 0
        Optuna trials for a hyperparameter search (needs ``anxin[tune]``).
    seed : int, default 0
    n_jobs : int, optional
        Threads: ``None`` or ``-1`` all available cores, else that many.
    log : bool, default True
        Log to MLflow. With ``False`` nothing is written anywhere.
    tracking_uri : str, optional
        MLflow tracking URI (default from configuration).
    experiment : str, default "anxin-arrears"
    model_name : str, optional
        Registered model name (default from configuration, ``anxin-arrears``).
    register : bool, default True
        Register the model and set aliases.

    Returns
    -------
    TrainResult

    Raises
    ------
    ContractError
        If the data lack labels, keys or usable features.
    InvalidParameterError
        If a parameter is out of range or the history is too short.
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
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
    jobs = resolve_n_jobs(n_jobs, "train")

    prep = _prepare(tables, horizon, entity, period, label, catalogue)
    timings["prepare"] = time.perf_counter() - t0
    frame = prep.frame
    splits = splits or make_splits(
        frame["period"],
        horizon=horizon,
        valid_months=valid_months,
        test_months=test_months,
    )
    part = splits.assign(frame["period"])
    logger.info("splits: %s", splits)
    # one take per split (rows and feature columns together: no second copy)
    masks = {s: part == s for s in ("train", "valid", "test")}
    x_tr, x_va, x_te = (frame.loc[masks[s], prep.features] for s in masks)
    y_tr, y_va, y_te = (frame.loc[masks[s], "label"].to_numpy() for s in masks)
    months_va, months_te = (
        frame.loc[masks[s], "period"].to_numpy() for s in ("valid", "test")
    )
    for name, y in (("train", y_tr), ("valid", y_va), ("test", y_te)):
        if len(y) == 0 or y.sum() == 0:
            raise InvalidParameterError(
                f"The {name} split ({'..'.join(getattr(splits, name))}) "
                f"has {len(y)} rows and {int(y.sum())} positives; every "
                "split needs positives. Supply more history or change the splits.",
                parameter="splits",
            )
    lgb_params = {**DEFAULT_PARAMS, **(params or {}), "seed": seed, "num_threads": jobs}

    t = time.perf_counter()
    if tune:
        lgb_params = _tune(
            lgb_params,
            tune,
            seed,
            x_tr,
            y_tr,
            x_va,
            y_va,
            num_boost_round,
            early_stopping_rounds,
        )
    booster = _fit_lgb(
        lgb_params, x_tr, y_tr, x_va, y_va, num_boost_round, early_stopping_rounds
    )
    best_iter = int(booster.best_iteration or booster.current_iteration())
    timings["lightgbm"] = time.perf_counter() - t

    valid_margin = np.asarray(
        booster.predict(x_va, raw_score=True, num_iteration=best_iter)
    )
    calibrator = Calibrator(calibration).fit(valid_margin, y_va)  # type: ignore[arg-type]
    valid_score = calibrator.transform(valid_margin)
    policy = LevelPolicy.from_validation(valid_score, level_shares)

    if refit:
        t = time.perf_counter()
        both = pd.concat([x_tr, x_va])
        booster = _fit_lgb(
            lgb_params,
            both,
            np.concatenate([y_tr, y_va]),
            None,
            None,
            best_iter,
            early_stopping_rounds,
        )
        timings["refit"] = time.perf_counter() - t
    else:
        booster = _shrink(booster, best_iter)

    t = time.perf_counter()
    test_margin = np.asarray(booster.predict(x_te, raw_score=True))
    test_score = calibrator.transform(test_margin)
    model_test = evaluate(y_te, test_score, months_te)
    model_valid = evaluate(y_va, valid_score, months_va)
    # baseline (a): today's rule score, calibrated on validation for the
    # probability metrics; ties broken by a seeded shuffle, not by row order
    usable = tuple(r for r in RULES if r.feature in x_te.columns)
    rules_test: dict[str, float] | None = None
    rules_te = np.zeros(len(x_te))
    if len(usable) < len(RULES):
        logger.warning(
            "rule baseline: the data lack %s; %s",
            [r.feature for r in RULES if r not in usable],
            "those rules are left out" if usable else "no rule baseline",
        )
    if usable:
        rules_va, rules_te = rule_score(x_va, usable), rule_score(x_te, usable)
        rules_cal = Calibrator("isotonic").fit(rules_va, y_va)
        tiebreak = np.random.default_rng(seed).random(len(x_te))
        rules_test = evaluate(
            y_te,
            rules_cal.transform(rules_te) + 1e-9 * rules_te,
            months_te,
            tiebreak=tiebreak,
        )
    # baseline (b): logistic regression on the same features
    pipe = _logreg(prep, x_tr, y_tr, seed)
    logreg_score = _logreg_predict(pipe, prep, x_te)
    logreg_test = evaluate(y_te, logreg_score, months_te)
    timings["evaluate"] = time.perf_counter() - t

    rows = {"model": model_test, "rules": rules_test, "logreg": logreg_test}
    comparison = pd.DataFrame.from_dict(
        {k: v for k, v in rows.items() if v is not None}, orient="index"
    )
    lift = lift_table(y_te, test_score)
    slices = {
        kind: slice_metrics(
            y_te,
            test_score,
            months_te,
            (x_te[kind] if kind in x_te else pd.Series("all", index=x_te.index))
            .astype("str")
            .to_numpy(),
            kind,
        )
        for kind in ("industry", "region")
    }

    t = time.perf_counter()
    spec = ModelSpec(
        features=prep.features,
        categorical=prep.categorical,
        catalogue=prep.catalogue,
        horizon=horizon,
        info={
            "anxin_version": __version__,
            "trained_at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
            "data_window": [str(frame["period"].min()), str(frame["period"].max())],
            "splits": splits.to_dict(),
            "best_iteration": best_iter,
            "refit": refit,
            "seed": seed,
            "source": prep.source,
        },
    )
    # drift reference: the validation months, the newest rows before test,
    # whose windows are as full as those of the months that will be scored
    reference = _reference(x_va, prep, valid_score, seed)
    model = ArrearsModel(booster, calibrator, policy, spec, reference)
    importance, group_importance = _importance(model, x_te, seed)
    spec.info["top_features"] = importance["feature"].head(20).tolist()
    timings["explain"] = time.perf_counter() - t

    metrics: dict[str, float] = {}
    metrics.update(_prefixed("test_", model_test))
    metrics.update(_prefixed("valid_", model_valid))
    if rules_test is not None:
        metrics.update(_prefixed("rules_test_", rules_test))
    metrics.update(_prefixed("logreg_test_", logreg_test))
    for kind, table in slices.items():
        for rec in table.itertuples(index=False):
            key = getattr(rec, kind)
            for m in ("auc", "ap"):
                metrics[f"test_{m}__{kind}_{key}"] = float(getattr(rec, m))
    metrics["best_iteration"] = float(best_iter)

    from anxin._model_card import model_card

    card = model_card(
        splits=splits,
        comparison=comparison,
        slices=slices,
        lift=lift,
        group_importance=group_importance,
        policy=policy,
        spec=spec,
        rows={"train": len(y_tr), "valid": len(y_va), "test": len(y_te)},
        positives={
            "train": int(y_tr.sum()),
            "valid": int(y_va.sum()),
            "test": int(y_te.sum()),
        },
        alert_volume=alert_volume,
    )
    result = TrainResult(
        model=model,
        splits=splits,
        metrics=metrics,
        comparison=comparison,
        lift=lift,
        slices=slices,
        importance=importance,
        group_importance=group_importance,
        card=card,
        best_iteration=best_iter,
        timings=timings,
    )
    if log:
        t = time.perf_counter()
        curves = {"model": test_score, "logreg": logreg_score}
        if rules_test is not None:
            curves["rules"] = rules_te
        _log_run(
            result,
            prep,
            frame,
            lgb_params,
            x_te,
            y_te,
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
        timings["mlflow"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    logger.info(
        "trained in %.1fs: test AP %.4f (rules %s), AUC %.4f",
        timings["total"],
        model_test["ap"],
        f"{rules_test['ap']:.4f}" if rules_test else "n/a",
        model_test["auc"],
    )
    return result


def _shrink(booster: lgb.Booster, iterations: int) -> lgb.Booster:
    """A booster holding only the first ``iterations`` trees."""
    if booster.current_iteration() == iterations:
        return booster
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=iterations))


def _reference(
    x_train: pd.DataFrame,
    prep: _Prepared,
    valid_score: np.ndarray,
    seed: int,
    max_rows: int = 50_000,
) -> Reference:
    sample = x_train
    if len(sample) > max_rows:
        sample = sample.sample(n=max_rows, random_state=seed)
    cols = {  # calendar features move every month by design: not drift
        f: sample[f].to_numpy(dtype=np.float64, na_value=np.nan)
        for f in prep.features
        if f not in prep.categorical and prep.catalogue[f].group != "calendar"
    }
    cols["risk_score"] = valid_score
    return Reference.fit(cols)


def _importance(
    model: ArrearsModel, x_test: pd.DataFrame, seed: int, max_rows: int = 2_000
) -> tuple[pd.DataFrame, pd.DataFrame]:
    sample = (
        x_test
        if len(x_test) <= max_rows
        else x_test.sample(n=max_rows, random_state=seed)
    )
    contrib = model.contributions(sample)[:, :-1]
    spec = model.spec
    imp = pd.DataFrame(
        {
            "feature": spec.features,
            "group": [spec.catalogue[f].group for f in spec.features],
            "gain": model.booster.feature_importance("gain"),
            "split": model.booster.feature_importance("split"),
            "mean_abs_shap": np.abs(contrib).mean(axis=0),
        }
    ).sort_values("mean_abs_shap", ascending=False, ignore_index=True)
    groups = spec.groups()
    member = np.array(
        [[spec.catalogue[f].group == g for g in groups] for f in spec.features],
        dtype=float,
    )
    by_group = np.abs(contrib @ member).mean(axis=0)
    gimp = pd.DataFrame({"group": groups, "mean_abs_shap": by_group}).sort_values(
        "mean_abs_shap", ascending=False, ignore_index=True
    )
    return imp, gimp


def _log_run(
    result: TrainResult,
    prep: _Prepared,
    frame: pd.DataFrame,
    lgb_params: dict[str, Any],
    x_te: pd.DataFrame,
    y_te: np.ndarray,
    scores: dict[str, np.ndarray],
    *,
    calibration: str,
    level_shares: tuple[float, float, float],
    alert_volume: float,
    tune: int,
    tracking_uri: str | None,
    experiment: str,
    model_name: str,
    register: bool,
) -> None:
    import mlflow

    from anxin import _plots, tracking

    splits = result.splits
    with tracking.use_tracking(tracking_uri) as uri:
        exp_id = tracking.ensure_experiment(experiment, uri)
        tags = {
            "anxin_version": __version__,
            "data_window": f"{frame['period'].min()}..{frame['period'].max()}",
            "horizon": str(splits.horizon),
            "rows": str(len(frame)),
            "positives": str(int(frame["label"].sum())),
            "data_fingerprint": _fingerprint(frame),
            "splits": str(splits),
            "source": prep.source,
            "alert_volume": str(alert_volume),
        }
        sha = tracking.git_sha()
        if sha:
            tags["git_sha"] = sha
        run_name = f"train-{splits.test[1]}-h{splits.horizon}"
        with tracking.start_run(exp_id, run_name, tags) as run:
            params = {
                **{
                    f"lgb_{k}": v
                    for k, v in lgb_params.items()
                    if k not in ("metric", "verbose")
                },
                "horizon": splits.horizon,
                "split_train": "..".join(splits.train),
                "split_valid": "..".join(splits.valid),
                "split_test": "..".join(splits.test),
                "calibration": calibration,
                "level_shares": ",".join(str(s) for s in level_shares),
                "n_features": len(prep.features),
                "best_iteration": result.best_iteration,
                "refit": result.model.spec.info.get("refit", False),
                "tune_trials": tune,
                "volumes": ",".join(str(v) for v in VOLUMES),
            }
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
            mlflow.log_metrics(tracking.clean_metrics(result.metrics))
            with warnings.catch_warnings():
                # MLflow's hint about integer columns concerns the 0/1 label
                warnings.filterwarnings("ignore", message="Hint: Inferred schema")
                dataset = mlflow.data.from_pandas(  # type: ignore[attr-defined]
                    frame.head(10_000),  # a sample: the digest names the whole
                    name="anxin-panel",
                    targets="label",
                    digest=tags["data_fingerprint"],
                )
                mlflow.log_input(dataset, context="training")
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp)
                _plots.write_plots(
                    out / "plots",
                    y_te,
                    scores,
                    result.lift,
                    result.importance,
                    result.group_importance,
                )
                tables = out / "tables"
                tables.mkdir()
                result.comparison.rename_axis("model").reset_index().to_csv(
                    tables / "metrics_comparison.csv", index=False
                )
                result.lift.to_csv(tables / "lift.csv", index=False)
                for kind, table in result.slices.items():
                    table.to_csv(tables / f"slices_{kind}.csv", index=False)
                result.importance.to_csv(tables / "feature_importance.csv", index=False)
                result.group_importance.to_csv(
                    tables / "group_importance.csv", index=False
                )
                (out / "model_card.md").write_text(result.card, encoding="utf-8")
                mlflow.log_artifacts(str(out / "plots"), artifact_path="plots")
                mlflow.log_artifacts(str(tables), artifact_path="tables")
                mlflow.log_artifact(str(out / "model_card.md"))
            info = tracking.log_model(result.model, x_te.head(5))
            result.run_id = run.info.run_id
            result.model_uri = info.model_uri
            if register:
                version, aliases = tracking.register(
                    info.model_uri,
                    model_name,
                    run_id=run.info.run_id,
                    uri=uri,
                    model_id=getattr(info, "model_id", None),
                    tags={
                        "test_ap": f"{result.metrics['test_ap']:.5f}",
                        "rules_test_ap": (
                            f"{result.metrics.get('rules_test_ap', np.nan):.5f}"
                        ),
                        "data_window": tags["data_window"],
                    },
                )
                result.model_name, result.model_version = model_name, version
                result.aliases = aliases
                result.model.name, result.model.version = model_name, version
                mlflow.set_tags(
                    {"registered_model": model_name, "registered_version": version}
                )
