"""Leakage-proof monthly features.

:func:`build_features` turns validated contract tables into a panel with one
row per enterprise per month in which it has a payroll row. Every feature at
month ``t`` is computed from data with period in ``[t - 12, t]`` (plus
enterprise facts and arrears events confirmed at or before ``t``), so

* nothing after ``t`` can reach the row for ``t`` (no look-ahead), and
* scoring one month (``as_of``) only needs the 13 months up to it and gives
  exactly the values the full panel gives for that month.

The formulas are whole-array arithmetic on dense enterprise x month grids
(:mod:`anxin._grid`); there is no per-enterprise Python code. Labels are in
:mod:`anxin.labels`; ``docs/features.md`` is generated from
:data:`anxin.catalogue.CATALOGUE` (``make docs``).
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from anxin import _calendar
from anxin._grid import (
    LOOKBACK,
    Counts,
    Grid,
    Win,
    chg,
    enterprise_codes,
    event_months,
    lag_ratio,
    map_jobs,
    rolling_max,
    safe_ratio,
    scatter,
    since,
    step_change,
    streak,
    window,
)
from anxin._params import resolve_n_jobs
from anxin._peers import Population, peer_frame, peer_means, peer_sums, population_sums
from anxin.catalogue import CATALOGUE
from anxin.tables import Tables

__all__ = [
    "LOOKBACK",
    "Population",
    "build_features",
    "build_features_part",
    "feature_names",
    "peer_totals",
]

logger = logging.getLogger(__name__)
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


# ---------------------------------------------------------------------------
# window arithmetic on (rows, targets) arrays
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# the panel
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Inputs:
    """Everything the per-chunk computation reads (full-grid arrays)."""

    g: Grid
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


@dataclasses.dataclass
class _Chunk:
    """One chunk of enterprises: its grids and what every formula shares."""

    g: Grid
    x: dict[str, np.ndarray]  # grid series, (rows, width)
    st: dict[str, np.ndarray]  # per-enterprise facts, (rows,)
    peer_mean: dict[int, np.ndarray]
    active: np.ndarray
    active_now: np.ndarray
    on_payroll: Counts  # months on payroll in trailing windows
    on_tax: Counts  # months with a tax return in trailing windows


def _chunk(inp: _Inputs, rows: slice) -> dict[str, np.ndarray]:
    """All numeric features for enterprises ``rows``: (rows, targets) arrays."""
    g = inp.g
    x = {k: v[rows] for k, v in inp.grids.items()}
    active = x["active"]
    c = _Chunk(
        g=g,
        x=x,
        st={k: v[rows] for k, v in inp.static.items()},
        peer_mean=inp.peer_mean,
        active=active,
        active_now=g.view(active, 0),
        on_payroll=Counts(g, active),
        on_tax=Counts(g, x["tax_present"]),
    )
    f: dict[str, np.ndarray] = {}
    for part in (
        _headcount,
        _wages,
        _social_insurance,
        _tax_and_revenue,
        _electricity,
        _complaints_history_profile,
    ):
        f.update(part(c))
    return f


def _headcount(c: _Chunk) -> dict[str, np.ndarray]:
    g, hc = c.g, c.x["insured_headcount"]
    f: dict[str, np.ndarray] = {}
    w_hc = Win(g, hc, (13,), counts=c.on_payroll, integer=True)
    f["headcount"] = w_hc.now
    for k in (1, 3, 6, 12):
        f[f"headcount_chg_{k}m"] = chg(g, hc, k)
    f["headcount_rel_mean_12m"] = safe_ratio(w_hc.now, w_hc.mean_before(12)) - 1
    step = step_change(hc)
    w_step = Win(g, step, (6,))
    w_step2 = Win(g, step * step, (6,), counts=w_step.counts)
    f["headcount_vol_6m"] = w_step.std(6, w_step2)
    seg = c.st["seg"].astype(np.int64)
    for k in (1, 3):
        f[f"headcount_peer_chg_{k}m"] = (
            f[f"headcount_chg_{k}m"]
            - c.peer_mean[k][np.arange(g.targets.size)[None, :], seg[:, None]]
        )
    return f


def _wages(c: _Chunk) -> dict[str, np.ndarray]:
    g, x, view, active = c.g, c.x, c.g.view, c.active
    hc, payable, paid = x["insured_headcount"], x["wages_payable"], x["wages_paid"]
    delay = x["pay_delay_days"]
    f: dict[str, np.ndarray] = {}
    wph = safe_ratio(payable, hc)
    f["wages_per_head"] = view(wph, 0)
    f["wages_per_head_chg_3m"] = chg(g, wph, 3)
    f["wages_per_head_chg_12m"] = chg(g, wph, 12)
    f["wages_payable_chg_1m"] = chg(g, payable, 1)
    f["wages_payable_chg_12m"] = chg(g, payable, 12)
    w_pay = Win(g, payable, (13,), counts=c.on_payroll)
    f["wages_payable_rel_mean_12m"] = safe_ratio(w_pay.now, w_pay.mean_before(12)) - 1
    shortfall = np.clip(1.0 - safe_ratio(paid, payable), 0.0, 1.0)
    shortfall[active & (payable == 0)] = 0.0
    short_flag = shortfall > _EPS_SHARE
    f["wage_shortfall_share"] = view(shortfall, 0)
    f["wage_shortfall_mean_3m"] = Win(g, shortfall, (3,), counts=c.on_payroll).mean(3)
    short_months = np.where(active, short_flag, np.nan)
    w_short = Win(g, short_months, (6, 13), counts=c.on_payroll, integer=True)
    f["wage_shortfall_months_6m"] = w_short.sum(6)
    # the month against the enterprise's own norm: a leading signal reads
    # louder from a firm that usually pays in full
    f["wage_shortfall_vs_own_12m"] = w_short.now - w_short.mean_before(12)
    f["wage_shortfall_streak"] = streak(g, short_flag, c.active_now)
    f["months_since_full_wages"] = since(g, active & ~short_flag)
    f["pay_delay_days"] = view(delay, 0)
    f["pay_delay_max_3m"] = rolling_max(g, delay, 3)
    w_delay = Win(g, delay, (6, 13))
    f["pay_delay_mean_6m"] = w_delay.mean(6)
    f["pay_delay_vs_own_12m"] = w_delay.now - w_delay.mean_before(12)
    delay30 = np.where(np.isnan(delay), np.nan, delay > 30)
    f["pay_delay_months_over30_6m"] = Win(
        g, delay30, (6,), counts=w_delay.counts, integer=True
    ).sum(6)
    w_paid = Win(g, paid, (3, 6), counts=c.on_payroll)
    f["wages_paid_trend_6m"] = safe_ratio(w_paid.mean(3), w_paid.mean_between(3, 6)) - 1
    return f


def _social_insurance(c: _Chunk) -> dict[str, np.ndarray]:
    g, active = c.g, c.active
    si_due, si_paid = c.x["social_insurance_due"], c.x["social_insurance_paid"]
    f: dict[str, np.ndarray] = {}
    si_gap = np.clip(1.0 - safe_ratio(si_paid, si_due), 0.0, 1.0)
    si_gap[active & (si_due == 0)] = 0.0
    gap_flag = si_gap > _EPS_SHARE
    f["si_gap_share"] = g.view(si_gap, 0)
    f["si_gap_mean_3m"] = Win(g, si_gap, (3,), counts=c.on_payroll).mean(3)
    w_gap = Win(
        g,
        np.where(active, gap_flag, np.nan),
        (3, 6, 12, 13),
        counts=c.on_payroll,
        integer=True,
    )
    for k in (3, 6, 12):
        f[f"si_gap_months_{k}m"] = w_gap.sum(k)
    f["si_gap_vs_own_12m"] = w_gap.now - w_gap.mean_before(12)
    f["si_gap_streak"] = streak(g, gap_flag, c.active_now)
    f["months_since_full_si"] = since(g, active & ~gap_flag)
    f["si_paid_chg_3m"] = chg(g, si_paid, 3)
    return f


def _tax_and_revenue(c: _Chunk) -> dict[str, np.ndarray]:
    g, x, view, on_tax = c.g, c.x, c.g.view, c.on_tax
    inv, vat, arrears = x["invoice_amount"], x["vat_paid"], x["tax_arrears"]
    f: dict[str, np.ndarray] = {}
    w_inv = Win(g, inv, (3, 6, 13), counts=on_tax)
    w_inv2 = Win(g, inv * inv, (6,), counts=on_tax)
    inv_mean3 = w_inv.mean(3)
    arrears_now = view(arrears, 0)
    f["tax_arrears"] = arrears_now
    f["tax_arrears_to_revenue"] = np.clip(safe_ratio(arrears_now, inv_mean3), 0, 100)
    f["tax_arrears_growth_3m"] = np.clip(
        safe_ratio(arrears_now - view(arrears, 3), inv_mean3), -100, 100
    )
    owing = np.where(np.isnan(arrears), np.nan, arrears > 0)
    f["tax_arrears_months_6m"] = Win(g, owing, (6,), counts=on_tax, integer=True).sum(6)
    f["iit_chg_3m"] = chg(g, x["iit_withheld"], 3)
    f["tax_months_reported_12m"] = on_tax(12)
    # revenue
    f["invoice_amount"] = w_inv.now
    f["revenue_per_head"] = safe_ratio(w_inv.now, view(x["insured_headcount"], 0))
    for k in (1, 3, 12):
        f[f"invoice_chg_{k}m"] = chg(g, inv, k)
    f["invoice_rel_mean_12m"] = safe_ratio(w_inv.now, w_inv.mean_before(12)) - 1
    f["invoice_trend_6m"] = safe_ratio(inv_mean3, w_inv.mean_between(3, 6)) - 1
    f["invoice_vol_6m"] = safe_ratio(w_inv.std(6, w_inv2), w_inv.mean(6))
    f["vat_chg_3m"] = chg(g, vat, 3)
    f["vat_chg_12m"] = chg(g, vat, 12)
    w_vat = Win(g, vat, (13,), counts=on_tax)
    f["vat_rel_mean_12m"] = safe_ratio(w_vat.now, w_vat.mean_before(12)) - 1
    f["vat_to_invoice"] = np.clip(safe_ratio(w_vat.now, w_inv.now), 0, 1)
    return f


def _electricity(c: _Chunk) -> dict[str, np.ndarray]:
    g, kwh = c.g, c.x["electricity_kwh"]
    f: dict[str, np.ndarray] = {}
    w_kwh = Win(g, kwh, (12, 13))
    f["electricity_kwh"] = w_kwh.now
    for k in (1, 3, 12):
        f[f"electricity_chg_{k}m"] = chg(g, kwh, k)
    f["electricity_rel_mean_12m"] = safe_ratio(w_kwh.now, w_kwh.mean_before(12)) - 1
    ratio = lag_ratio(kwh)
    drop = np.where(np.isnan(ratio), np.nan, ratio < 0.5)
    f["electricity_drop50_months_6m"] = Win(g, drop, (6,), integer=True).sum(6)
    f["electricity_months_reported_12m"] = w_kwh.count(12)
    return f


def _complaints_history_profile(c: _Chunk) -> dict[str, np.ndarray]:
    g, x, view, st = c.g, c.x, c.g.view, c.st
    f: dict[str, np.ndarray] = {}
    w_c = Win(g, x["complaints"], (3, 6, 12, 13), integer=True)
    f["complaints_1m"] = w_c.now
    f["complaints_vs_own_12m"] = w_c.now - w_c.mean_before(12)
    # complaints that come with a confirmed case (or the month before it) are
    # about that case; the others may be warning of the next one
    case_now, case_before = view(x["case_month"], 0), view(x["case_month"], 1)
    before = np.where(case_now + case_before > 0, 0.0, view(x["complaints"], 1))
    f["complaints_no_case_2m"] = np.where(
        np.isnan(w_c.now) & np.isnan(before),
        np.nan,
        np.where(case_now > 0, 0.0, np.nan_to_num(w_c.now)) + np.nan_to_num(before),
    )
    for k in (3, 6, 12):
        f[f"complaints_{k}m"] = w_c.sum(k)
    w_l = Win(g, x["lawsuits"], (3, 6, 12), integer=True)
    for k in (3, 6, 12):
        f[f"lawsuits_{k}m"] = w_l.sum(k)
    # history, profile, calendar
    f["past_arrears_count"] = view(x["hist_count"], 0)
    f["months_since_last_arrears"] = view(x["hist_since"], 0)
    f["past_arrears_workers"] = view(x["hist_workers"], 0)
    shape = c.active_now.shape
    f["firm_age_months"] = np.maximum(
        g.targets[None, :] - st["established"][:, None], 0
    )
    f["registered_capital"] = np.broadcast_to(st["registered_capital"][:, None], shape)
    f["months_active_12m"] = c.on_payroll(12)
    f["month_of_year"] = np.broadcast_to((g.targets % 12 + 1.0)[None, :], shape)
    f["months_to_spring_festival"] = np.broadcast_to(
        _calendar.months_to_spring_festival(g.targets).astype(float)[None, :], shape
    )
    return f


def _static(tables: Tables, g: Grid) -> tuple[dict[str, np.ndarray], list[pd.Index]]:
    """Per-enterprise facts in code order, and the categorical levels."""
    ent = tables.enterprises
    code = enterprise_codes(g, ent["enterprise_id"], "enterprises")
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


def _history(tables: Tables, g: Grid) -> dict[str, np.ndarray]:
    """Count, months since last and workers of events confirmed at or before t.

    Uses every event, however old: events are few, so this is cheap, and the
    result at ``t`` still depends on nothing after ``t``.
    """
    code, month, workers = event_months(tables, g)
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
    # a case in each month of the grid (its columns, not only the targets)
    case_month = np.zeros((g.n, g.width))
    if code.size:
        col = month - g.m0 + g.pad
        inside = (col >= 0) & (col < g.width)
        case_month[code[inside], col[inside]] = 1.0
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
    out["case_month"] = case_month
    return out


def _panel(
    tables: Tables,
    as_of: str | Sequence[str] | None,
    n_jobs: int | None = None,
    population: Population | None = None,
) -> tuple[pd.DataFrame, Grid, np.ndarray]:
    extract = None
    if population is not None:
        extract = (population.first_period, population.last_period)
    g = window(tables, as_of, extract)
    jobs = resolve_n_jobs(n_jobs, "build_features")
    specs = [
        (tables.payroll, _PAYROLL, "payroll"),
        (tables.tax, _TAX, "tax"),
        (tables.signals, _SIGNALS, "signals"),
    ]
    scattered = map_jobs(lambda s: scatter(g, *s), specs, jobs)
    grids: dict[str, np.ndarray] = {}
    for values, _ in scattered:
        grids.update(values)
    active = scattered[0][1]
    grids["active"] = active
    grids["tax_present"] = scattered[1][1]
    grids.update(_history(tables, g))
    static, levels = _static(tables, g)
    n_seg = len(levels[0]) * len(levels[1])
    if population is None:
        sums = peer_sums(g, grids["insured_headcount"], active, static["seg"], n_seg)
    else:
        sums = population_sums(population, g, levels)
    peer = peer_means(sums)
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

    map_jobs(work, bounds, jobs)

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


def peer_totals(
    tables: Tables,
    *,
    as_of: str | Sequence[str] | None = None,
    bounds: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """The exact sums under the peer features, over these tables' enterprises.

    One row per industry, region, month and lag with at least one change:
    ``industry``, ``region``, ``period``, ``k``, ``total`` (in units of
    ``2**-30``), ``count``. Summed over the parts of an extract (buckets of
    enterprises) they give the whole extract's sums exactly, for
    :class:`Population`. ``bounds`` are the whole extract's first and last
    payroll months.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = window(tables, as_of, bounds)
        values, active = scatter(g, tables.payroll, ["insured_headcount"], "payroll")
        static, levels = _static(tables, g)
        n_seg = len(levels[0]) * len(levels[1])
        sums = peer_sums(g, values["insured_headcount"], active, static["seg"], n_seg)
    return peer_frame(sums, g, levels)


def build_features_part(
    tables: Tables,
    *,
    as_of: str | Sequence[str] | None = None,
    population: Population,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """:func:`build_features` for some of an extract's enterprises.

    ``tables`` hold every row of these enterprises (one bucket of a cluster
    run, :mod:`anxin.spark`); ``population`` carries what the features need
    from the others (the extract's payroll months and the peer sums), so each
    row equals the row :func:`build_features` gives on the whole extract.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        frame, _, _ = _panel(tables, as_of, n_jobs, population)
    return frame
