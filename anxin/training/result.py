"""What :func:`anxin.train` returns."""

from __future__ import annotations

import dataclasses

import pandas as pd

from anxin.model import ArrearsModel
from anxin.training.splits import Splits

__all__ = ["TrainResult"]


@dataclasses.dataclass
class TrainResult:
    """What :func:`~anxin.train` produced.

    Attributes
    ----------
    model : ArrearsModel
        The model that was registered (refitted when ``refit=True``).
    splits : Splits
    metrics : dict
        The headline metrics logged to MLflow: ``test_*`` for the model,
        ``rules_test_*`` and ``logreg_test_*`` for the baselines, calibration,
        warning levels, worst slices (see
        :func:`~anxin.training.evaluation.flat_metrics`).
    comparison : DataFrame
        Every test metric of model, rules and logistic regression side by
        side (recall and precision at 1, 3, 5, 10%, log loss, rows, ...).
    lift : DataFrame
        Decile lift of the model on test.
    slices : dict
        ``industry`` and ``region`` -> test metrics per slice.
    importance, group_importance : DataFrame
        Gain and mean |SHAP| per feature, and mean |SHAP| per reason group.
    monthly : DataFrame
        AUC, AP and recall at the alert volume per test month and scorer
        (logged as the series ``test_auc_by_month`` and ``test_ap_by_month``,
        one step per month).
    levels : DataFrame
        Volume, precision and recall of each warning level on test.
    card : str
        The model card (Markdown), also logged as ``model_card.md``.
    run_id, model_uri, model_name, model_version : str or None
        MLflow coordinates (``None`` when ``log=False``).
    run_name : str
        The run's name (``lgbm-h3-2022-07..2026-03-sigmoid``: what differs
        between runs), also without MLflow.
    run_link : str or None
        The run's page in the MLflow UI (relative, ``#/experiments/...``,
        unless the store is a server).
    aliases : list of str
        Registry aliases the new version received.
    best_iteration : int
    timings : dict
        Seconds spent per step.
    periods : str
        How the period column was read: its cadence, and whether that was
        inferred (``"yearly periods (dates, inferred from the dates)"``), or
        ``"a snapshot"``.
    nonfinite : dict
        Feature -> how many infinite (or beyond float32) values were read as
        missing.
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
    monthly: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    levels: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    run_name: str = ""
    run_link: str | None = None
    run_id: str | None = None
    model_uri: str | None = None
    model_name: str | None = None
    model_version: str | None = None
    aliases: list[str] = dataclasses.field(default_factory=list)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    periods: str = ""
    nonfinite: dict[str, int] = dataclasses.field(default_factory=dict)
