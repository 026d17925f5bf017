"""Evaluation of a risk score on out-of-time data.

Alert volumes are taken per month, as a bureau works: "top 5%" means the 5%
highest-scored enterprises of each as-of month. Recall and precision at a
volume pool those monthly alert lists.

Besides the headline metrics (:func:`evaluate`): Gini, calibration as numbers
(:func:`calibration_stats`: ECE, slope, intercept), per-month stability
(:func:`monthly_metrics`), precision, recall and volume per warning level
(:func:`level_table`), and paired bootstrap intervals for the difference
between two scores on the same rows (:func:`paired_bootstrap`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pandas as pd
from sklearn import metrics as skm

__all__ = [
    "BOOTSTRAP_METRICS",
    "VOLUMES",
    "Bootstrap",
    "bootstrap_weights",
    "calibration_bins",
    "calibration_stats",
    "evaluate",
    "gini",
    "level_table",
    "lift_table",
    "monthly_metrics",
    "paired_bootstrap",
    "slice_metrics",
    "volume_key",
    "weighted_metrics",
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
) -> dict[str, float]:
    """Headline metrics of a probability ``score`` against outcomes ``y``.

    Returns ``auc``, ``ap``, ``ks``, ``gini``, ``brier``, ``log_loss``,
    ``positives``, ``rows``, ``base_rate`` and ``recall_at_Npct`` /
    ``precision_at_Npct`` for each volume.

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
    out["gini"] = gini(out["auc"])
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


# -- paired bootstrap --------------------------------------------------------

#: What :func:`paired_bootstrap` bounds: average precision, ROC AUC and
#: recall at the alert volume (``recall_at_Npct``).
BOOTSTRAP_METRICS = ("ap", "auc", "recall")


@dataclasses.dataclass(frozen=True)
class Bootstrap:
    """Paired bootstrap of the difference between two scores (B minus A).

    Attributes
    ----------
    table : DataFrame
        One row per metric (``ap``, ``auc``, ``recall_at_Npct``): ``a``,
        ``b``, ``difference`` (b - a, on all rows), ``low`` and ``high``
        (the percentile interval of the resampled differences),
        ``significant`` (the interval excludes 0) and ``b_better`` (share of
        resamples where B beats A).
    differences : DataFrame
        The resampled differences, one row per resample.
    n_boot, level, seed : int, float, int
        Resamples, interval level, seed.
    clusters : int
        Units resampled (enterprises; rows when there are no clusters).
    """

    table: pd.DataFrame
    differences: pd.DataFrame
    n_boot: int
    level: float
    seed: int
    clusters: int


def bootstrap_weights(
    clusters: np.ndarray, n_boot: int, *, seed: int = 0, batch: int = 100
) -> Iterator[np.ndarray]:
    """Row weights of ``n_boot`` cluster resamples, ``batch`` at a time.

    Each resample draws as many clusters as there are, with replacement;
    a row's weight is the number of times its cluster was drawn, so rows of
    one enterprise (its months) stay together. The draws depend only on
    ``seed``, not on ``batch``.
    """
    codes, uniques = pd.factorize(pd.Series(np.asarray(clusters)), sort=True)
    n = len(uniques)
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_boot:
        size = min(batch, n_boot - done)
        counts = np.empty((size, n), dtype=np.float64)
        for i in range(size):
            counts[i] = np.bincount(rng.integers(0, n, n), minlength=n)
        yield counts[:, codes]
        done += size


def weighted_metrics(
    y: np.ndarray,
    score: np.ndarray,
    months: np.ndarray,
    weights: np.ndarray,
    *,
    volume: float = 0.05,
    tiebreak: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """AP, AUC and recall at ``volume`` for each row of ``weights``.

    A weight is how many times a row counts: the result equals
    :func:`evaluate` on the rows repeated that many times (ties ordered as
    there), computed for all resamples at once.
    """
    y = np.asarray(y).astype(bool)
    score = np.asarray(score, dtype=np.float64)
    # rows x resamples: sorting, cumulating and summing run down the rows
    w = np.ascontiguousarray(np.atleast_2d(np.asarray(weights, dtype=np.float64)).T)
    order = np.argsort(-score, kind="stable")
    ranked = score[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    ws, ys = w[order], y[order]
    pos = np.add.reduceat(ws * ys[:, None], starts, axis=0)
    neg = np.add.reduceat(ws, starts, axis=0) - pos
    n_pos, n_neg = pos.sum(axis=0), neg.sum(axis=0)
    tp, fp = np.cumsum(pos, axis=0), np.cumsum(neg, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(pos > 0, tp / np.maximum(tp + fp, 1e-300), 0.0)
        ap = np.sum(pos * precision, axis=0) / n_pos
        below = n_neg[None, :] - fp  # negatives scored strictly lower
        auc = np.sum(pos * (below + 0.5 * neg), axis=0) / (n_pos * n_neg)
    both = (n_pos > 0) & (n_neg > 0)
    recall = _weighted_recall(y, score, np.asarray(months), w, volume, tiebreak)
    return {
        "ap": np.where(both, ap, np.nan),
        "auc": np.where(both, auc, np.nan),
        volume_key(volume): recall,
    }


def _weighted_recall(
    y: np.ndarray,
    score: np.ndarray,
    months: np.ndarray,
    w: np.ndarray,
    volume: float,
    tiebreak: np.ndarray | None,
) -> np.ndarray:
    """Recall at ``volume`` per month (as :func:`evaluate`) for each column of
    the rows x resamples weights ``w``."""
    tb = np.zeros_like(score) if tiebreak is None else np.asarray(tiebreak, float)
    order = np.lexsort((-tb, -score, months))
    ws, ys = w[order], y[order]
    sorted_months = months[order]
    starts = np.flatnonzero(np.r_[True, sorted_months[1:] != sorted_months[:-1]])
    segment = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, y.size]))
    before = np.cumsum(ws, axis=0) - ws  # weight ranked above, from the start
    before -= before[starts][segment]  # ... from the start of the month
    slots = np.ceil(volume * np.add.reduceat(ws, starts, axis=0) - 1e-9)
    flagged = np.clip(slots[segment] - before, 0.0, ws)
    positives = ws[ys].sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(positives > 0, flagged[ys].sum(axis=0) / positives, np.nan)


# long: one pass over the resamples in batches, then the table of intervals;
# splitting it would pass the same eight arrays around
def paired_bootstrap(
    y: np.ndarray,
    score_a: np.ndarray,
    score_b: np.ndarray,
    months: np.ndarray,
    *,
    clusters: np.ndarray | None = None,
    volume: float = 0.05,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    tiebreak_a: np.ndarray | None = None,
    tiebreak_b: np.ndarray | None = None,
) -> Bootstrap:
    """Confidence intervals for the differences in AP, AUC and recall at the
    alert volume between two scores of the same rows (B minus A).

    Paired: each resample draws enterprises (``clusters``; rows when
    omitted) with replacement and scores both A and B on the same drawn
    rows, so what the two share (the same hard and easy enterprises) cancels
    out of the difference. All months of a drawn enterprise come with it.
    The interval is the percentile interval of the ``n_boot`` resampled
    differences; a difference is significant when it excludes 0.

    Parameters
    ----------
    y : ndarray
        Outcomes (0/1).
    score_a, score_b : ndarray
        The two scores of the same rows.
    months : ndarray
        As-of month of each row (alert volumes are per month).
    clusters : ndarray, optional
        The unit resampled (enterprise id of each row).
    volume : float, default 0.05
        Alert volume for the recall.
    n_boot : int, default 1000
    level : float, default 0.95
    seed : int, default 0
    tiebreak_a, tiebreak_b : ndarray, optional
        Orders equal scores, as in :func:`evaluate`.

    Returns
    -------
    Bootstrap

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random(3000) < 0.1).astype(int)
    >>> a = y + rng.normal(0, 1.0, 3000)
    >>> b = y + rng.normal(0, 0.5, 3000)
    >>> boot = paired_bootstrap(y, a, b, np.zeros(3000), n_boot=200)
    >>> bool(boot.table.loc["auc", "significant"])
    True
    >>> bool(boot.table.loc["auc", "low"] > 0)
    True
    """
    y = np.asarray(y).astype(np.int8)
    months = np.asarray(months)
    n = y.size
    units = np.arange(n) if clusters is None else np.asarray(clusters)
    args = {"volume": volume}
    full = np.ones((1, n))
    point_a = weighted_metrics(y, score_a, months, full, tiebreak=tiebreak_a, **args)
    point_b = weighted_metrics(y, score_b, months, full, tiebreak=tiebreak_b, **args)
    names = list(point_a)
    batches = []
    batch = max(1, min(n_boot, 2_000_000 // max(n, 1)))
    for w in bootstrap_weights(units, n_boot, seed=seed, batch=batch):
        a = weighted_metrics(y, score_a, months, w, tiebreak=tiebreak_a, **args)
        b = weighted_metrics(y, score_b, months, w, tiebreak=tiebreak_b, **args)
        batches.append(pd.DataFrame({k: b[k] - a[k] for k in names}))
    diffs = pd.concat(batches, ignore_index=True)
    tail = (1 - level) / 2
    rows = {}
    for k in names:
        d = diffs[k].to_numpy()
        finite = d[np.isfinite(d)]
        low, high = (
            np.quantile(finite, [tail, 1 - tail]) if finite.size else (np.nan, np.nan)
        )
        rows[k] = {
            "a": float(point_a[k][0]),
            "b": float(point_b[k][0]),
            "difference": float(point_b[k][0] - point_a[k][0]),
            "low": float(low),
            "high": float(high),
            "significant": bool(low > 0 or high < 0),
            "b_better": float(np.mean(finite > 0)) if finite.size else np.nan,
        }
    return Bootstrap(
        table=pd.DataFrame.from_dict(rows, orient="index").rename_axis("metric"),
        differences=diffs,
        n_boot=n_boot,
        level=level,
        seed=seed,
        clusters=len(pd.unique(units)),
    )
