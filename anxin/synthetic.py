"""A seeded synthetic world that behaves like a bureau's shared data.

Every enterprise has a latent financial health that moves month to month
(persistent, with sector and regional shocks and rare collapses). The
observables react to it with realistic lags -- revenue and VAT first, social
insurance gaps and pay delays next, headcount later -- and wage-arrears
events are rare draws whose hazard rises with poor health and around the
Spring Festival. Complaints cluster just before an event, lawsuits follow it.
``docs/synthetic-data.md`` tells the story in full.

``synth`` runs the story in stages, one private function each, that draw
from one generator in a fixed order: the enterprises, their health, arrears
events, payroll, payment gaps, tax, signals, then the long tables. Each is
vectorised over enterprises; the only Python loops are over months.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.random import Generator

from anxin import _calendar
from anxin._dirty import inject, make_ids
from anxin._oracle import Latent, true_risk
from anxin._params import check_horizon, check_int, check_month, check_param
from anxin.exceptions import InvalidParameterError
from anxin.tables import Tables, write_tables

__all__ = ["SyntheticWorld", "synth"]

logger = logging.getLogger(__name__)

#: Huzhou's districts and counties (湖州: 吴兴、南浔、德清、长兴、安吉).
DEFAULT_REGIONS = ("330502", "330503", "330521", "330522", "330523")
_REGION_WEIGHTS = (0.26, 0.17, 0.19, 0.21, 0.17)

# section: (share, log-size shift, wage per head CNY, revenue per head CNY,
#           kWh per head, health shift, volatility)
_INDUSTRY = {
    "C": (0.28, 0.5, 6500, 42000, 1400, 0.00, 0.16),
    "E": (0.12, 0.6, 7600, 52000, 260, -0.35, 0.22),
    "F": (0.18, -0.2, 5300, 65000, 220, 0.05, 0.15),
    "H": (0.09, 0.0, 4600, 16000, 620, -0.15, 0.20),
    "G": (0.06, 0.2, 6900, 30000, 300, 0.00, 0.16),
    "I": (0.05, 0.0, 12500, 32000, 160, 0.15, 0.14),
    "L": (0.07, -0.1, 7200, 28000, 150, -0.05, 0.17),
    "K": (0.03, 0.1, 8600, 90000, 180, -0.20, 0.20),
    "M": (0.03, -0.1, 10200, 30000, 170, 0.10, 0.14),
    "O": (0.04, -0.4, 4800, 14000, 200, -0.05, 0.17),
    "A": (0.02, 0.0, 4300, 20000, 400, -0.05, 0.18),
    "N": (0.01, 0.2, 6200, 25000, 250, 0.10, 0.12),
    "P": (0.01, 0.0, 7000, 12000, 150, 0.10, 0.12),
    "Q": (0.01, 0.3, 8000, 20000, 250, 0.15, 0.12),
}


@dataclasses.dataclass
class SyntheticWorld:
    """A generated world.

    Attributes
    ----------
    tables : Tables
        The contract tables (clean unless ``dirty``).
    injected : DataFrame
        Rows deliberately broken by ``dirty=True``: ``table``, ``source_row``
        (1-based, as in the validation report) and ``rule`` they break.
    health : DataFrame
        The latent state per enterprise and month (for diagnostics, tests and
        benchmarks only; a model never sees it): ``health`` and ``hazard``,
        the true probability of a confirmed arrears event in that month.
    latent : Latent, optional
        What the generator knew, for :meth:`true_risk`.
    """

    tables: Tables
    injected: pd.DataFrame
    health: pd.DataFrame
    latent: Latent | None = dataclasses.field(default=None, repr=False)

    def true_risk(self, *, horizon: int = 3, seed: int = 0) -> pd.DataFrame:
        """The world's own risk (for tests and benchmarks only): a Bayes
        oracle's probability of an arrears event within ``horizon`` months of
        each row of :attr:`health` (``enterprise_id``, ``period``, ``risk``;
        NaN where the window runs past the data). See :mod:`anxin._oracle`.

        Examples
        --------
        >>> world = synth(n_enterprises=200, n_months=12, seed=3)
        >>> known = world.true_risk(horizon=3)["risk"].dropna()
        >>> 0 < len(known) < len(world.health), bool(known.between(0, 1).all())
        (True, True)
        """
        check_horizon(horizon, "SyntheticWorld.true_risk")
        if self.latent is None:
            raise InvalidParameterError(
                "This world holds no latent state; true_risk needs a world "
                "made by anxin.synth."
            )
        return true_risk(self.latent, self.health, horizon=horizon, seed=seed)

    def write(self, path: str | Path, format: str = "parquet") -> dict[str, Path]:
        """Write the tables, plus ``_injected.csv`` when rows were broken."""
        out = write_tables(self.tables, path, format=format)  # type: ignore[arg-type]
        if not self.injected.empty:
            target = Path(path) / "_injected.csv"
            self.injected.to_csv(target, index=False)
            out["_injected"] = target
        return out


#: The enterprise x month arrays of the columns of the tables, by column name.
_Grid = dict[str, np.ndarray]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _lag(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` k months earlier, the first month standing in before the window."""
    return np.concatenate([np.repeat(x[:, :1], k, axis=1), x[:, :-k]], axis=1)


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` k months later (k > 0) or earlier (k < 0), zero outside the window."""
    out = np.zeros_like(x)
    if k > 0:
        out[:, :-k] = x[:, k:]
    else:
        out[:, -k:] = x[:, :k]
    return out


def synth(
    n_enterprises: int = 20_000,
    n_months: int = 48,
    *,
    end: str = "2026-06",
    seed: int = 0,
    dirty: bool = False,
    regions: tuple[str, ...] = DEFAULT_REGIONS,
    relief: tuple[str, float] | None = None,
) -> SyntheticWorld:
    """Generate a synthetic world of enterprises and monthly records.

    Parameters
    ----------
    n_enterprises : int, default 20000
        Enterprises ever active in the window (incumbents and entrants).
    n_months : int, default 48
        Length of the window, ending at ``end``.
    end : str, default "2026-06"
        Last month of data, ``YYYY-MM``.
    seed : int, default 0
        Seed; the same arguments give the same world.
    dirty : bool, default False
        Inject contract breaches (bad codes, duplicates, negative values,
        unparsable and future periods, unknown enterprises), listed in
        :attr:`SyntheticWorld.injected`.
    regions : tuple of str
        6-digit region codes to spread enterprises over.
    relief : (str, float), optional
        A relief policy: from month ``relief[0]`` on, a share ``relief[1]``
        of enterprises defers its social insurance (pays none), with no
        change in their health or arrears. The rest of the world is the same
        as without it: a drift that is not risk.

    Returns
    -------
    SyntheticWorld

    Examples
    --------
    >>> world = synth(n_enterprises=200, n_months=12, seed=3)
    >>> sorted(world.tables.present())
    ['enterprises', 'events', 'payroll', 'signals', 'tax']
    >>> world.tables.payroll["period"].max()
    '2026-06'
    """
    ok = isinstance(n_enterprises, int) and n_enterprises >= 10
    check_param("n_enterprises", n_enterprises, "synth", "an int >= 10", ok)
    ok = isinstance(n_months, int) and 3 <= n_months <= 240
    check_param("n_months", n_months, "synth", "an int in [3, 240]", ok)
    check_month("end", end, "synth")
    check_int("seed", seed, "synth", 0, 2**32 - 1)  # numpy's seeds
    ok = relief is None or (
        isinstance(relief, tuple) and len(relief) == 2 and 0 < relief[1] <= 1
    )
    check_param("relief", relief, "synth", "None or (month, share in (0, 1])", ok)
    # One generator feeds every stage in turn: their order is part of the seed.
    rng = np.random.default_rng(seed)
    end_idx = _calendar.to_index(end)
    months = np.arange(end_idx - n_months + 1, end_idx + 1)
    firms = _Firms(rng, n_enterprises, regions, months)
    h, alive, shocks = _health(rng, firms, len(regions), n_months)
    hazard, event = _arrears_events(rng, firms, h, alive, months)
    story = _Story(firms, months, h, alive, event, hazard)
    grid = _payroll(rng, story)
    grid |= _payment_gaps(rng, story, grid)
    grid |= _tax(rng, story, grid)
    grid |= _signals(rng, story, grid)
    if relief is not None:
        grid = _relief(grid, story, relief, seed)
    tables, health = _assemble(rng, story, grid)
    injected = pd.DataFrame(columns=["table", "source_row", "rule"])
    if dirty:
        tables, injected = inject(tables, rng, end_idx)
    latent = _latent(story, grid, shocks)
    return SyntheticWorld(tables, injected, health, latent)


def _latent(story: _Story, grid: _Grid, shocks: dict[str, np.ndarray]) -> Latent:
    """What the oracle of :meth:`SyntheticWorld.true_risk` reads."""
    firms = story.firms
    base = (
        -6.2
        + 0.75 * firms.construction
        + 0.25 * (firms.industry == "H")
        + 0.15 * np.log(firms.size0)
    )
    delay = np.where(firms.has_delay[:, None], grid["pay_delay_days"], np.nan)
    return Latent(
        months=story.months,
        h=story.h.astype(np.float32),
        alive=story.alive,
        event=story.event,
        complaints=grid["complaints"].astype(np.int16),
        gap=grid["gap_flag"],
        short=grid["short_flag"],
        delay=delay.astype(np.float32),
        mu=firms.mu,
        sigma=firms.sigma,
        ind=firms.ind,
        reg=firms.reg,
        base=base,
        **shocks,
    )


class _Firms:
    """The enterprises, drawn once; each attribute an array over enterprises.

    ``ind`` and ``reg`` index ``_INDUSTRY`` and the regions; ``first`` is an
    entrant's first month in the window; ``size0`` its starting headcount;
    ``*_ph`` its monthly wages, sales and kWh per head; ``mu`` and ``sigma``
    the level and volatility of its health; ``has_*`` the feeds it has.
    """

    def __init__(
        self, rng: Generator, n: int, regions: tuple[str, ...], months: np.ndarray
    ) -> None:
        T, start_idx = len(months), int(months[0])
        codes = np.array(list(_INDUSTRY))
        spec = np.array([_INDUSTRY[c] for c in codes], dtype=float)
        share = spec[:, 0] / spec[:, 0].sum()
        self.ind = ind = rng.choice(len(codes), size=n, p=share)
        region_w = np.resize(np.array(_REGION_WEIGHTS, dtype=float), len(regions))
        self.reg = reg = rng.choice(len(regions), size=n, p=region_w / region_w.sum())
        self.industry = codes[ind]
        self.region = np.array(regions)[reg]
        self.construction = construction = self.industry == "E"
        self.entrant = entrant = rng.random(n) < 0.18
        self.first = first = np.where(entrant, rng.integers(1, T, size=n), 0)
        age0_months = rng.gamma(1.6, 60.0, size=n).astype(int) + 3
        est_month = np.where(entrant, start_idx + first, start_idx - age0_months)
        est_day = rng.integers(1, 29, size=n)
        self.established = pd.to_datetime(
            {"year": est_month // 12, "month": est_month % 12 + 1, "day": est_day}
        )
        size0 = np.exp(rng.normal(np.log(11.0) + spec[ind, 1], 1.05))
        self.size0 = np.clip(np.round(size0), 2, 20_000)
        region_wage = np.resize(np.array([1.06, 0.97, 1.0, 0.98, 0.99]), len(regions))
        self.wage_ph = spec[ind, 2] * region_wage[reg] * np.exp(rng.normal(0, 0.15, n))
        self.rev_ph = spec[ind, 3] * np.exp(rng.normal(0, 0.35, n))
        self.kwh_ph = spec[ind, 4] * np.exp(rng.normal(0, 0.4, n))
        self.has_kwh = rng.random(n) > 0.22
        self.has_delay = np.where(
            construction, rng.random(n) < 0.85, rng.random(n) < 0.03
        )
        self.has_tax = rng.random(n) > 0.04
        vat = np.where(construction, 0.03, 0.045)
        self.vat_rate = vat * np.exp(rng.normal(0, 0.1, n))
        self.capital = np.round(np.exp(rng.normal(np.log(200), 1.3, n)), 1)
        self.capital[rng.random(n) < 0.03] = np.nan
        self.mu = rng.normal(0.9, 0.45, n) + spec[ind, 5]
        self.sigma = spec[ind, 6] * np.exp(rng.normal(0, 0.2, n))
        self.ids = make_ids(rng, self.region)

    def table(self) -> pd.DataFrame:
        """The ``enterprises`` table."""
        return pd.DataFrame(
            {
                "enterprise_id": self.ids,
                "industry": self.industry,
                "region": self.region,
                "established": self.established.dt.normalize(),
                "registered_capital": self.capital,
            }
        )


def _health(
    rng: Generator, firms: _Firms, n_regions: int, T: int
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Latent health (AR(1) with shocks, a crunch, collapses), survival, and
    the shocks (sector and regional levels, the crunch's push) by month."""
    codes = np.array(list(_INDUSTRY))
    n, mu, ind, reg = len(firms.ids), firms.mu, firms.ind, firms.reg
    sector = np.zeros(len(codes))
    local = np.zeros(n_regions)
    crunch_sector = int(np.flatnonzero(codes == "K")[0])
    crunch_at = int(rng.integers(T // 3, max(T // 3 + 1, 2 * T // 3)))
    h = np.empty((n, T), dtype=np.float64)
    alive = np.zeros((n, T), dtype=bool)
    shocks = {
        "sector": np.zeros((len(codes), T)),
        "local": np.zeros((n_regions, T)),
        "crunch": np.zeros((T, len(codes))),
    }
    state = mu + rng.normal(0, 0.3, n)
    living = ~firms.entrant
    for t in range(T):
        sector = 0.85 * sector + rng.normal(0, 0.02, len(codes))
        local = 0.85 * local + rng.normal(0, 0.015, n_regions)
        if crunch_at <= t < crunch_at + 6:  # a property-sector crunch
            sector[crunch_sector] -= 0.04
            sector[codes == "E"] -= 0.015
            shocks["crunch"][t, crunch_sector] = -0.04
            shocks["crunch"][t, codes == "E"] = -0.015
        collapse = rng.random(n) < 0.0025
        state = (
            mu
            + 0.9 * (state - mu)
            + sector[ind]
            + local[reg]
            + rng.normal(0, 1, n) * firms.sigma
            - collapse * rng.uniform(1.5, 3.0, n)
        )
        living = living | (firms.entrant & (firms.first == t))
        exit_p = 0.002 + 0.06 * _sigmoid(-4.0 * (state + 1.6))
        living = living & ~((rng.random(n) < exit_p) & (firms.first < t))
        h[:, t] = state
        alive[:, t] = living
        shocks["sector"][:, t], shocks["local"][:, t] = sector, local
    return h, alive, shocks


def _arrears_events(
    rng: Generator,
    firms: _Firms,
    h: np.ndarray,
    alive: np.ndarray,
    months: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Wage-arrears hazard and events: rare, likelier in poor health, at
    Spring Festival."""
    season = _calendar.is_spring_festival_season(months).astype(float)
    logit = (
        -6.2
        - 1.25 * h
        - 0.55 * _lag(h, 1)
        + 0.75 * firms.construction[:, None]
        + 0.25 * (firms.industry == "H")[:, None]
        + 0.65 * season[None, :]
        + 0.15 * np.log(firms.size0)[:, None]
    )
    # an enterprise that exits owes wages more often in its last month
    last_alive = alive & ~_shift(alive, 1)
    last_alive[:, -1] = False
    hazard = _sigmoid(logit + 2.0 * last_alive)
    return np.where(alive, hazard, 0.0), alive & (rng.random(h.shape) < hazard)


@dataclasses.dataclass(frozen=True)
class _Story:
    """The latent world that the tables observe, enterprises x months."""

    firms: _Firms
    months: np.ndarray  # the absolute month index of each column
    h: np.ndarray  # latent financial health
    alive: np.ndarray
    event: np.ndarray  # a confirmed wage-arrears event
    hazard: np.ndarray  # its true probability in the month


def _payroll(rng: Generator, story: _Story) -> _Grid:
    """Headcount (3 months behind health) and wages, paid short 2 months behind."""
    firms, h, event, moy = story.firms, story.h, story.event, story.months % 12
    h3 = _lag(h, 3)
    construction = firms.construction[:, None]
    growth = (
        0.001
        + 0.03 * (np.clip(h3, -3, 2.5) - firms.mu[:, None])
        - 0.16 * (h3 < -1.2)
        + rng.normal(0, 0.035, h.shape)
    )
    growth += np.where(construction & (moy == 1)[None, :], -0.12, 0)
    growth += np.where(construction & (moy == 2)[None, :], 0.12, 0)
    growth[:, 0] = 0
    size = firms.size0[:, None] * np.exp(np.cumsum(growth, 1))
    headcount = np.maximum(1, np.round(size))
    bonus = np.where(moy == 0, 1.55, np.where(moy == 11, 1.15, 1.0))
    payable = (
        headcount
        * firms.wage_ph[:, None]
        * bonus[None, :]
        * np.exp(0.03 * np.clip(h, -2, 2) + rng.normal(0, 0.04, h.shape))
    )
    h2, season = _lag(h, 2), _calendar.is_spring_festival_season(story.months)
    p_short = _sigmoid(-3.6 - 2.6 * h2 + 1.8 * _shift(event, 1) + 0.5 * season)
    short_flag = rng.random(h.shape) < p_short
    shortfall = short_flag * rng.uniform(0.05, 0.6, h.shape)
    shortfall = np.clip(shortfall + 0.35 * event * rng.random(h.shape), 0, 0.95)
    return {
        "insured_headcount": headcount,
        "wages_payable": payable,
        "wages_paid": payable * (1 - shortfall),
        "social_insurance_due": payable / bonus[None, :] * 0.26,
        "short_flag": short_flag,
    }


def _payment_gaps(rng: Generator, story: _Story, grid: _Grid) -> _Grid:
    """Social insurance paid short and pay delays, 1 month behind health."""
    h_lag1, ev_next = _lag(story.h, 1), _shift(story.event, 1)
    shape = h_lag1.shape
    p_gap = _sigmoid(-2.9 - 2.8 * h_lag1 + 1.1 * ev_next)
    gap_flag = rng.random(shape) < p_gap
    gap = gap_flag * np.clip(
        rng.uniform(0.1, 0.5, shape) + 0.2 * np.clip(-h_lag1, 0, 2), 0, 1
    )
    delay = 0.0 + np.maximum(
        0.0,
        np.round(
            rng.exponential(1.5, shape)
            + 14 * np.clip(-h_lag1 - 0.2, 0, 3)
            + 25 * ev_next
            + rng.normal(0, 2, shape)
        ),
    )
    si_paid = grid["social_insurance_due"] * (1 - gap)
    return {
        "social_insurance_paid": si_paid,
        "pay_delay_days": delay,
        "gap_flag": gap_flag,
    }


def _relief(grid: _Grid, story: _Story, relief: tuple[str, float], seed: int) -> _Grid:
    """A share of firms defers social insurance from a month on (own stream)."""
    start, share = _calendar.to_index(relief[0]), relief[1]
    draws = np.random.default_rng([seed, 7]).random(story.h.shape[0])
    pick = np.asarray(draws < share, dtype=bool)
    deferred = pick[:, None] & (story.months >= start)[None, :]
    paid = np.where(deferred, 0.0, grid["social_insurance_paid"])
    return {**grid, "social_insurance_paid": paid}


def _tax(rng: Generator, story: _Story, grid: _Grid) -> _Grid:
    """Invoiced sales and VAT with health; unpaid VAT piles up as tax arrears."""
    firms, h = story.firms, story.h
    rev_season = 1 + 0.12 * np.cos(2 * np.pi * (story.months % 12 - 10) / 12)
    revenue = (
        grid["insured_headcount"]
        * firms.rev_ph[:, None]
        * rev_season[None, :]
        * np.exp(0.45 * np.clip(h, -3, 2) + rng.normal(0, 0.12, h.shape))
    )
    vat_due = revenue * firms.vat_rate[:, None]
    unpaid = _sigmoid(-3.0 * (h + 0.4)) * 0.85 * (h < 0.2)
    iit = grid["wages_paid"] * 0.012 * np.exp(rng.normal(0, 0.1, h.shape))
    arrears = np.zeros(h.shape)
    balance = np.where(rng.random(len(h)) < 0.02, vat_due[:, 0] * 2, 0.0)
    for t in range(h.shape[1]):
        balance = 0.9 * balance + vat_due[:, t] * unpaid[:, t]
        balance[balance < 50] = 0
        arrears[:, t] = balance
    return {
        "invoice_amount": revenue,
        "vat_paid": vat_due * (1 - unpaid),
        "iit_withheld": iit,
        "tax_arrears": arrears,
    }


def _signals(rng: Generator, story: _Story, grid: _Grid) -> _Grid:
    """Electricity with health; complaints lead an event, lawsuits follow it."""
    h, event, moy = story.h, story.event, story.months % 12
    spring = (moy == 1) | (moy == 2)
    kwh = (
        grid["insured_headcount"]
        * story.firms.kwh_ph[:, None]
        * np.exp(0.5 * np.clip(h, -3, 2) + rng.normal(0, 0.1, h.shape))
        * np.where(spring[None, :], 0.7, 1.0)
    )
    kwh = np.where(h < -1.8, kwh * rng.uniform(0.1, 0.5, h.shape), kwh)
    lam_c = (
        0.004
        + 0.12 * _sigmoid(-2.5 - 2.2 * h)
        + 0.9 * _shift(event, 1)
        + 0.6 * _shift(event, 2)
        + 0.8 * event
    )
    complaints = rng.poisson(lam_c)
    lam_l = 0.002 + 0.03 * _sigmoid(-2 - 2 * h) + 0.35 * _shift(event, -1) + 0.1 * event
    lawsuits = rng.poisson(lam_l)
    return {"electricity_kwh": kwh, "complaints": complaints, "lawsuits": lawsuits}


def _assemble(
    rng: Generator, story: _Story, grid: _Grid
) -> tuple[Tables, pd.DataFrame]:
    """The tables and health, period-major; tax months, complaints go missing."""
    firms = story.firms
    cell_t, cell_e = np.nonzero(story.alive.T)
    periods = _calendar.index_to_periods(story.months[cell_t])
    rows_id = firms.ids[cell_e]

    def take(column: str) -> np.ndarray:
        return grid[column][cell_e, cell_t]

    payroll = pd.DataFrame(
        {
            "enterprise_id": rows_id,
            "period": periods,
            "insured_headcount": take("insured_headcount").astype(np.int64),
            "wages_payable": np.round(take("wages_payable"), 2),
            "wages_paid": np.round(take("wages_paid"), 2),
            "pay_delay_days": np.where(
                firms.has_delay[cell_e], take("pay_delay_days"), np.nan
            ),
            "social_insurance_due": np.round(take("social_insurance_due"), 2),
            "social_insurance_paid": np.round(take("social_insurance_paid"), 2),
        }
    )
    keep = firms.has_tax[cell_e] & (rng.random(cell_e.size) > 0.05)
    money = ["invoice_amount", "vat_paid", "iit_withheld", "tax_arrears"]
    tax = pd.DataFrame(
        {"enterprise_id": rows_id[keep], "period": periods[keep]}
        | {column: np.round(take(column)[keep], 2) for column in money}
    )
    complaints = pd.array(take("complaints"), dtype="Int64")
    complaints[rng.random(cell_e.size) < 0.01] = pd.NA
    kwh = np.round(take("electricity_kwh"), 1)
    signals = pd.DataFrame(
        {
            "enterprise_id": rows_id,
            "period": periods,
            "electricity_kwh": np.where(firms.has_kwh[cell_e], kwh, np.nan),
            "complaints": complaints,
            "lawsuits": pd.array(take("lawsuits"), dtype="Int64"),
        }
    )
    events = _events(rng, story, grid["insured_headcount"])
    logger.info(
        "synth: %d enterprises, %d payroll rows, %d events (%.2f%% of "
        "enterprise-quarters)",
        len(firms.ids),
        len(payroll),
        len(events),
        100 * 3 * len(events) / max(len(payroll), 1),
    )
    latent = pd.DataFrame(
        {
            "enterprise_id": rows_id,
            "period": periods,
            "health": story.h[cell_e, cell_t].astype(np.float32),
            "hazard": story.hazard[cell_e, cell_t],
        }
    )
    return (
        Tables(firms.table(), payroll, tax=tax, signals=signals, events=events),
        latent,
    )


def _events(rng: Generator, story: _Story, headcount: np.ndarray) -> pd.DataFrame:
    """The ``events`` table: a share of the headcount, owed 1-4 months of wages."""
    ev_e, ev_t = np.nonzero(story.event)
    order = np.lexsort((ev_e, ev_t))
    ev_e, ev_t = ev_e[order], ev_t[order]
    share = rng.uniform(0.15, 0.9, ev_e.size)
    workers = np.maximum(1, rng.binomial(headcount[ev_e, ev_t].astype(np.int64), share))
    owed = workers * story.firms.wage_ph[ev_e] * rng.uniform(1.0, 4.0, ev_e.size)
    return pd.DataFrame(
        {
            "enterprise_id": story.firms.ids[ev_e],
            "period": _calendar.index_to_periods(story.months[ev_t]),
            "workers_affected": workers.astype(np.int64),
            "amount_owed": np.round(owed, 2),
        }
    )
