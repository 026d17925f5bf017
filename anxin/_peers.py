"""Peer means of headcount change, summed exactly so any split gives them.

``headcount_peer_chg_{k}m`` compares an enterprise's headcount change with
the mean change of its segment (industry x region) in the same month: a
figure over *all* enterprises. Each change (clipped to [-1, 1]) is summed as
a whole multiple of 2**-30, so the sums are exact integers: the same in any
order, on one machine or added up from the buckets of a cluster run
(:mod:`anxin.spark`), bit for bit. The rounding (below 1e-9) is far under
the float32 the features are stored in.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from anxin import _calendar
from anxin._grid import Grid, chg, safe_ratio

__all__ = ["PEER_SCALE", "Population", "peer_frame", "peer_means", "peer_sums"]

#: A change is summed in units of 2**-30.
PEER_SCALE = 2.0**30
#: Lags of the peer features.
PEER_LAGS = (1, 3)
#: Rows per (segment, month) below which float64 sums of the units are exact.
_EXACT_ROWS = 2**23

Sums = dict[int, tuple[np.ndarray, np.ndarray]]


@dataclasses.dataclass(frozen=True)
class Population:
    """What the features of some enterprises need from all the others.

    Attributes
    ----------
    first_period, last_period : str
        First and last valid payroll month of the whole extract.
    peers : DataFrame
        ``industry``, ``region``, ``period``, ``k``, ``total`` (in units of
        ``2**-30``) and ``count``: the exact sums under the peer means, over
        every enterprise (see :func:`peer_frame`, added up over the parts).
    """

    first_period: str
    last_period: str
    peers: pd.DataFrame


def peer_sums(
    g: Grid, hc: np.ndarray, active: np.ndarray, seg: np.ndarray, n_seg: int
) -> Sums:
    """k -> (total, count), each (targets, segments), of clipped changes."""
    out: Sums = {}
    n_t = g.targets.size
    for k in PEER_LAGS:
        change = chg(g, hc, k)
        ok = ~np.isnan(change) & g.view(active, 0)
        key = (seg[:, None] * n_t + np.arange(n_t)[None, :])[ok]
        units = np.rint(np.clip(change[ok], -1.0, 1.0) * PEER_SCALE)
        count = np.bincount(key, minlength=n_seg * n_t)
        if count.max(initial=0) < _EXACT_ROWS:
            total = np.bincount(key, weights=units, minlength=n_seg * n_t)
        else:  # pragma: no cover - 8 M enterprises in one segment and month
            exact = np.zeros(n_seg * n_t, dtype=np.int64)
            np.add.at(exact, key, units.astype(np.int64))
            total = exact.astype(np.float64)
        out[k] = (total.reshape(n_seg, n_t).T, count.reshape(n_seg, n_t).T)
    return out


def peer_means(sums: Sums) -> dict[int, np.ndarray]:
    """k -> mean change per (target month, segment); NaN without peers."""
    return {
        k: safe_ratio(total / PEER_SCALE, count) for k, (total, count) in sums.items()
    }


def peer_frame(sums: Sums, g: Grid, levels: list[pd.Index]) -> pd.DataFrame:
    """The sums as rows (segments and months with at least one change)."""
    n_region = len(levels[1])
    parts = []
    for k, (total, count) in sums.items():
        t_idx, s_idx = np.nonzero(count)
        parts.append(
            pd.DataFrame(
                {
                    "industry": np.asarray(levels[0], dtype=object)[s_idx // n_region],
                    "region": np.asarray(levels[1], dtype=object)[s_idx % n_region],
                    "period": _calendar.index_to_periods(g.targets[t_idx]),
                    "k": k,
                    "total": total[t_idx, s_idx].astype(np.int64),
                    "count": count[t_idx, s_idx].astype(np.int64),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def population_sums(pop: Population, g: Grid, levels: list[pd.Index]) -> Sums:
    """The whole extract's sums laid out on this grid's segments and months."""
    n_industry, n_region = len(levels[0]), len(levels[1])
    n_t = g.targets.size
    peers = pop.peers
    ind = pd.Index(levels[0]).get_indexer(peers["industry"].astype("str"))
    reg = pd.Index(levels[1]).get_indexer(peers["region"].astype("str"))
    months = pd.Index(_calendar.index_to_periods(g.targets))
    tgt = months.get_indexer(peers["period"].astype("str"))
    here = (ind >= 0) & (reg >= 0) & (tgt >= 0)
    out: Sums = {}
    for k in PEER_LAGS:
        rows = np.flatnonzero(here & (peers["k"].to_numpy() == k))
        total = np.zeros((n_t, n_industry * n_region))
        count = np.zeros((n_t, n_industry * n_region), dtype=np.int64)
        seg = ind[rows] * n_region + reg[rows]
        total[tgt[rows], seg] = peers["total"].to_numpy(dtype=np.float64)[rows]
        count[tgt[rows], seg] = peers["count"].to_numpy(dtype=np.int64)[rows]
        out[k] = (total, count)
    return out
