"""Paired bootstrap confidence intervals for the difference between two
scores of the same rows: :func:`paired_bootstrap`.

Two models scored on the same enterprise-months are compared by resampling
enterprises with replacement (all months of a drawn enterprise come with
it) and computing AP, AUC and recall at the alert volume of both models on
each resample. A resample is a vector of row weights (how many times each
row was drawn), and :func:`weighted_metrics` computes the metrics of many
resamples at once from one sort of the scores, exactly as
:func:`anxin.metrics.evaluate` would on the repeated rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pandas as pd

from anxin.metrics import volume_key

__all__ = [
    "BOOTSTRAP_METRICS",
    "Bootstrap",
    "bootstrap_weights",
    "paired_bootstrap",
    "weighted_metrics",
]

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
