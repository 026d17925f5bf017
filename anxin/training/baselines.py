"""The two baselines the model is compared with on the same test rows.

* the rules: the weighted rule score bureaus run today
  (:data:`anxin.rules.BUREAU_RULES`), calibrated on validation (isotonic) for
  the probability metrics, ties broken by a seeded shuffle, not by row order;
* a logistic regression on the same features (signed-log, median-imputed
  with missing indicators, standardised; categoricals one-hot);
* the caller's own score (``train(..., baseline="my_score")``), calibrated
  on validation and ranked like the rules (:func:`own_baseline`).

A prepared frame without the rule features has no rule baseline, and that is
no cause for a warning: a bureau that brings its own indicators brings its
own rule score, if any, as ``baseline``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from anxin.calibration import Calibrator
from anxin.rules import BUREAU_RULES, Rule, rule_score
from anxin.training.splits import SplitRows

__all__ = [
    "RuleBaseline",
    "fit_logistic_regression",
    "logistic_regression_baseline",
    "logistic_regression_scores",
    "own_baseline",
    "rule_baseline",
    "signed_log",
]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RuleBaseline:
    """The rule score on the test rows.

    Attributes
    ----------
    points : ndarray
        Rule points per test row (what the charts plot).
    probability : ndarray
        The points calibrated on validation, nudged by at most ``1e-9`` so
        that more points never rank lower (what the metrics use).
    tiebreak : ndarray
        A seeded shuffle that orders equal probabilities.
    """

    points: np.ndarray
    probability: np.ndarray
    tiebreak: np.ndarray


def rule_baseline(
    valid: SplitRows,
    test: SplitRows,
    *,
    seed: int,
    rules: tuple[Rule, ...] = BUREAU_RULES,
) -> RuleBaseline | None:
    """Score ``test`` with the ``rules`` whose features the data have.

    Returns ``None`` when the data have none of them; rules whose feature is
    missing are left out (both logged, not warned about).
    """
    usable = tuple(r for r in rules if r.feature in test.x.columns)
    if len(usable) < len(rules):
        logger.info(
            "rule baseline: the data lack %s; %s",
            [r.feature for r in rules if r not in usable],
            "those rules are left out" if usable else "no rule baseline",
        )
    if not usable:
        return None
    return _ranked(
        rule_score(valid.x, usable), valid.y, rule_score(test.x, usable), seed
    )


def own_baseline(
    score: np.ndarray | None, valid: SplitRows, test: SplitRows, *, seed: int
) -> RuleBaseline | None:
    """The caller's score on the test rows, calibrated on validation.

    ``score`` holds every labelled row's score (rows found by the splits'
    index); a missing score ranks lowest. ``None`` without a score.
    """
    if score is None:
        return None
    values = np.asarray(score, dtype=np.float64)
    missing = np.isnan(values)
    if missing.any():
        logger.info("baseline: %d row(s) without a score rank lowest", missing.sum())
        low = np.nanmin(values) - 1 if (~missing).any() else 0.0
        values = np.where(missing, low, values)
    take = lambda rows: values[rows.x.index.to_numpy()]  # noqa: E731
    return _ranked(take(valid), valid.y, take(test), seed)


def _ranked(
    valid_points: np.ndarray, valid_y: np.ndarray, points: np.ndarray, seed: int
) -> RuleBaseline:
    """Points calibrated on validation (isotonic), nudged so that more points
    never rank lower, with a seeded tie-break."""
    calibrator = Calibrator("isotonic").fit(valid_points, valid_y)
    return RuleBaseline(
        points=points,
        probability=calibrator.transform(points) + _nudge(points),
        tiebreak=np.random.default_rng(seed).random(len(points)),
    )


def _nudge(points: np.ndarray) -> np.ndarray:
    """At most 1e-9, increasing with the points: equal calibrated values keep
    the points' order, whatever their scale or sign."""
    if len(points) == 0:
        return np.zeros(0)
    order = np.unique(points, return_inverse=True)[1]
    return 1e-9 * order / max(int(order.max()), 1)


def logistic_regression_baseline(
    train: SplitRows,
    test: SplitRows,
    *,
    features: list[str],
    categorical: Collection[str],
    seed: int,
) -> np.ndarray:
    """Fit the logistic regression on ``train``; its probabilities on ``test``."""
    pipe = fit_logistic_regression(
        train.x, train.y, features=features, categorical=categorical, seed=seed
    )
    return logistic_regression_scores(
        pipe, test.x, features=features, categorical=categorical
    )


def signed_log(x: Any) -> Any:
    """``sign(x) * log(1 + |x|)``: tames heavy tails, keeps the sign."""
    return np.sign(x) * np.log1p(np.abs(x))


def fit_logistic_regression(
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    features: list[str],
    categorical: Collection[str],
    seed: int,
    max_rows: int = 50_000,
) -> Any:
    """A fitted scikit-learn pipeline: logistic regression on ``features``.

    Numeric features are signed-log transformed, median-imputed with missing
    indicators and standardised; ``categorical`` ones are one-hot encoded.
    At most ``max_rows`` rows (a seeded sample) are used.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    numeric = [f for f in features if f not in categorical]
    cats = list(categorical)
    if len(x) > max_rows:
        keep = np.random.default_rng(seed).choice(len(x), size=max_rows, replace=False)
        keep.sort()
        x, y = x.iloc[keep], y[keep]
    numeric_steps = make_pipeline(
        FunctionTransformer(signed_log, feature_names_out="one-to-one"),
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    pre = ColumnTransformer(
        [
            ("num", numeric_steps, numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), cats),
        ]
    )
    pipe = Pipeline([("pre", pre), ("lr", LogisticRegression(C=0.1, max_iter=300))])
    pipe.fit(_as_text(x, features, cats), y)
    return pipe


def logistic_regression_scores(
    pipe: Any, x: pd.DataFrame, *, features: list[str], categorical: Collection[str]
) -> np.ndarray:
    """Probabilities of the fitted pipeline for the rows of ``x``."""
    return np.asarray(pipe.predict_proba(_as_text(x, features, categorical))[:, 1])


def _as_text(
    x: pd.DataFrame, features: list[str], categorical: Collection[str]
) -> pd.DataFrame:
    """A copy of the ``features`` columns with the categorical ones as text."""
    out = x[features].copy()
    for c in categorical:
        out[c] = out[c].astype("str")
    return out
