"""Population stability: is scoring data still like the training data?

A :class:`Reference` keeps, for each numeric feature and for the risk score,
fixed bin edges (deciles of the training data) and the share of training rows
in each bin plus a missing-value bin. :func:`psi` compares a new sample with
it. Shares are smoothed with a small epsilon so empty bins never give an
infinite or undefined index.

Rule of thumb: PSI < 0.1 stable; 0.1-0.25 moderate shift; > 0.25 major shift.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PSI_ALERT", "Reference", "psi"]

#: PSI above which scoring warns.
PSI_ALERT = 0.25
EPSILON = 1e-4


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Shares per bin (len(edges) + 1 bins) plus a final missing bin."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    idx = np.searchsorted(edges, values[~missing], side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(np.float64)
    counts = np.append(counts, missing.sum())
    return counts / max(values.size, 1)


def psi(expected: np.ndarray, actual: np.ndarray, eps: float = EPSILON) -> float:
    """Population stability index between two share vectors.

    Examples
    --------
    >>> psi(np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.5, 0.0]))
    0.0
    >>> round(psi(np.array([1.0, 0.0]), np.array([0.0, 1.0])), 2)
    18.42
    """
    e = np.clip(np.asarray(expected, dtype=np.float64), eps, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), eps, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


@dataclasses.dataclass
class Reference:
    """Training-time distributions: name -> (edges, shares)."""

    edges: dict[str, list[float]]
    shares: dict[str, list[float]]

    @classmethod
    def fit(cls, columns: dict[str, np.ndarray], n_bins: int = 10) -> Reference:
        """Decile edges and shares of each column."""
        edges: dict[str, list[float]] = {}
        shares: dict[str, list[float]] = {}
        for name, values in columns.items():
            values = np.asarray(values, dtype=np.float64)
            finite = values[np.isfinite(values)]
            if finite.size:
                qs = np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1])
                e = np.unique(qs)
            else:
                e = np.array([], dtype=np.float64)
            edges[name] = e.tolist()
            shares[name] = _shares(values, e).tolist()
        return cls(edges, shares)

    def psi(self, columns: dict[str, np.ndarray] | pd.DataFrame) -> dict[str, float]:
        """PSI of each reference column present in ``columns``."""
        out = {}
        for name, e in self.edges.items():
            if name not in columns:
                continue
            actual = _shares(np.asarray(columns[name], dtype=np.float64), np.array(e))
            out[name] = psi(np.array(self.shares[name]), actual)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"edges": self.edges, "shares": self.shares}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Reference:
        return cls(dict(state["edges"]), dict(state["shares"]))
