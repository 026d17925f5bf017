"""Evaluation charts logged with each training run (and, overlaid, with
each comparison of two models).

The figures are drawn with matplotlib's object-oriented API (no pyplot), so
writing them neither needs a display nor changes the backend of the caller's
session. The chart functions take one score or several (name -> scores) and
overlay them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "calibration_chart",
    "levels_chart",
    "lift_chart",
    "months_chart",
    "pr_chart",
    "roc_chart",
    "write_plots",
]


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
    *,
    levels: pd.DataFrame | None = None,
    monthly: pd.DataFrame | None = None,
) -> list[Path]:
    """ROC, PR, calibration, lift, levels, stability, importance and SHAP
    charts into ``out``.

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
    levels, monthly : DataFrame, optional
        As in :class:`~anxin.training.TrainResult`; their charts are drawn
        when given and not empty.

    Returns
    -------
    list of Path
        ``roc.png``, ``pr.png``, ``calibration.png``, ``lift.png``,
        ``levels.png`` and ``months.png`` (when their tables are given),
        ``feature_importance.png``, ``shap_features.png``, ``shap_groups.png``.
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        roc_chart(out / "roc.png", y, scores),
        pr_chart(out / "pr.png", y, scores),
        calibration_chart(out / "calibration.png", y, {"model": scores["model"]}),
        lift_chart(out / "lift.png", {"model": lift}),
    ]
    if levels is not None and not levels.empty:
        paths.append(levels_chart(out / "levels.png", {"model": levels}))
    if monthly is not None and not monthly.empty:
        paths.append(months_chart(out / "months.png", monthly))
    return [
        *paths,
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


def roc_chart(
    path: Path, y: np.ndarray, scores: dict[str, np.ndarray], title: str = "ROC (test)"
) -> Path:
    """ROC curves of each score, with their AUC in the legend."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fig, ax = _figure((5, 5))
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(y, s):.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.legend(loc="lower right")
    return _save(fig, path)


def pr_chart(
    path: Path,
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    title: str = "Precision-recall (test)",
) -> Path:
    """Precision-recall curves of each score, with their AP in the legend."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, ax = _figure((5, 5))
    for name, s in scores.items():
        p, r, _ = precision_recall_curve(y, s)
        ax.plot(r, p, label=f"{name} (AP {average_precision_score(y, s):.3f})")
    ax.axhline(np.mean(y), color="k", ls=":", lw=0.8, label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title=title)
    ax.legend(loc="upper right")
    return _save(fig, path)


def calibration_chart(
    path: Path,
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    *,
    n_bins: int = 12,
    title: str = "Calibration (test)",
) -> Path:
    """Observed against predicted risk on log scales, readable near 0.

    The bins are spaced evenly on the log scale (the same bins for every
    score), so their counts differ: the lower panel shows the rows and the
    positives of each bin, which says how far to trust each point. Bins
    without a positive are drawn on the bottom edge as open markers.
    """
    from matplotlib.figure import Figure

    from anxin.metrics import calibration_bins

    every = np.concatenate([np.asarray(s, dtype=float) for s in scores.values()])
    low = max(float(np.quantile(every, 0.001)), 1e-5)
    edges = np.geomspace(low, max(float(every.max()), low * 10), n_bins + 1)
    fig = Figure(figsize=(6, 6.5))
    top, bottom = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]}
    )
    floor = low / 2
    top.plot(edges[[0, -1]], edges[[0, -1]], "k:", lw=0.8, label="perfect")
    share = np.log(edges[1] / edges[0]) * 0.8 / len(scores)
    for i, (name, s) in enumerate(scores.items()):
        b = calibration_bins(y, s, edges=edges)
        seen = b["observed"] > 0
        color = top.plot(
            b.loc[seen, "predicted"], b.loc[seen, "observed"], "o-", label=name
        )[0].get_color()
        top.plot(
            b.loc[~seen, "predicted"],
            np.full(int((~seen).sum()), floor),
            "v",
            mfc="none",
            color=color,
        )
        left = edges[b["bin"] - 1] * np.exp(share * (i + 0.1 * len(scores)))
        width = left * (np.exp(share) - 1)
        bottom.bar(left, b["rows"], width=width, align="edge", color=color, alpha=0.4)
        bottom.bar(left, b["positives"], width=width, align="edge", color=color)
    top.set(xscale="log", yscale="log", ylabel="observed rate")
    top.set_ylim(bottom=floor / 1.5)
    top.set_title(f"{title}, log scales")
    top.legend(loc="upper left", fontsize=8)
    bottom.set(
        xscale="log",
        yscale="log",
        xlabel="predicted risk",
        ylabel="rows / positives",
    )
    return _save(fig, path)


def lift_chart(
    path: Path, lifts: dict[str, pd.DataFrame], title: str = "Decile lift (test)"
) -> Path:
    """Decile lift: bars for one score, side-by-side bars for several."""
    fig, ax = _figure((6, 4))
    width = 0.8 / len(lifts)
    for i, (name, lift) in enumerate(lifts.items()):
        offset = (i - (len(lifts) - 1) / 2) * width
        ax.bar(lift["decile"] + offset, lift["lift"], width=width, label=name)
    ax.axhline(1, color="k", ls=":", lw=0.8)
    ax.set(xlabel="score decile (1 = highest)", ylabel="lift", title=title)
    ax.set_xticks(range(1, 11))
    if len(lifts) > 1:
        ax.legend()
    return _save(fig, path)


def levels_chart(
    path: Path,
    levels: dict[str, pd.DataFrame],
    title: str = "Warning levels (test)",
) -> Path:
    """Enterprises per month at each level (bars) and the level's precision
    (dots, right axis), for one or several models."""
    fig, ax = _figure((6.5, 4))
    right = ax.twinx()
    width = 0.8 / len(levels)
    names = list(next(iter(levels.values()))["level"])
    x = np.arange(len(names))
    top = 0.0
    for i, (name, table) in enumerate(levels.items()):
        offset = (i - (len(levels) - 1) / 2) * width
        color = f"C{i}"
        ax.bar(
            x + offset,
            table["per_month"],
            width=width,
            color=color,
            alpha=0.45,
            label=f"{name}: enterprises a month",
        )
        right.plot(
            x + offset,
            table["precision"],
            "D",
            color=color,
            mec="k",
            label=f"{name}: precision",
        )
        for xi, rec in zip(x + offset, table.itertuples(index=False), strict=True):
            ax.annotate(
                f"recall {rec.recall:.0%}",
                (xi, rec.per_month),
                ha="center",
                va="bottom",
                fontsize=7,
            )
        top = max(top, float(table["per_month"].max()))
    ax.set_xticks(x, names)
    ax.set(ylabel="enterprises per month (bars)", title=title, ylim=(0, top * 1.35))
    right.set(ylabel="precision (diamonds)")
    right.set_ylim(0, float(np.nanmax(right.get_ylim())) * 1.25)
    handles = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=7)
    return _save(fig, path)


def months_chart(
    path: Path,
    monthly: pd.DataFrame,
    title: str = "Stability per test month",
) -> Path:
    """AUC and AP per month, one line per scorer (``scorer`` column)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    left, right = fig.subplots(1, 2)
    for scorer, part in monthly.groupby("scorer", sort=False):
        part = part.sort_values("month")
        left.plot(part["month"], part["auc"], "o-", label=str(scorer))
        right.plot(part["month"], part["ap"], "o-", label=str(scorer))
    left.set(title="AUC", xlabel="as-of month")
    right.set(title="AP", xlabel="as-of month")
    for ax in (left, right):
        ax.tick_params(axis="x", labelrotation=45)
    left.legend(fontsize=8)
    fig.suptitle(title)
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
