"""Evaluation of a trained model: test metrics beside the baselines, lift,
slices, importance, and the flat metric names logged to MLflow.

The metric functions themselves (:func:`~anxin.metrics.evaluate`,
:func:`~anxin.metrics.lift_table`, :func:`~anxin.metrics.slice_metrics`) live
in :mod:`anxin.metrics`; promotion uses them too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from anxin.metrics import evaluate, lift_table, slice_metrics
from anxin.model import ArrearsModel
from anxin.training.baselines import RuleBaseline
from anxin.training.splits import SplitData, SplitRows

__all__ = [
    "SLICES",
    "Evaluation",
    "ScoresOnTest",
    "evaluate_scores",
    "feature_importance",
    "flat_metrics",
    "prefixed",
    "slice_tables",
]

#: The columns test metrics are sliced by.
SLICES = ("industry", "region")


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
    """

    test: dict[str, float]
    valid: dict[str, float]
    rules: dict[str, float] | None
    logreg: dict[str, float]
    comparison: pd.DataFrame
    lift: pd.DataFrame
    slices: dict[str, pd.DataFrame]


def evaluate_scores(
    data: SplitData, scores: ScoresOnTest, *, valid_score: np.ndarray
) -> Evaluation:
    """Evaluate the model's and the baselines' scores on the same test rows
    (and the model's on validation)."""
    test, valid, rules = data.test, data.valid, scores.rules
    model_test = evaluate(test.y, scores.model, test.months)
    model_valid = evaluate(valid.y, valid_score, valid.months)
    rules_test = (
        None
        if rules is None
        else evaluate(test.y, rules.probability, test.months, tiebreak=rules.tiebreak)
    )
    logreg_test = evaluate(test.y, scores.logreg, test.months)
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
    )


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
    """Every metric under its logged name.

    ``test_*`` and ``valid_*`` for the model, ``rules_test_*`` and
    ``logreg_test_*`` for the baselines, ``test_auc__industry_X`` and
    ``test_ap__region_Y`` per slice, and ``best_iteration``.
    """
    metrics: dict[str, float] = {}
    metrics.update(prefixed("test_", evaluation.test))
    metrics.update(prefixed("valid_", evaluation.valid))
    if evaluation.rules is not None:
        metrics.update(prefixed("rules_test_", evaluation.rules))
    metrics.update(prefixed("logreg_test_", evaluation.logreg))
    for kind, table in evaluation.slices.items():
        for rec in table.itertuples(index=False):
            key = getattr(rec, kind)
            for m in ("auc", "ap"):
                metrics[f"test_{m}__{kind}_{key}"] = float(getattr(rec, m))
    metrics["best_iteration"] = float(best_iteration)
    return metrics


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
