"""Evaluation of a trained model: test metrics beside the baselines, lift,
slices, calibration, warning levels, stability per test month, importance,
and the headline metrics logged to MLflow.

The metric functions themselves (:func:`~anxin.metrics.evaluate`,
:func:`~anxin.metrics.lift_table`, :func:`~anxin.metrics.slice_metrics`,
:func:`~anxin.metrics.calibration_stats`, ...) live in :mod:`anxin.metrics`;
promotion and comparisons use them too.

MLflow gets a small set of headline metrics (:func:`flat_metrics`, about 40:
what an analyst reads first, for the model and both baselines) and two
series with one step per test month (:func:`monthly_series`); everything
else goes into the run's tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from anxin.levels import LevelPolicy
from anxin.metrics import (
    VOLUMES,
    calibration_stats,
    evaluate,
    level_table,
    lift_table,
    monthly_metrics,
    slice_metrics,
    volume_key,
)
from anxin.model import ArrearsModel
from anxin.training.baselines import RuleBaseline
from anxin.training.splits import SplitData, SplitRows

__all__ = [
    "HEADLINE",
    "MIN_SLICE_POSITIVES",
    "SLICES",
    "Evaluation",
    "ScoresOnTest",
    "evaluate_scores",
    "feature_importance",
    "flat_metrics",
    "monthly_series",
    "prefixed",
    "slice_tables",
]

#: The columns test metrics are sliced by.
SLICES = ("industry", "region")
#: The headline metrics of the model and of each baseline (besides recall and
#: precision at the alert volume).
HEADLINE = ("auc", "gini", "ap", "ks", "brier")
#: Slices with fewer test positives do not count for the worst-slice metrics.
MIN_SLICE_POSITIVES = 10


@dataclasses.dataclass(frozen=True)
class ScoresOnTest:
    """The scores of the model and the baselines on the test rows.

    Attributes
    ----------
    model : ndarray
        The model's calibrated probabilities.
    rules : RuleBaseline or None
        The rule score (``None`` without rule features).
    logreg : ndarray
        The logistic regression's probabilities.
    """

    model: np.ndarray
    rules: RuleBaseline | None
    logreg: np.ndarray

    def curves(self) -> dict[str, np.ndarray]:
        """Scorer name -> the scores its ROC and PR curves are drawn from."""
        curves = {"model": self.model, "logreg": self.logreg}
        if self.rules is not None:
            curves["rules"] = self.rules.points
        return curves


@dataclasses.dataclass
class Evaluation:
    """Metrics of the model and the baselines.

    Attributes
    ----------
    test, valid : dict
        The model's metrics (:func:`anxin.metrics.evaluate`) on test and
        validation.
    rules : dict or None
        The rule score's test metrics (``None`` without rule features).
    logreg : dict
        The logistic regression's test metrics.
    comparison : DataFrame
        One row per scorer (``model``, ``rules``, ``logreg``): test metrics.
    lift : DataFrame
        Decile lift of the model on test.
    slices : dict
        ``industry`` and ``region`` -> the model's test metrics per slice.
    calibration : dict
        The model's ECE, calibration slope and intercept on test.
    monthly : DataFrame
        AUC, AP and recall at the alert volume per test month and scorer
        (:func:`anxin.metrics.monthly_metrics` with a ``scorer`` column).
    levels : DataFrame
        Volume, precision and recall of each warning level on test
        (:func:`anxin.metrics.level_table`; empty without a level policy).
    alert_volume : float
        The alert volume of the headline recall and precision.
    """

    test: dict[str, float]
    valid: dict[str, float]
    rules: dict[str, float] | None
    logreg: dict[str, float]
    comparison: pd.DataFrame
    lift: pd.DataFrame
    slices: dict[str, pd.DataFrame]
    calibration: dict[str, float] = dataclasses.field(default_factory=dict)
    monthly: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    levels: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    alert_volume: float = 0.05


def evaluate_scores(
    data: SplitData,
    scores: ScoresOnTest,
    *,
    valid_score: np.ndarray,
    policy: LevelPolicy | None = None,
    alert_volume: float = 0.05,
) -> Evaluation:
    """Evaluate the model's and the baselines' scores on the same test rows
    (and the model's on validation); the warning levels when ``policy`` is
    given. The headline metrics weigh the rows of a down-sampled frame; the
    monthly, slice, lift and level tables count the rows as sampled."""
    test, valid, rules = data.test, data.valid, scores.rules
    volumes = tuple(sorted({*VOLUMES, alert_volume}))
    model_test = evaluate(
        test.y, scores.model, test.months, volumes=volumes, weight=test.w
    )
    model_valid = evaluate(
        valid.y, valid_score, valid.months, volumes=volumes, weight=valid.w
    )
    rules_test = (
        None
        if rules is None
        else evaluate(
            test.y,
            rules.probability,
            test.months,
            tiebreak=rules.tiebreak,
            volumes=volumes,
            weight=test.w,
        )
    )
    logreg_test = evaluate(
        test.y, scores.logreg, test.months, volumes=volumes, weight=test.w
    )
    rows = {"model": model_test, "rules": rules_test, "logreg": logreg_test}
    comparison = pd.DataFrame.from_dict(
        {k: v for k, v in rows.items() if v is not None}, orient="index"
    )
    return Evaluation(
        test=model_test,
        valid=model_valid,
        rules=rules_test,
        logreg=logreg_test,
        comparison=comparison,
        lift=lift_table(test.y, scores.model),
        slices=slice_tables(test, scores.model),
        calibration=calibration_stats(test.y, scores.model),
        monthly=_monthly(test, scores, alert_volume),
        levels=_levels(test, scores.model, policy),
        alert_volume=alert_volume,
    )


def _monthly(test: SplitRows, scores: ScoresOnTest, volume: float) -> pd.DataFrame:
    """Per test month and scorer: AUC, AP, recall at the alert volume."""
    parts = {
        "model": monthly_metrics(test.y, scores.model, test.months, volume=volume),
        "logreg": monthly_metrics(test.y, scores.logreg, test.months, volume=volume),
    }
    if scores.rules is not None:
        parts["rules"] = monthly_metrics(
            test.y,
            scores.rules.probability,
            test.months,
            volume=volume,
            tiebreak=scores.rules.tiebreak,
        )
    return pd.concat(
        [part.assign(scorer=name) for name, part in parts.items()], ignore_index=True
    )


def _levels(
    test: SplitRows, score: np.ndarray, policy: LevelPolicy | None
) -> pd.DataFrame:
    """The warning levels of the test rows, as the model would assign them."""
    if policy is None:
        return pd.DataFrame()
    regions = test.x["region"].astype("str").to_numpy() if "region" in test.x else None
    return level_table(test.y, policy.assign(score, regions), test.months)


def slice_tables(test: SplitRows, score: np.ndarray) -> dict[str, pd.DataFrame]:
    """Test metrics per industry and per region (one ``all`` slice when the
    data lack the column)."""
    x = test.x
    return {
        kind: slice_metrics(
            test.y,
            score,
            test.months,
            (x[kind] if kind in x else pd.Series("all", index=x.index))
            .astype("str")
            .to_numpy(),
            kind,
        )
        for kind in SLICES
    }


def prefixed(prefix: str, metrics: Mapping[str, float]) -> dict[str, float]:
    """``metrics`` with ``prefix`` before each name, values as floats.

    Examples
    --------
    >>> prefixed("test_", {"ap": 1})
    {'test_ap': 1.0}
    """
    return {f"{prefix}{k}": float(v) for k, v in metrics.items()}


def flat_metrics(evaluation: Evaluation, best_iteration: int) -> dict[str, float]:
    """The headline metrics, under the names MLflow logs them with.

    For the model ``test_*`` and for the baselines ``rules_test_*`` and
    ``logreg_test_*``: AUC, Gini, AP, KS, Brier, and recall and precision at
    the alert volume (``recall_at_5pct``, ``precision_at_5pct`` by default).
    The model's calibration (``test_ece``, ``test_calibration_slope``,
    ``test_calibration_intercept``), its warning levels
    (``test_red_precision``, ``test_red_recall``, ``test_red_volume``, ... for
    red, orange, yellow), its worst slices (``test_auc_worst_industry``,
    ``test_auc_worst_region``: the lowest AUC of a slice with at least
    :data:`MIN_SLICE_POSITIVES` positives), ``valid_ap`` and
    ``best_iteration``. Everything else is in the run's tables.
    """
    keys = (
        *HEADLINE,
        volume_key(evaluation.alert_volume),
        volume_key(evaluation.alert_volume, "precision"),
    )
    metrics: dict[str, float] = {}
    for prefix, source in (
        ("test_", evaluation.test),
        ("rules_test_", evaluation.rules),
        ("logreg_test_", evaluation.logreg),
    ):
        if source is not None:
            metrics.update(prefixed(prefix, {k: source[k] for k in keys}))
    metrics.update(prefixed("test_", evaluation.calibration))
    for rec in evaluation.levels.itertuples(index=False):
        for what in ("precision", "recall", "volume"):
            metrics[f"test_{rec.level}_{what}"] = float(getattr(rec, what))
    for kind, table in evaluation.slices.items():
        counted = table[table["positives"] >= MIN_SLICE_POSITIVES]["auc"].dropna()
        metrics[f"test_auc_worst_{kind}"] = (
            float(counted.min()) if len(counted) else float("nan")
        )
    metrics["valid_ap"] = float(evaluation.valid["ap"])
    metrics["best_iteration"] = float(best_iteration)
    return metrics


def monthly_series(evaluation: Evaluation) -> dict[str, list[tuple[str, float]]]:
    """The model's per-month test metrics as MLflow series: name -> (month,
    value) in month order (``test_auc_by_month``, ``test_ap_by_month``)."""
    model = evaluation.monthly
    if model.empty:
        return {}
    model = model[model["scorer"] == "model"].sort_values("month")
    return {
        f"test_{m}_by_month": [
            (str(month), float(value))
            for month, value in zip(model["month"], model[m], strict=True)
        ]
        for m in ("auc", "ap")
    }


def feature_importance(
    model: ArrearsModel, x_test: pd.DataFrame, seed: int, max_rows: int = 2_000
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gain, splits and mean |SHAP| per feature, and mean |SHAP| per reason group.

    SHAP values are computed on at most ``max_rows`` test rows (a seeded
    sample); a group's value is the mean absolute sum of its features'.
    Both tables are sorted by mean |SHAP|, largest first.
    """
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
