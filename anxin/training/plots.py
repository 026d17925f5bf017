"""Evaluation charts logged with each training run (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

__all__ = ["write_plots"]


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_plots(
    out: Path,
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    lift: pd.DataFrame,
    importance: pd.DataFrame,
    group_importance: pd.DataFrame,
) -> list[Path]:
    """ROC, PR, calibration, lift, importance and SHAP charts into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(
        xlabel="false positive rate", ylabel="true positive rate", title="ROC (test)"
    )
    ax.legend()
    files.append(_save(fig, out / "roc.png"))

    fig, ax = plt.subplots(figsize=(5, 5))
    for name, s in scores.items():
        p, r, _ = precision_recall_curve(y, s)
        ax.plot(r, p, label=name)
    ax.axhline(y.mean(), color="k", ls=":", lw=0.8, label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (test)")
    ax.legend()
    files.append(_save(fig, out / "pr.png"))

    fig, ax = plt.subplots(figsize=(5, 5))
    model = scores["model"]
    order = np.argsort(model)
    bins = np.array_split(order, 20)
    pred = [model[b].mean() for b in bins]
    obs = [y[b].mean() for b in bins]
    top = max(max(pred), max(obs)) * 1.05
    ax.plot([0, top], [0, top], "k:", lw=0.8)
    ax.plot(pred, obs, "o-", label="model (20 bins)")
    ax.set(xlabel="predicted risk", ylabel="observed rate", title="Calibration (test)")
    ax.legend()
    files.append(_save(fig, out / "calibration.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(lift["decile"], lift["lift"])
    ax.set(
        xlabel="score decile (1 = highest)", ylabel="lift", title="Decile lift (test)"
    )
    files.append(_save(fig, out / "lift.png"))

    top_imp = importance.nlargest(25, "gain").iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.barh(top_imp["feature"], top_imp["gain"])
    ax.set(xlabel="total gain", title="Feature importance (gain, top 25)")
    files.append(_save(fig, out / "feature_importance.png"))

    top_shap = importance.nlargest(25, "mean_abs_shap").iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.barh(top_shap["feature"], top_shap["mean_abs_shap"])
    ax.set(xlabel="mean |SHAP| (log-odds)", title="Mean |SHAP| by feature (top 25)")
    files.append(_save(fig, out / "shap_features.png"))

    groups = group_importance.iloc[::-1]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.barh(groups["group"], groups["mean_abs_shap"])
    ax.set(xlabel="mean |SHAP| (log-odds)", title="Mean |SHAP| by reason group")
    files.append(_save(fig, out / "shap_groups.png"))
    return files
