"""Evaluation of a risk score on out-of-time data.

Alert volumes are taken per month, as a bureau works: "top 5%" means the 5%
highest-scored enterprises of each as-of month. Recall and precision at a
volume pool those monthly alert lists.

Besides the headline metrics (:func:`evaluate`): Gini, calibration as numbers
(:func:`calibration_stats`: ECE, slope, intercept), per-month stability
(:func:`monthly_metrics`), precision, recall and volume per warning level
(:func:`level_table`). Confidence intervals for the difference between
two scores are in :mod:`anxin.bootstrap`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

__all__ = [
    "VOLUMES",
    "calibration_bins",
    "calibration_stats",
    "evaluate",
    "gini",
    "level_table",
    "lift_table",
    "monthly_metrics",
    "slice_metrics",
    "volume_key",
]

#: Alert volumes (share of enterprises per month) reported everywhere.
VOLUMES = (0.01, 0.03, 0.05, 0.10)


def _pct(v: float) -> str:
    return f"{round(v * 100):d}pct"


def volume_key(volume: float, what: str = "recall") -> str:
    """The metric name of ``what`` at an alert volume.

    Examples
    --------
    >>> volume_key(0.05), volume_key(0.1, "precision")
    ('recall_at_5pct', 'precision_at_10pct')
    """
    return f"{what}_at_{_pct(volume)}"


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
    weight: np.ndarray | None = None,
) -> dict[str, float]:
    """Headline metrics of a probability ``score`` against outcomes ``y``.

    Returns ``auc``, ``ap``, ``ks``, ``gini``, ``brier``, ``log_loss``,
    ``positives``, ``rows``, ``base_rate`` and ``recall_at_Npct`` /
    ``precision_at_Npct`` for each volume. With ``weight`` (the rows of a
    down-sampled frame) each row counts its weight: the metrics are those of
    the population the rows stand for, and ``rows`` and ``positives`` are
    weighted sums.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1])
    >>> m = evaluate(y, np.array([0.1, 0.2, 0.8, 0.9]), np.zeros(4))
    >>> m["auc"], m["ks"], m["recall_at_10pct"], m["precision_at_10pct"]
    (1.0, 1.0, 0.5, 1.0)
    """
    y = np.asarray(y, dtype=np.int8)
    score = np.asarray(score, dtype=np.float64)
    w = None if weight is None else np.asarray(weight, dtype=np.float64)
    out: dict[str, float] = {
        "rows": float(y.size if w is None else w.sum()),
        "positives": float(y.sum() if w is None else w[y == 1].sum()),
        "base_rate": float(np.average(y, weights=w)) if y.size else float("nan"),
    }
    both = 0 < y.sum() < y.size
    if both:
        fpr, tpr, _ = skm.roc_curve(y, score, sample_weight=w)
        out["auc"] = float(skm.roc_auc_score(y, score, sample_weight=w))
        out["ap"] = float(skm.average_precision_score(y, score, sample_weight=w))
        out["ks"] = float(np.max(tpr - fpr))
    else:
        out["auc"] = out["ap"] = out["ks"] = float("nan")
    out["gini"] = gini(out["auc"])
    clipped = np.clip(score, 1e-7, 1 - 1e-7)
    out["brier"] = (
        float(np.average((score - y) ** 2, weights=w)) if y.size else float("nan")
    )
    out["log_loss"] = (
        float(skm.log_loss(y, clipped, labels=[0, 1], sample_weight=w))
        if y.size
        else float("nan")
    )
    if w is not None:
        out.update(_weighted_volumes(y, score, months, tiebreak, volumes, w))
        return out
    rank, size = _month_ranks(score, months, tiebreak)
    for v in volumes:
        flagged = rank < np.ceil(v * size - 1e-9)
        tp = float(y[flagged].sum())
        positives, n_flagged = float(y.sum()), float(flagged.sum())
        out[f"recall_at_{_pct(v)}"] = tp / positives if positives else float("nan")
        out[f"precision_at_{_pct(v)}"] = tp / n_flagged if n_flagged else 0.0
    return out


def _weighted_volumes(
    y: np.ndarray,
    score: np.ndarray,
    months: np.ndarray,
    tiebreak: np.ndarray | None,
    volumes: tuple[float, ...],
    w: np.ndarray,
) -> dict[str, float]:
    """Recall and precision at each volume, each row counting its weight: a
    row is flagged while the weight ranked above it in its month is under
    the volume's share of the month's weight."""
    months = np.asarray(months)
    tb = np.zeros_like(score) if tiebreak is None else np.asarray(tiebreak, float)
    order = np.lexsort((-tb, -score, months))
    ws, ms = w[order], months[order]
    starts = np.flatnonzero(np.r_[True, ms[1:] != ms[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    total = np.add.reduceat(ws, starts) if len(order) else ws
    before = np.cumsum(ws) - ws - np.repeat(np.cumsum(np.r_[0.0, total[:-1]]), sizes)
    month_total = np.repeat(total, sizes)
    yw = (y[order] * ws).astype(np.float64)
    positives = float(yw.sum())
    out = {}
    for v in volumes:
        flagged = before < v * month_total - 1e-9
        tp, n_flagged = float(yw[flagged].sum()), float(ws[flagged].sum())
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


def gini(auc: float) -> float:
    """The Gini coefficient (accuracy ratio) of a score with this AUC.

    Examples
    --------
    >>> gini(0.8)
    0.6000000000000001
    """
    return 2.0 * float(auc) - 1.0


def calibration_bins(
    y: np.ndarray,
    score: np.ndarray,
    n_bins: int = 20,
    *,
    edges: np.ndarray | None = None,
) -> pd.DataFrame:
    """Bins of the score, lowest first: equal-count bins, or the bins between
    ``edges`` (scores below the first edge fall in the first bin, above the
    last in the last; empty bins are left out).

    Columns: ``bin``, ``rows``, ``positives``, ``predicted`` (mean score),
    ``observed`` (positive rate), ``low`` and ``high`` (the score range).

    Examples
    --------
    >>> t = calibration_bins(np.array([0, 0, 1, 1]), np.array([.1, .2, .3, .9]), 2)
    >>> t[["rows", "positives", "predicted", "observed"]].to_dict("list")
    {'rows': [2, 2], 'positives': [0, 2], 'predicted': [0.15..., 0.6], \
'observed': [0.0, 1.0]}
    """
    y = np.asarray(y, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    if edges is None:
        parts = np.array_split(np.argsort(score, kind="stable"), min(n_bins, y.size))
    else:
        where = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, None)
        where = np.minimum(where, len(edges) - 2)
        parts = [np.flatnonzero(where == i) for i in range(len(edges) - 1)]
    return pd.DataFrame(
        [
            {
                "bin": i + 1,
                "rows": part.size,
                "positives": int(y[part].sum()),
                "predicted": float(score[part].mean()),
                "observed": float(y[part].mean()),
                "low": float(score[part].min()),
                "high": float(score[part].max()),
            }
            for i, part in enumerate(parts)
            if part.size
        ],
        columns=["bin", "rows", "positives", "predicted", "observed", "low", "high"],
    )


def calibration_stats(
    y: np.ndarray, score: np.ndarray, n_bins: int = 20
) -> dict[str, float]:
    """Calibration of a probability as three numbers.

    * ``ece`` -- expected calibration error: the row-weighted mean gap
      between predicted and observed rates over ``n_bins`` equal-count bins
      (equal counts, because nearly every enterprise scores near 0);
    * ``calibration_slope`` -- ``b`` in ``logit P(y) = a + b * logit(score)``:
      1 when the spread is right, below 1 when the scores are too extreme;
    * ``calibration_intercept`` -- calibration in the large, ``a`` with the
      slope fixed at 1: 0 when the level is right, below 0 when the scores
      are too high on the whole.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.beta(1, 30, 50_000)
    >>> y = rng.random(50_000) < p
    >>> stats = calibration_stats(y, p)
    >>> abs(stats["calibration_slope"] - 1) < 0.1
    True
    >>> abs(stats["calibration_intercept"]) < 0.05
    True
    >>> stats["ece"] < 0.005
    True
    """
    y = np.asarray(y, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    nan = float("nan")
    if not 0 < y.sum() < y.size:
        return {"ece": nan, "calibration_slope": nan, "calibration_intercept": nan}
    bins = calibration_bins(y, score, n_bins)
    ece = float(
        np.sum(bins["rows"] * (bins["predicted"] - bins["observed"]).abs()) / y.size
    )
    clipped = np.clip(score, 1e-7, 1 - 1e-7)
    logit = np.log(clipped / (1 - clipped))
    ones = np.ones((y.size, 1))
    slope = _logistic_fit(np.column_stack([ones, logit]), y, np.zeros(y.size))[1]
    intercept = _logistic_fit(ones, y, logit)[0]
    return {
        "ece": ece,
        "calibration_slope": float(slope),
        "calibration_intercept": float(intercept),
    }


def _logistic_fit(
    x: np.ndarray, y: np.ndarray, offset: np.ndarray, iterations: int = 100
) -> np.ndarray:
    """Maximum-likelihood coefficients of a logistic regression with an
    offset (Newton's method, halving steps that lower the likelihood)."""
    from scipy.special import expit, log_expit

    def loglik(beta: np.ndarray) -> float:
        eta = offset + x @ beta
        return float(np.sum(y * log_expit(eta) + (1 - y) * log_expit(-eta)))

    beta = np.zeros(x.shape[1])
    current = loglik(beta)
    for _ in range(iterations):
        p = expit(offset + x @ beta)
        hessian = (x * (p * (1 - p))[:, None]).T @ x
        try:
            step = np.linalg.solve(hessian, x.T @ (y - p))
        except np.linalg.LinAlgError:
            return np.full(x.shape[1], np.nan)
        for _ in range(30):
            candidate = loglik(beta + step)
            if candidate >= current - 1e-12:
                break
            step = step / 2
        beta, current = beta + step, candidate
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def monthly_metrics(
    y: np.ndarray,
    score: np.ndarray,
    months: np.ndarray,
    *,
    volume: float = 0.05,
    tiebreak: np.ndarray | None = None,
) -> pd.DataFrame:
    """AUC, AP and recall at ``volume`` within each month, in month order.

    Columns: ``month``, ``rows``, ``positives``, ``base_rate``, ``auc``,
    ``ap`` and ``recall_at_Npct`` (NaN in a month without both outcomes).
    """
    y, score, months = np.asarray(y), np.asarray(score), np.asarray(months)
    key = volume_key(volume)
    rows = []
    for month in sorted(set(months.tolist())):
        mask = months == month
        m = evaluate(
            y[mask],
            score[mask],
            months[mask],
            tiebreak=None if tiebreak is None else np.asarray(tiebreak)[mask],
            volumes=(volume,),
        )
        rows.append(
            {
                "month": str(month),
                "rows": int(m["rows"]),
                "positives": int(m["positives"]),
                "base_rate": m["base_rate"],
                "auc": m["auc"],
                "ap": m["ap"],
                key: m[key],
            }
        )
    columns = ["month", "rows", "positives", "base_rate", "auc", "ap", key]
    return pd.DataFrame(rows, columns=columns)


def level_table(
    y: np.ndarray,
    levels: np.ndarray,
    months: np.ndarray,
    *,
    order: tuple[str, ...] = ("red", "orange", "yellow"),
) -> pd.DataFrame:
    """Volume, precision and recall of each warning level.

    One row per level in ``order`` (most urgent first): ``rows`` at the
    level, ``per_month`` (rows per month: the inspections it asks for),
    ``volume`` (share of all rows), ``positives``, ``precision`` (positive
    rate at the level), ``recall`` (share of all positives at the level), and
    the same counted from the top down to this level (``cum_*``: what
    inspecting every level down to this one gives).

    Examples
    --------
    >>> t = level_table(np.array([1, 0, 1, 0, 0, 0]),
    ...     np.array(["red", "red", "yellow", "none", "none", "none"]),
    ...     np.array(["A", "A", "A", "B", "B", "B"]))
    >>> t[["level", "rows", "precision", "recall", "cum_recall"]].to_dict("list")
    {'level': ['red', 'orange', 'yellow'], 'rows': [2, 0, 1], \
'precision': [0.5, nan, 1.0], 'recall': [0.5, 0.0, 0.5], 'cum_recall': [0.5, 0.5, 1.0]}
    """
    y = np.asarray(y, dtype=np.float64)
    levels = np.asarray(levels, dtype=object)
    n_months = max(len(set(np.asarray(months).tolist())), 1)
    total, positives = float(y.size), float(y.sum())
    rows, cum_rows, cum_pos = [], 0.0, 0.0
    for level in order:
        at = levels == level
        n, pos = float(at.sum()), float(y[at].sum())
        cum_rows, cum_pos = cum_rows + n, cum_pos + pos
        rows.append(
            {
                "level": level,
                "rows": int(n),
                "per_month": n / n_months,
                "volume": n / total if total else np.nan,
                "positives": int(pos),
                "precision": pos / n if n else np.nan,
                "recall": pos / positives if positives else np.nan,
                "cum_volume": cum_rows / total if total else np.nan,
                "cum_precision": cum_pos / cum_rows if cum_rows else np.nan,
                "cum_recall": cum_pos / positives if positives else np.nan,
            }
        )
    return pd.DataFrame(rows)
