"""Leakage-proof monthly features and labels.

:func:`build_features` turns validated contract tables into a panel with one
row per enterprise per month in which it has a payroll row. Every feature at
month ``t`` is computed from data with period in ``[t - 12, t]`` (plus
enterprise facts and arrears events confirmed at or before ``t``), so

* nothing after ``t`` can reach the row for ``t`` (no look-ahead), and
* scoring one month (``as_of``) only needs the 13 months up to it and gives
  exactly the values the full panel gives for that month.

How it is fast: the tables are scattered into dense month x enterprise grids
(float64, NaN where a month is missing) and every feature is whole-array
arithmetic on views of those grids shifted by whole months. There is no
per-enterprise Python code. Enterprise codes and periods are hashed with
pyarrow compute kernels, which are several times faster than pandas'
object-string hashing for millions of rows.

``docs/features.md`` is generated from :data:`CATALOGUE` (``make docs``).
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anxin import _calendar
from anxin._params import check_horizon, check_param, resolve_n_jobs
from anxin.catalogue import CATALOGUE, GROUPS, Feature, render_reason
from anxin.exceptions import ContractError, InvalidParameterError
from anxin.schemas import PERIOD_PATTERN
from anxin.tables import Tables

__all__ = [
    "CATALOGUE",
    "GROUPS",
    "KEY_COLUMNS",
    "LOOKBACK",
    "Feature",
    "build_features",
    "build_labels",
    "feature_names",
    "features_markdown",
    "render_reason",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

#: Months of history (before ``t``) a feature at ``t`` may use.
LOOKBACK = 12
#: Key columns of the panel.
KEY_COLUMNS = ("enterprise_id", "period")
_EPS_SHARE = 0.01  # a gap or shortfall under 1% counts as paid in full


def feature_names(kind: str | None = None) -> list[str]:
    """Names of the default features, in panel order.

    Examples
    --------
    >>> names = feature_names()
    >>> names[:3]
    ['headcount', 'headcount_chg_1m', 'headcount_chg_3m']
    >>> feature_names("categorical")
    ['industry', 'region']
    """
    return [f.name for f in CATALOGUE.values() if kind is None or f.kind == kind]


# ---------------------------------------------------------------------------
# grids
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Grid:
    """Dense (enterprise, month) layout of the window being computed.

    Column ``c`` of a grid is month ``m0 + c - pad``. The first ``pad``
    columns are padding (missing), so that looking up to ``LOOKBACK`` months
    back from every target month is a plain slice: 12 when the first target
    is the first month of data (training), none when the targets have a full
    year of data before them (scoring), which halves the grids.
    """

    ids: pa.Array  # sorted enterprise ids; position = enterprise code
    m0: int  # month index of the first real column
    n_months: int  # real columns
    targets: np.ndarray  # month indices to output, sorted

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def pad(self) -> int:
        return max(0, LOOKBACK - int(self.targets[0] - self.m0))

    @property
    def width(self) -> int:
        return self.pad + self.n_months

    def cols(self) -> np.ndarray:
        return self.targets - self.m0 + self.pad

    def view(self, x: np.ndarray, k: int) -> np.ndarray:
        """Values ``k`` months before each target month: shape (rows, targets)."""
        cols = self.cols() - k
        lo = int(cols[0])
        if cols.size == cols[-1] - lo + 1:  # contiguous: a view, no copy
            return x[:, lo : lo + cols.size]
        return x[:, cols]


def _arrow_str(values: pd.Series) -> pa.Array:
    """A pandas text column as one contiguous pyarrow large_string array."""
    arr = pa.Array.from_pandas(values.astype("str"))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def _codes(grid_ids: pa.Array, values: pd.Series, table: str) -> np.ndarray:
    """Enterprise codes (positions in ``grid_ids``) of a column of ids."""
    enc = pc.dictionary_encode(_arrow_str(values))
    found = pc.index_in(enc.dictionary, value_set=grid_ids)
    if found.null_count:
        missing = enc.dictionary.filter(pc.is_null(found))
        raise ContractError(
            f"{table}: enterprise_id {missing[0].as_py()!r} is not in enterprises. "
            "Run anxin.validate first and build features from report.tables.",
            table=table,
            column="enterprise_id",
        )
    lookup = found.to_numpy(zero_copy_only=False).astype(np.int64)
    return lookup[enc.indices.to_numpy(zero_copy_only=False)]


def _scatter(
    grid: _Grid,
    frame: pd.DataFrame | None,
    columns: Sequence[str],
    table: str,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Place a monthly table's columns on the grid; return (values, present)."""
    shape = (grid.n, grid.width)
    present = np.zeros(shape, dtype=bool)
    out = {c: np.full(shape, np.nan) for c in columns}
    if frame is None or frame.empty:
        return out, present
    month = _calendar.series_to_index(frame["period"]).astype(np.int64)
    col = month - grid.m0 + grid.pad
    keep = (col >= grid.pad) & (col < grid.width)
    sub = frame if keep.all() else frame.loc[keep]
    flat = _codes(grid.ids, sub["enterprise_id"], table) * grid.width + col[keep]
    present.ravel()[flat] = True
    for c in columns:
        values = pd.to_numeric(sub[c]).to_numpy(dtype=np.float64, na_value=np.nan)
        out[c].ravel()[flat] = values
    return out, present


# ---------------------------------------------------------------------------
# window arithmetic on (rows, targets) arrays
# ---------------------------------------------------------------------------


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(num / den, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


class _Counts:
    """Months with data in trailing windows, from one integer cumulative sum.

    Integer sums are exact, so a window's count at ``t`` does not depend on
    where the grid starts. Shared by every series with the same missingness.
    """

    def __init__(self, g: _Grid, ok: np.ndarray) -> None:
        self.g = g
        self.ok_now = g.view(ok, 0)
        cs = np.zeros((ok.shape[0], ok.shape[1] + 1), dtype=np.int16)
        np.cumsum(ok, axis=1, dtype=np.int16, out=cs[:, 1:])
        self._cs = cs
        self._cache: dict[int, np.ndarray] = {}

    def __call__(self, w: int) -> np.ndarray:
        if w not in self._cache:
            g = self.g
            # cs[c + 1] - cs[c + 1 - w] counts columns c-w+1 .. c
            self._cache[w] = (g.view(self._cs, -1) - g.view(self._cs, w - 1)).astype(
                np.float64
            )
        return self._cache[w]


class _Win:
    """Windowed sums of one grid series at the target months.

    Integer-valued series (counts, flags, headcount) use an exact cumulative
    sum. Real-valued series keep a running sum over ``k = 0 .. w-1`` months
    back, snapshotting the requested window lengths, so the value at ``t``
    is the same arithmetic whatever the grid's first month: scoring one
    month gives the full panel's values bit for bit.
    """

    def __init__(
        self,
        g: _Grid,
        x: np.ndarray,
        lengths: Sequence[int],
        *,
        counts: _Counts | None = None,
        integer: bool = False,
    ) -> None:
        self.g = g
        self.now = g.view(x, 0)
        x0 = np.nan_to_num(x, nan=0.0)
        self.counts = counts if counts is not None else _Counts(g, ~np.isnan(x))
        self.now0 = g.view(x0, 0)
        self.s: dict[int, np.ndarray] = {}
        wanted = sorted(set(lengths))
        if integer:
            cs = np.zeros((x0.shape[0], x0.shape[1] + 1))
            np.cumsum(x0, axis=1, out=cs[:, 1:])
            for w in wanted:
                self.s[w] = g.view(cs, -1) - g.view(cs, w - 1)
            return
        total = self.now0.copy()
        for k in range(1, wanted[-1]):
            if k in wanted:
                self.s[k] = total.copy()
            total += g.view(x0, k)
        self.s[wanted[-1]] = total

    def sum(self, w: int) -> np.ndarray:
        """Sum over ``t-w+1 .. t``; missing when no month has data."""
        out = self.s[w].copy()
        out[self.counts(w) == 0] = np.nan
        return out

    def count(self, w: int) -> np.ndarray:
        """Months with data in ``t-w+1 .. t``."""
        return self.counts(w)

    def mean(self, w: int) -> np.ndarray:
        return _ratio(self.s[w], self.counts(w))

    def mean_before(self, w: int) -> np.ndarray:
        """Mean over the ``w`` months before ``t`` (``t-w .. t-1``)."""
        return _ratio(
            self.s[w + 1] - self.now0, self.counts(w + 1) - self.counts.ok_now
        )

    def mean_between(self, near: int, far: int) -> np.ndarray:
        """Mean over ``t-far+1 .. t-near``; (3, 6) is the 3 months before the
        last 3."""
        return _ratio(self.s[far] - self.s[near], self.counts(far) - self.counts(near))

    def std(self, w: int, squares: _Win) -> np.ndarray:
        mean = self.mean(w)
        var = _ratio(squares.s[w], self.counts(w)) - mean * mean
        out = np.sqrt(np.maximum(var, 0.0))
        out[self.counts(w) < 2] = np.nan
        return out


def _chg(g: _Grid, x: np.ndarray, k: int) -> np.ndarray:
    """Relative change against ``k`` months earlier; NaN when either is missing."""
    now, then = g.view(x, 0), g.view(x, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (now - then) / np.abs(then)
    zero = then == 0  # from zero: +100% if it rose, 0% if it stayed at zero
    out[zero] = np.where(now[zero] > 0, 1.0, np.where(now[zero] == 0, 0.0, np.nan))
    return np.clip(out, -1.0, 10.0)


def _max(g: _Grid, x: np.ndarray, w: int) -> np.ndarray:
    out = g.view(x, 0).copy()
    for k in range(1, w):
        np.fmax(out, g.view(x, k), out=out)
    return out


def _streak(g: _Grid, flag: np.ndarray, active_now: np.ndarray) -> np.ndarray:
    """Consecutive months up to ``t`` where ``flag`` holds (at most 13)."""
    run = g.view(flag, 0).copy()
    out = run.astype(np.float64)
    for k in range(1, LOOKBACK + 1):
        run &= g.view(flag, k)
        out += run
    out[~active_now] = np.nan
    return out


def _since(g: _Grid, flag: np.ndarray) -> np.ndarray:
    """Months since ``flag`` last held, within the lookback; NaN if never."""
    out = np.full(g.view(flag, 0).shape, np.nan)
    for k in range(LOOKBACK, -1, -1):
        out[g.view(flag, k)] = k
    return out


def _step(x: np.ndarray) -> np.ndarray:
    """Month-on-month relative change over the whole grid (first column NaN)."""
    out = np.full_like(x, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 1:] = (x[:, 1:] - x[:, :-1]) / np.maximum(np.abs(x[:, :-1]), 1.0)
    return np.clip(out, -1.0, 10.0)


def _lag_ratio(x: np.ndarray) -> np.ndarray:
    """x[t] / x[t-1] over the whole grid (first column NaN)."""
    out = np.full_like(x, np.nan)
    out[:, 1:] = _ratio(x[:, 1:], x[:, :-1])
    return out


# ---------------------------------------------------------------------------
# the panel
# ---------------------------------------------------------------------------


def _months(value: str | Sequence[str] | None) -> list[int] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    out = []
    for item in items:
        ok = isinstance(item, str) and bool(PERIOD_PATTERN.fullmatch(item))
        check_param(
            "as_of", item, "build_features", "a month 'YYYY-MM' (or a list)", ok
        )
        out.append(_calendar.to_index(item))
    check_param(
        "as_of", value, "build_features", "a month or a non-empty list", bool(out)
    )
    return sorted(set(out))


def _window(tables: Tables, as_of: str | Sequence[str] | None) -> _Grid:
    ids = _arrow_str(tables.enterprises["enterprise_id"])
    ids = ids.take(pc.sort_indices(ids))
    if len(pc.unique(ids)) != len(ids):
        raise ContractError(
            "enterprises: enterprise_id is not unique. Run anxin.validate first "
            "and build features from report.tables.",
            table="enterprises",
            column="enterprise_id",
        )
    periods = _arrow_str(tables.payroll["period"])
    if len(periods) == 0:
        raise ContractError("payroll: no rows to build features from.", table="payroll")
    lo = _calendar.to_index(pc.min(periods).as_py())
    hi = _calendar.to_index(pc.max(periods).as_py())
    targets = _months(as_of)
    if targets is None:
        return _Grid(ids, lo, hi - lo + 1, np.arange(lo, hi + 1))
    outside = [t for t in targets if not lo <= t <= hi]
    if outside:
        raise InvalidParameterError(
            f"The 'as_of' parameter of build_features must be a month with "
            f"payroll data ({_calendar.to_period(lo)} to {_calendar.to_period(hi)}). "
            f"Got {_calendar.to_period(outside[0])!r} instead.",
            parameter="as_of",
            value=_calendar.to_period(outside[0]),
        )
    start = max(lo, targets[0] - LOOKBACK)
    return _Grid(ids, start, targets[-1] - start + 1, np.asarray(targets))


@dataclasses.dataclass
class _Inputs:
    """Everything the per-chunk computation reads (full-grid arrays)."""

    g: _Grid
    grids: dict[str, np.ndarray]
    static: dict[str, np.ndarray]
    peer_mean: dict[int, np.ndarray]  # k -> (targets, segments) mean change


_PAYROLL = (
    "insured_headcount",
    "wages_payable",
    "wages_paid",
    "pay_delay_days",
    "social_insurance_due",
    "social_insurance_paid",
)
_TAX = ("invoice_amount", "vat_paid", "iit_withheld", "tax_arrears")
_SIGNALS = ("electricity_kwh", "complaints", "lawsuits")


def _chunk(inp: _Inputs, rows: slice) -> dict[str, np.ndarray]:
    """All numeric features for enterprises ``rows``: (rows, targets) arrays."""
    g = inp.g
    x = {k: v[rows] for k, v in inp.grids.items()}
    st = {k: v[rows] for k, v in inp.static.items()}
    view = g.view
    active = x["active"]
    active_now = view(active, 0)
    hc, payable, paid = x["insured_headcount"], x["wages_payable"], x["wages_paid"]
    delay = x["pay_delay_days"]
    si_due, si_paid = x["social_insurance_due"], x["social_insurance_paid"]
    f: dict[str, np.ndarray] = {}
    on_payroll = _Counts(g, active)
    on_tax = _Counts(g, x["tax_present"])

    # headcount
    w_hc = _Win(g, hc, (13,), counts=on_payroll, integer=True)
    f["headcount"] = w_hc.now
    for k in (1, 3, 6, 12):
        f[f"headcount_chg_{k}m"] = _chg(g, hc, k)
    f["headcount_rel_mean_12m"] = _ratio(w_hc.now, w_hc.mean_before(12)) - 1
    step = _step(hc)
    w_step = _Win(g, step, (6,))
    w_step2 = _Win(g, step * step, (6,), counts=w_step.counts)
    f["headcount_vol_6m"] = w_step.std(6, w_step2)
    seg = st["seg"].astype(np.int64)
    for k in (1, 3):
        f[f"headcount_peer_chg_{k}m"] = (
            f[f"headcount_chg_{k}m"]
            - inp.peer_mean[k][np.arange(g.targets.size)[None, :], seg[:, None]]
        )
    # wages
    wph = _ratio(payable, hc)
    f["wages_per_head"] = view(wph, 0)
    f["wages_per_head_chg_3m"] = _chg(g, wph, 3)
    f["wages_per_head_chg_12m"] = _chg(g, wph, 12)
    f["wages_payable_chg_1m"] = _chg(g, payable, 1)
    f["wages_payable_chg_12m"] = _chg(g, payable, 12)
    w_pay = _Win(g, payable, (13,), counts=on_payroll)
    f["wages_payable_rel_mean_12m"] = _ratio(w_pay.now, w_pay.mean_before(12)) - 1
    shortfall = np.clip(1.0 - _ratio(paid, payable), 0.0, 1.0)
    shortfall[active & (payable == 0)] = 0.0
    short_flag = shortfall > _EPS_SHARE
    f["wage_shortfall_share"] = view(shortfall, 0)
    f["wage_shortfall_mean_3m"] = _Win(g, shortfall, (3,), counts=on_payroll).mean(3)
    short_months = np.where(active, short_flag, np.nan)
    f["wage_shortfall_months_6m"] = _Win(
        g, short_months, (6,), counts=on_payroll, integer=True
    ).sum(6)
    f["wage_shortfall_streak"] = _streak(g, short_flag, active_now)
    f["months_since_full_wages"] = _since(g, active & ~short_flag)
    f["pay_delay_days"] = view(delay, 0)
    f["pay_delay_max_3m"] = _max(g, delay, 3)
    w_delay = _Win(g, delay, (6,))
    f["pay_delay_mean_6m"] = w_delay.mean(6)
    delay30 = np.where(np.isnan(delay), np.nan, delay > 30)
    f["pay_delay_months_over30_6m"] = _Win(
        g, delay30, (6,), counts=w_delay.counts, integer=True
    ).sum(6)
    w_paid = _Win(g, paid, (3, 6), counts=on_payroll)
    f["wages_paid_trend_6m"] = _ratio(w_paid.mean(3), w_paid.mean_between(3, 6)) - 1
    # social insurance
    si_gap = np.clip(1.0 - _ratio(si_paid, si_due), 0.0, 1.0)
    si_gap[active & (si_due == 0)] = 0.0
    gap_flag = si_gap > _EPS_SHARE
    f["si_gap_share"] = view(si_gap, 0)
    f["si_gap_mean_3m"] = _Win(g, si_gap, (3,), counts=on_payroll).mean(3)
    w_gap = _Win(
        g,
        np.where(active, gap_flag, np.nan),
        (3, 6, 12),
        counts=on_payroll,
        integer=True,
    )
    for k in (3, 6, 12):
        f[f"si_gap_months_{k}m"] = w_gap.sum(k)
    f["si_gap_streak"] = _streak(g, gap_flag, active_now)
    f["months_since_full_si"] = _since(g, active & ~gap_flag)
    f["si_paid_chg_3m"] = _chg(g, si_paid, 3)
    # tax
    inv, vat, arrears = x["invoice_amount"], x["vat_paid"], x["tax_arrears"]
    w_inv = _Win(g, inv, (3, 6, 13), counts=on_tax)
    w_inv2 = _Win(g, inv * inv, (6,), counts=on_tax)
    inv_mean3 = w_inv.mean(3)
    arrears_now = view(arrears, 0)
    f["tax_arrears"] = arrears_now
    f["tax_arrears_to_revenue"] = np.clip(_ratio(arrears_now, inv_mean3), 0, 100)
    f["tax_arrears_growth_3m"] = np.clip(
        _ratio(arrears_now - view(arrears, 3), inv_mean3), -100, 100
    )
    owing = np.where(np.isnan(arrears), np.nan, arrears > 0)
    f["tax_arrears_months_6m"] = _Win(g, owing, (6,), counts=on_tax, integer=True).sum(
        6
    )
    f["iit_chg_3m"] = _chg(g, x["iit_withheld"], 3)
    f["tax_months_reported_12m"] = on_tax(12)
    # revenue
    f["invoice_amount"] = w_inv.now
    f["revenue_per_head"] = _ratio(w_inv.now, w_hc.now)
    for k in (1, 3, 12):
        f[f"invoice_chg_{k}m"] = _chg(g, inv, k)
    f["invoice_rel_mean_12m"] = _ratio(w_inv.now, w_inv.mean_before(12)) - 1
    f["invoice_trend_6m"] = _ratio(inv_mean3, w_inv.mean_between(3, 6)) - 1
    f["invoice_vol_6m"] = _ratio(w_inv.std(6, w_inv2), w_inv.mean(6))
    f["vat_chg_3m"] = _chg(g, vat, 3)
    f["vat_chg_12m"] = _chg(g, vat, 12)
    w_vat = _Win(g, vat, (13,), counts=on_tax)
    f["vat_rel_mean_12m"] = _ratio(w_vat.now, w_vat.mean_before(12)) - 1
    f["vat_to_invoice"] = np.clip(_ratio(w_vat.now, w_inv.now), 0, 1)
    # electricity
    kwh = x["electricity_kwh"]
    w_kwh = _Win(g, kwh, (12, 13))
    f["electricity_kwh"] = w_kwh.now
    for k in (1, 3, 12):
        f[f"electricity_chg_{k}m"] = _chg(g, kwh, k)
    f["electricity_rel_mean_12m"] = _ratio(w_kwh.now, w_kwh.mean_before(12)) - 1
    ratio = _lag_ratio(kwh)
    drop = np.where(np.isnan(ratio), np.nan, ratio < 0.5)
    f["electricity_drop50_months_6m"] = _Win(g, drop, (6,), integer=True).sum(6)
    f["electricity_months_reported_12m"] = w_kwh.count(12)
    # complaints and litigation
    w_c = _Win(g, x["complaints"], (3, 6, 12), integer=True)
    f["complaints_1m"] = w_c.now
    for k in (3, 6, 12):
        f[f"complaints_{k}m"] = w_c.sum(k)
    w_l = _Win(g, x["lawsuits"], (3, 6, 12), integer=True)
    for k in (3, 6, 12):
        f[f"lawsuits_{k}m"] = w_l.sum(k)
    # history, profile, calendar
    f["past_arrears_count"] = view(x["hist_count"], 0)
    f["months_since_last_arrears"] = view(x["hist_since"], 0)
    f["past_arrears_workers"] = view(x["hist_workers"], 0)
    shape = active_now.shape
    f["firm_age_months"] = np.maximum(
        g.targets[None, :] - st["established"][:, None], 0
    )
    f["registered_capital"] = np.broadcast_to(st["registered_capital"][:, None], shape)
    f["months_active_12m"] = on_payroll(12)
    f["month_of_year"] = np.broadcast_to((g.targets % 12 + 1.0)[None, :], shape)
    f["months_to_spring_festival"] = np.broadcast_to(
        _calendar.months_to_spring_festival(g.targets).astype(float)[None, :], shape
    )
    return f


def _static(tables: Tables, g: _Grid) -> tuple[dict[str, np.ndarray], list[pd.Index]]:
    """Per-enterprise facts in code order, and the categorical levels."""
    ent = tables.enterprises
    code = _codes(g.ids, ent["enterprise_id"], "enterprises")
    out: dict[str, np.ndarray] = {}
    est = pd.to_datetime(ent["established"])
    months = (est.dt.year * 12 + est.dt.month - 1).to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    out["established"] = np.full(g.n, np.nan)
    out["established"][code] = months
    out["registered_capital"] = np.full(g.n, np.nan)
    out["registered_capital"][code] = pd.to_numeric(ent["registered_capital"]).to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    levels = []
    for column in ("industry", "region"):
        cat = pd.Categorical(ent[column].astype("str"))
        codes = np.full(g.n, -1, dtype=np.int64)
        codes[code] = cat.codes
        out[column] = codes
        levels.append(pd.Index(cat.categories))
    n_region = len(levels[1])
    out["seg"] = out["industry"] * n_region + out["region"]
    return out, levels


def _peer_means(
    g: _Grid, hc: np.ndarray, active: np.ndarray, seg: np.ndarray, n_seg: int
) -> dict[int, np.ndarray]:
    """Mean headcount change per (target month, segment), clipped to [-1, 1]."""
    out = {}
    n_t = g.targets.size
    for k in (1, 3):
        change = _chg(g, hc, k)
        ok = ~np.isnan(change) & g.view(active, 0)
        key = (seg[:, None] * n_t + np.arange(n_t)[None, :])[ok]
        vals = np.clip(change[ok], -1.0, 1.0)
        total = np.bincount(key, weights=vals, minlength=n_seg * n_t)
        count = np.bincount(key, minlength=n_seg * n_t).astype(np.float64)
        out[k] = _ratio(total, count).reshape(n_seg, n_t).T
    return out


def _event_months(
    tables: Tables, g: _Grid
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    events = tables.events
    if events is None or events.empty:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    code = _codes(g.ids, events["enterprise_id"], "events")
    month = _calendar.series_to_index(events["period"]).astype(np.int64)
    workers = pd.to_numeric(events["workers_affected"]).to_numpy(dtype=np.float64)
    return code, month, workers


def _history(tables: Tables, g: _Grid) -> dict[str, np.ndarray]:
    """Count, months since last and workers of events confirmed at or before t.

    Uses every event, however old: events are few, so this is cheap, and the
    result at ``t`` still depends on nothing after ``t``.
    """
    code, month, workers = _event_months(tables, g)
    n_t = g.targets.size
    count = np.zeros((g.n, n_t))
    total = np.zeros((g.n, n_t))
    last = np.full((g.n, n_t), -np.inf)
    if code.size:
        # each event counts from the first target month at or after it
        pos = np.searchsorted(g.targets, month, side="left")
        keep = pos < n_t
        code, month, pos, workers = code[keep], month[keep], pos[keep], workers[keep]
        np.add.at(count, (code, pos), 1.0)
        np.add.at(total, (code, pos), workers)
        np.maximum.at(last, (code, pos), month.astype(np.float64))
        count = np.cumsum(count, axis=1)
        total = np.cumsum(total, axis=1)
        last = np.maximum.accumulate(last, axis=1)
    since = g.targets[None, :] - last
    since[~np.isfinite(since)] = np.nan
    # stored on the grid's target columns only: pad to grid width
    out = {}
    for name, value in (
        ("hist_count", count),
        ("hist_since", since),
        ("hist_workers", total),
    ):
        full = np.full((g.n, g.width), np.nan)
        full[:, g.cols()] = value
        out[name] = full
    return out


def _map(fn: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R]:
    """``map`` over threads; numpy and pyarrow release the GIL in their loops."""
    if jobs <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(fn, items))


def _panel(
    tables: Tables, as_of: str | Sequence[str] | None, n_jobs: int | None = None
) -> tuple[pd.DataFrame, _Grid, np.ndarray]:
    g = _window(tables, as_of)
    jobs = resolve_n_jobs(n_jobs, "build_features")
    specs = [
        (tables.payroll, _PAYROLL, "payroll"),
        (tables.tax, _TAX, "tax"),
        (tables.signals, _SIGNALS, "signals"),
    ]
    scattered = _map(lambda s: _scatter(g, *s), specs, jobs)
    grids: dict[str, np.ndarray] = {}
    for values, _ in scattered:
        grids.update(values)
    active = scattered[0][1]
    grids["active"] = active
    grids["tax_present"] = scattered[1][1]
    grids.update(_history(tables, g))
    static, levels = _static(tables, g)
    n_seg = len(levels[0]) * len(levels[1])
    peer = _peer_means(g, grids["insured_headcount"], active, static["seg"], n_seg)
    inp = _Inputs(g, grids, static, peer)

    mask = g.view(active, 0)
    per_row = mask.sum(axis=1)
    n_rows = int(per_row.sum())
    numeric = feature_names("numeric")
    block = np.empty((len(numeric), n_rows), dtype=np.float32)
    # ~100k cells per chunk keeps every temporary array in the CPU cache,
    # which is about twice as fast as whole-grid arithmetic
    step = max(1, 100_000 // max(g.targets.size, 1))
    bounds = [(a, min(a + step, g.n)) for a in range(0, g.n, step)]
    starts = np.concatenate([[0], np.cumsum(per_row)])

    def work(bound: tuple[int, int]) -> None:
        a, b = bound
        feats = _chunk(inp, slice(a, b))
        stacked = np.empty((len(numeric), b - a, g.targets.size), dtype=np.float32)
        for i, name in enumerate(numeric):
            stacked[i] = feats.pop(name)
        block[:, int(starts[a]) : int(starts[b])] = stacked[:, mask[a:b]]

    _map(work, bounds, jobs)

    e_idx, t_idx = np.nonzero(mask)
    frame = pd.DataFrame(block.T, columns=numeric, copy=False)
    ids = pd.Series(pd.array(g.ids.take(pa.array(e_idx)), dtype="str"), copy=False)
    months = pd.Series(
        pd.array(_calendar.index_to_periods(g.targets[t_idx]), dtype="str"), copy=False
    )
    frame.insert(0, "enterprise_id", ids)
    frame.insert(1, "period", months)
    position = {name: i + 2 for i, name in enumerate(CATALOGUE)}
    for name, level in zip(("industry", "region"), levels, strict=True):
        codes = static[name][e_idx]
        cat = pd.Series(pd.Categorical.from_codes(codes, categories=level), copy=False)
        frame.insert(position[name], name, cat)
    return frame, g, mask


def build_features(
    tables: Tables,
    *,
    as_of: str | Sequence[str] | None = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Build the monthly feature panel.

    Parameters
    ----------
    tables : Tables
        Validated tables (``report.tables`` from :func:`anxin.validate`).
    as_of : str or list of str, optional
        ``None`` gives every month (training). One or more ``YYYY-MM`` months
        give only those months (scoring); only the 12 months before each are
        read, and the values equal the full panel's.
    n_jobs : int, optional
        Threads: ``None`` or ``-1`` all available cores, else that many.

    Returns
    -------
    DataFrame
        ``enterprise_id``, ``period`` and one column per
        :data:`CATALOGUE` entry (float32, or category for ``industry`` and
        ``region``), one row per enterprise per month with a payroll row,
        ordered by ``period`` then ``enterprise_id``.

    Raises
    ------
    ContractError
        If the tables were not validated (unknown or duplicate enterprises).

    Examples
    --------
    >>> from anxin import synth
    >>> tables = synth(n_enterprises=100, n_months=18, seed=2).tables
    >>> panel = build_features(tables)
    >>> panel.shape[0] == len(tables.payroll)
    True
    >>> one = build_features(tables, as_of="2026-06")
    >>> one["period"].unique().tolist()
    ['2026-06']
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        frame, _, _ = _panel(tables, as_of, n_jobs)
    logger.info("features: %d rows x %d features", len(frame), frame.shape[1] - 2)
    return frame


def build_labels(
    tables: Tables,
    *,
    horizon: int = 3,
    as_of: str | Sequence[str] | None = None,
    events_through: str | None = None,
) -> pd.DataFrame:
    """Label each enterprise-month: a confirmed arrears case within the horizon?

    ``label(e, t) = 1`` if enterprise ``e`` has a confirmed event with period
    in ``(t, t + horizon]``, else ``0``. When ``t + horizon`` is after the last
    month the events table covers, the label is unknown (``<NA>``, censored):
    such rows are excluded from training, never counted as 0.

    Parameters
    ----------
    tables : Tables
        Validated tables with an ``events`` table.
    horizon : int, default 3
        Months ahead, 1-12.
    as_of : str or list of str, optional
        Restrict to these months, as in :func:`build_features`.
    events_through : str, optional
        Last month the events table covers. By default the last month of
        payroll data (the extract's month): an events table with no case in
        its last months still covers them.

    Returns
    -------
    DataFrame
        ``enterprise_id``, ``period``, ``label`` (nullable Int8), in the row
        order of :func:`build_features`.

    Examples
    --------
    >>> from anxin import synth
    >>> tables = synth(n_enterprises=100, n_months=12, seed=2).tables
    >>> labels = build_labels(tables, horizon=3)
    >>> bool(labels.loc[labels["period"] > "2026-03", "label"].isna().all())
    True
    """
    check_horizon(horizon, "build_labels")
    if tables.events is None:
        raise ContractError(
            "Labels need the events table (confirmed wage-arrears cases). Add "
            "events.csv or events.parquet to the data directory.",
            table="events",
        )
    g = _window(tables, as_of)
    _, active = _scatter(g, tables.payroll, [], "payroll")
    mask = g.view(active, 0)
    e_idx, t_idx = np.nonzero(mask)
    through = events_through if events_through is not None else tables.last_period()
    assert through is not None
    cover = _calendar.to_index(through)
    code, month, _ = _event_months(tables, g)
    month_t = g.targets[t_idx]
    # for each cell, is there an event of its enterprise in (t, t+h]?
    label = np.zeros(t_idx.size, dtype=np.int8)
    if code.size:
        order = np.lexsort((month, code))
        code_s, month_s = code[order], month[order]
        key_ev = code_s * 1_000_000 + month_s
        lo = np.searchsorted(key_ev, e_idx * 1_000_000 + month_t, side="right")
        hi = np.searchsorted(
            key_ev, e_idx * 1_000_000 + month_t + horizon, side="right"
        )
        label = (hi > lo).astype(np.int8)
    labels = pd.array(label, dtype="Int8")
    labels[month_t + horizon > cover] = pd.NA
    return pd.DataFrame(
        {
            "enterprise_id": pd.array(g.ids.take(pa.array(e_idx)), dtype="str"),
            "period": pd.array(_calendar.index_to_periods(month_t), dtype="str"),
            "label": labels,
        }
    )


def features_markdown() -> str:
    """Render :data:`CATALOGUE` as Markdown (``docs/features.md``)."""
    lines = [
        "# Features / 特征目录",
        "",
        "<!-- Generated by `python -m anxin._docs` (`make docs`) from "
        "anxin/_catalogue.py. Do not edit by hand: a test compares this file "
        "with the catalogue. -->",
        "",
        "Every feature of the month-`t` row uses only data with period in "
        f"`[t-{LOOKBACK}, t]`, enterprise facts, and arrears events confirmed "
        "at or before `t`. Missing months are unknown (NaN), never zero; window "
        "statistics use the months that exist, and the `*_months_reported_12m` "
        "and `months_active_12m` features say how many did. Changes are "
        "relative (`0.25` = +25%) and capped to [-100%, +1000%].",
        "",
        "Reasons given to inspectors are grouped; each group's sentence comes "
        "from the template of its strongest feature.",
        "",
        "| group | 中文 | English |",
        "|---|---|---|",
    ]
    lines += [f"| `{k}` | {zh} | {en} |" for k, (zh, en) in GROUPS.items()]
    for group, (zh, en) in GROUPS.items():
        members = [f for f in CATALOGUE.values() if f.group == group]
        lines += ["", f"## {zh} / {en} (`{group}`)", ""]
        lines += [
            "| feature | 说明 | description | unit | reason (中文) "
            "| reason (English) |",
            "|---|---|---|---|---|---|",
        ]
        for f in members:
            lines.append(
                f"| `{f.name}` | {f.zh} | {f.en} | {f.unit} | {f.reason_zh} | "
                f"{f.reason_en} |"
            )
    return "\n".join(lines) + "\n"
