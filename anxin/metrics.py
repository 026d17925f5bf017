"""Evaluation of a risk score on out-of-time data.

Alert volumes are taken per month, as a bureau works: "top 5%" means the 5%
highest-scored enterprises of each as-of month. Recall and precision at a
volume pool those monthly alert lists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

__all__ = ["VOLUMES", "evaluate", "lift_table", "slice_metrics"]

#: Alert volumes (share of enterprises per month) reported everywhere.
VOLUMES = (0.01, 0.03, 0.05, 0.10)


def _pct(v: float) -> str:
    return f"{round(v * 100):d}pct"


def _month_ranks(
    score: np.ndarray, months: np.ndarray, tiebreak: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Rank of each row within its month (0 = highest) and its month's size."""
    score = np.asarray(score, dtype=np.float64)
    months = np.asarray(months)
    tb = np.zeros_like(score) if tiebreak is None else np.asarray(tiebreak, float)
    order = np.lexsort((-tb, -score, months))
    sorted_months = months[order]
    starts = np.flatnonzero(np.r_[True, sorted_months[1:] != sorted_months[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(starts, sizes)
    size = np.empty(len(order), dtype=np.int64)
    size[order] = np.repeat(sizes, sizes)
    return rank, size


def evaluate(
    y: np.ndarray,
    score: np.ndarray,
    months: np.ndarray,
    *,
    tiebreak: np.ndarray | None = None,
    volumes: tuple[float, ...] = VOLUMES,
) -> dict[str, float]:
    """Headline metrics of a probability ``score`` against outcomes ``y``.

    Returns ``auc``, ``ap``, ``ks``, ``brier``, ``log_loss``, ``positives``,
    ``rows``, ``base_rate`` and ``recall_at_Npct`` / ``precision_at_Npct`` for
    each volume.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1])
    >>> m = evaluate(y, np.array([0.1, 0.2, 0.8, 0.9]), np.zeros(4))
    >>> m["auc"], m["ks"], m["recall_at_10pct"], m["precision_at_10pct"]
    (1.0, 1.0, 0.5, 1.0)
    """
    y = np.asarray(y, dtype=np.int8)
    score = np.asarray(score, dtype=np.float64)
    out: dict[str, float] = {
        "rows": float(y.size),
        "positives": float(y.sum()),
        "base_rate": float(y.mean()) if y.size else float("nan"),
    }
    both = 0 < y.sum() < y.size
    if both:
        fpr, tpr, _ = skm.roc_curve(y, score)
        out["auc"] = float(skm.roc_auc_score(y, score))
        out["ap"] = float(skm.average_precision_score(y, score))
        out["ks"] = float(np.max(tpr - fpr))
    else:
        out["auc"] = out["ap"] = out["ks"] = float("nan")
    clipped = np.clip(score, 1e-7, 1 - 1e-7)
    out["brier"] = float(np.mean((score - y) ** 2)) if y.size else float("nan")
    out["log_loss"] = (
        float(skm.log_loss(y, clipped, labels=[0, 1])) if y.size else float("nan")
    )
    rank, size = _month_ranks(score, months, tiebreak)
    for v in volumes:
        flagged = rank < np.ceil(v * size - 1e-9)
        tp = float(y[flagged].sum())
        positives, n_flagged = float(y.sum()), float(flagged.sum())
        out[f"recall_at_{_pct(v)}"] = tp / positives if positives else float("nan")
        out[f"precision_at_{_pct(v)}"] = tp / n_flagged if n_flagged else 0.0
    return out


def lift_table(y: np.ndarray, score: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Decile lift: rows, positives, rate, lift and cumulative recall per bin.

    Bin 1 holds the highest scores.
    """
    y = np.asarray(y, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    order = np.argsort(-score, kind="stable")
    bins = np.empty(y.size, dtype=np.int64)
    bins[order] = np.arange(y.size) * n_bins // max(y.size, 1) + 1
    frame = pd.DataFrame({"decile": bins, "y": y, "score": score})
    table = frame.groupby("decile").agg(
        rows=("y", "size"), positives=("y", "sum"), mean_score=("score", "mean")
    )
    base = y.mean() if y.size else np.nan
    table["rate"] = table["positives"] / table["rows"]
    table["lift"] = table["rate"] / base if base else np.nan
    table["cum_recall"] = table["positives"].cumsum() / max(y.sum(), 1)
    return table.reset_index()


def slice_metrics(
    y: np.ndarray,
    score: np.ndarray,
    months: np.ndarray,
    groups: np.ndarray,
    name: str,
) -> pd.DataFrame:
    """Headline metrics within each slice (industry or region)."""
    frame = pd.DataFrame(
        {
            "y": y,
            "score": score,
            "month": months,
            "group": np.asarray(groups, dtype=object),
        }
    )
    rows = []
    for key, part in frame.groupby("group", sort=True):
        m = evaluate(
            part["y"].to_numpy(),
            part["score"].to_numpy(),
            part["month"].to_numpy(),
            volumes=(0.05,),
        )
        rows.append(
            {
                name: key,
                "rows": int(m["rows"]),
                "positives": int(m["positives"]),
                "base_rate": m["base_rate"],
                "auc": m["auc"],
                "ap": m["ap"],
                "brier": m["brier"],
                "recall_at_5pct": m["recall_at_5pct"],
            }
        )
    return pd.DataFrame(rows)
