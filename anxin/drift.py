"""Population stability: is scoring data still like the training data?

A :class:`Reference` keeps, for each numeric feature and for the risk score,
fixed bin edges (deciles of the training data) and the share of training rows
in each bin plus a missing-value bin -- overall, and for each calendar month
of the training years, because wages, headcount and electricity have seasons
(the Spring Festival, year-end bonuses): a month is compared with the same
calendar month of the past, so a stable world reads as stable. :func:`psi`
compares a new sample with it; shares are smoothed with a small epsilon so
empty bins never give an infinite or undefined index.

Verdicts (:func:`verdict`): PSI below 0.1 ``stable``; 0.1 to 0.25 ``watch``;
0.25 and above ``act``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from anxin.model import ArrearsModel

__all__ = [
    "PSI_ACT",
    "PSI_ALERT",
    "PSI_WATCH",
    "Reference",
    "drift_counts",
    "drift_report",
    "drift_report_of_counts",
    "drift_summary",
    "psi",
    "verdict",
]

#: PSI from which a shift is worth watching.
PSI_WATCH = 0.1
#: PSI from which a shift needs action (scoring warns).
PSI_ACT = 0.25
PSI_ALERT = PSI_ACT
EPSILON = 1e-4
#: Rows a calendar month needs for its own reference shares.
MIN_SEASON_ROWS = 200


def verdict(value: float) -> str:
    """``stable``, ``watch`` or ``act`` for a PSI.

    Examples
    --------
    >>> [verdict(x) for x in (0.02, 0.1, 0.3)]
    ['stable', 'watch', 'act']
    """
    if value >= PSI_ACT:
        return "act"
    return "watch" if value >= PSI_WATCH else "stable"


def _counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Rows per bin (len(edges) + 1 bins) plus a final missing bin (int64)."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    idx = np.searchsorted(edges, values[~missing], side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(np.int64)
    return np.append(counts, np.int64(missing.sum()))


def _shares_of(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.int64)
    return counts.astype(np.float64) / max(int(counts.sum()), 1)


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Shares per bin (len(edges) + 1 bins) plus a final missing bin."""
    return _shares_of(_counts(values, edges))


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


def _edges(finite: np.ndarray, n_bins: int) -> np.ndarray:
    """Decile edges; a value most rows share (0 months in arrears) is its own
    bin, and the values above it get deciles of their own.

    Without that, a zero-inflated feature has one bin for everything and
    30% of firms moving from 0 to 1 would show no drift at all.
    """
    if not finite.size:
        return np.array([], dtype=np.float64)
    probs = np.linspace(0, 1, n_bins + 1)[1:-1]
    edges = np.unique(np.quantile(finite, probs))
    above = finite[finite > edges[-1]]
    if edges.size < n_bins - 1 and above.size:
        # just above the mass point, then the tail's own quantiles
        tail = np.quantile(above, probs[::2])
        edges = np.unique(
            np.concatenate([edges, [np.nextafter(edges[-1], np.inf)], tail])
        )
    return edges


@dataclasses.dataclass
class Reference:
    """Training-time distributions: name -> (edges, shares).

    Attributes
    ----------
    edges, shares : dict
        Bin edges and shares over all reference rows.
    seasonal : dict
        Name -> calendar month (``"1"`` .. ``"12"``) -> shares, for the months
        with enough rows.
    alert_share : float or None
        Share of enterprises at yellow or above on the reference rows.
    """

    edges: dict[str, list[float]]
    shares: dict[str, list[float]]
    seasonal: dict[str, dict[str, list[float]]] = dataclasses.field(
        default_factory=dict
    )
    alert_share: float | None = None

    @classmethod
    def fit(
        cls,
        columns: dict[str, np.ndarray],
        n_bins: int = 10,
        *,
        months: np.ndarray | None = None,
        alert_share: float | None = None,
    ) -> Reference:
        """Decile edges and shares of each column (and per calendar month).

        ``months`` gives each row's calendar month (1-12).
        """
        edges: dict[str, list[float]] = {}
        shares: dict[str, list[float]] = {}
        seasonal: dict[str, dict[str, list[float]]] = {}
        for name, values in columns.items():
            values = np.asarray(values, dtype=np.float64)
            e = _edges(values[np.isfinite(values)], n_bins)
            edges[name] = e.tolist()
            shares[name] = _shares(values, e).tolist()
            if months is not None:
                seasonal[name] = {
                    str(m): _shares(values[months == m], e).tolist()
                    for m in range(1, 13)
                    if (months == m).sum() >= MIN_SEASON_ROWS
                }
        return cls(edges, shares, seasonal, alert_share)

    def psi(
        self,
        columns: dict[str, np.ndarray] | pd.DataFrame,
        *,
        month: int | None = None,
    ) -> dict[str, float]:
        """PSI of each reference column present in ``columns``.

        With ``month`` (1-12), the same calendar month of the reference is
        the expectation where it has one.
        """
        return self.psi_of_counts(self.counts(columns), month=month)

    def counts(
        self, columns: dict[str, np.ndarray] | pd.DataFrame
    ) -> dict[str, np.ndarray]:
        """Rows per bin of each reference column present in ``columns``.

        Counts of parts of the data add up (a cluster run counts per
        partition); :meth:`psi_of_counts` turns them into the same PSI as
        :meth:`psi` on the whole.
        """
        return {
            name: _counts(np.asarray(columns[name], dtype=np.float64), np.array(e))
            for name, e in self.edges.items()
            if name in columns
        }

    def psi_of_counts(
        self, counts: dict[str, np.ndarray], *, month: int | None = None
    ) -> dict[str, float]:
        """:meth:`psi` from :meth:`counts`."""
        out = {}
        for name in self.edges:
            if name not in counts:
                continue
            actual = _shares_of(counts[name])
            expected = self.shares[name]
            if month is not None:
                expected = self.seasonal.get(name, {}).get(str(month), expected)
            out[name] = psi(np.array(expected), actual)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "edges": self.edges,
            "shares": self.shares,
            "seasonal": self.seasonal,
            "alert_share": self.alert_share,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Reference:
        return cls(
            dict(state["edges"]),
            dict(state["shares"]),
            dict(state.get("seasonal", {})),
            state.get("alert_share"),
        )


def drift_report(
    model: ArrearsModel, feats: pd.DataFrame, scores: np.ndarray, *, as_of: str
) -> pd.DataFrame:
    """PSI and verdict of each feature and of the score for month ``as_of``.

    Each is compared with the same calendar month of the model's reference
    where it has one. Columns: ``feature``, ``psi``, ``verdict``,
    ``top_feature`` (among the model's 10 most important), ``alert`` (an
    ``act`` on the score or on a top feature), sorted by PSI.
    """
    return drift_report_of_counts(
        model, drift_counts(model, feats, scores), as_of=as_of
    )


def drift_counts(
    model: ArrearsModel, feats: pd.DataFrame, scores: np.ndarray
) -> dict[str, np.ndarray]:
    """Rows per reference bin of each feature and of the score (they add up)."""
    cols = {
        f: feats[f].to_numpy(dtype=np.float64, na_value=np.nan)
        for f in model.spec.numeric
    }
    cols["risk_score"] = np.asarray(scores, dtype=np.float64)
    return model.reference.counts(cols)


def drift_report_of_counts(
    model: ArrearsModel, counts: dict[str, np.ndarray], *, as_of: str
) -> pd.DataFrame:
    """:func:`drift_report` from :func:`drift_counts` (summed over parts)."""
    values = model.reference.psi_of_counts(counts, month=int(as_of[5:7]))
    top = set(model.spec.info.get("top_features", [])[:10])
    frame = pd.DataFrame(
        {"feature": list(values), "psi": list(values.values())}
    ).sort_values("psi", ascending=False, ignore_index=True)
    frame["verdict"] = frame["psi"].map(verdict)
    frame["top_feature"] = frame["feature"].isin(top)
    frame["alert"] = (frame["verdict"] == "act") & (
        frame["top_feature"] | (frame["feature"] == "risk_score")
    )
    return frame


def drift_summary(
    report: pd.DataFrame, *, alert_share: float, reference_share: float | None
) -> dict[str, Any]:
    """What a person reads first: the verdict, the top movers, the alert volume.

    ``verdict`` is the worst verdict of any feature or the score; ``top`` the
    five features that moved most (with PSI and verdict); the alert volume is
    the share of enterprises warned this month against the reference's.
    """
    is_score = report["feature"] == "risk_score"
    features = report.loc[~is_score]
    order = {"stable": 0, "watch": 1, "act": 2}
    worst = max(report["verdict"], key=order.__getitem__, default="stable")
    return {
        "verdict": worst,
        "thresholds": {"watch": PSI_WATCH, "act": PSI_ACT},
        "psi_score": float(report.loc[is_score, "psi"].to_numpy()[0])
        if is_score.any()
        else None,
        "top": [
            {"feature": str(f), "psi": round(float(p), 4), "verdict": str(v)}
            for f, p, v in features[["feature", "psi", "verdict"]]
            .head(5)
            .itertuples(index=False)
        ],
        "alerts": report.loc[report["alert"], "feature"].tolist(),
        "alert_share": round(alert_share, 4),
        "reference_alert_share": None
        if reference_share is None
        else round(reference_share, 4),
        "alert_volume_ratio": None
        if not reference_share
        else round(alert_share / reference_share, 2),
    }
