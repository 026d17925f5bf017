"""Evaluation charts logged with each training run.

The figures are drawn with matplotlib's object-oriented API (no pyplot), so
writing them neither needs a display nor changes the backend of the caller's
session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["write_plots"]


def _figure(size: tuple[float, float]) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    return fig, fig.subplots()


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def write_plots(
    out: Path,
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    lift: pd.DataFrame,
    importance: pd.DataFrame,
    group_importance: pd.DataFrame,
) -> list[Path]:
    """ROC, PR, calibration, lift, importance and SHAP charts into ``out``.

    Parameters
    ----------
    out : Path
        Directory (created if needed).
    y : ndarray
        Test outcomes (0/1).
    scores : dict
        Scorer name -> test scores; ``model`` is required (the calibration
        chart).
    lift, importance, group_importance : DataFrame
        As in :class:`~anxin.training.TrainResult`.

    Returns
    -------
    list of Path
        ``roc.png``, ``pr.png``, ``calibration.png``, ``lift.png``,
        ``feature_importance.png``, ``shap_features.png``, ``shap_groups.png``.
    """
    out.mkdir(parents=True, exist_ok=True)
    return [
        _roc(out / "roc.png", y, scores),
        _precision_recall(out / "pr.png", y, scores),
        _calibration(out / "calibration.png", y, scores["model"]),
        _lift(out / "lift.png", lift),
        _bars(
            out / "feature_importance.png",
            importance.nlargest(25, "gain").iloc[::-1],
            ("feature", "gain"),
            xlabel="total gain",
            title="Feature importance (gain, top 25)",
            size=(7, 7),
        ),
        _bars(
            out / "shap_features.png",
            importance.nlargest(25, "mean_abs_shap").iloc[::-1],
            ("feature", "mean_abs_shap"),
            xlabel="mean |SHAP| (log-odds)",
            title="Mean |SHAP| by feature (top 25)",
            size=(7, 7),
        ),
        _bars(
            out / "shap_groups.png",
            group_importance.iloc[::-1],
            ("group", "mean_abs_shap"),
            xlabel="mean |SHAP| (log-odds)",
            title="Mean |SHAP| by reason group",
            size=(6, 4),
        ),
    ]


def _roc(path: Path, y: np.ndarray, scores: dict[str, np.ndarray]) -> Path:
    from sklearn.metrics import roc_curve

    fig, ax = _figure((5, 5))
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(
        xlabel="false positive rate", ylabel="true positive rate", title="ROC (test)"
    )
    ax.legend()
    return _save(fig, path)


def _precision_recall(path: Path, y: np.ndarray, scores: dict[str, np.ndarray]) -> Path:
    from sklearn.metrics import precision_recall_curve

    fig, ax = _figure((5, 5))
    for name, s in scores.items():
        p, r, _ = precision_recall_curve(y, s)
        ax.plot(r, p, label=name)
    ax.axhline(y.mean(), color="k", ls=":", lw=0.8, label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (test)")
    ax.legend()
    return _save(fig, path)


def _calibration(path: Path, y: np.ndarray, score: np.ndarray) -> Path:
    fig, ax = _figure((5, 5))
    bins = np.array_split(np.argsort(score), 20)
    pred = [score[b].mean() for b in bins]
    obs = [y[b].mean() for b in bins]
    top = max(max(pred), max(obs)) * 1.05
    ax.plot([0, top], [0, top], "k:", lw=0.8)
    ax.plot(pred, obs, "o-", label="model (20 bins)")
    ax.set(xlabel="predicted risk", ylabel="observed rate", title="Calibration (test)")
    ax.legend()
    return _save(fig, path)


def _lift(path: Path, lift: pd.DataFrame) -> Path:
    fig, ax = _figure((6, 4))
    ax.bar(lift["decile"], lift["lift"])
    ax.set(
        xlabel="score decile (1 = highest)", ylabel="lift", title="Decile lift (test)"
    )
    return _save(fig, path)


def _bars(
    path: Path,
    table: pd.DataFrame,
    columns: tuple[str, str],
    *,
    xlabel: str,
    title: str,
    size: tuple[float, float],
) -> Path:
    """Horizontal bars of ``table[columns[1]]`` labelled by ``columns[0]``."""
    fig, ax = _figure(size)
    ax.barh(table[columns[0]], table[columns[1]])
    ax.set(xlabel=xlabel, title=title)
    return _save(fig, path)
