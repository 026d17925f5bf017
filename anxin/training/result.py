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
