"""The synthetic world's own risk: a Bayes oracle for benchmarks and tests.

:meth:`anxin.SyntheticWorld.true_risk` asks: given everything the generator
knew at the end of month ``t`` -- each enterprise's latent health so far, the
sector and regional shocks, and the signals that lead an arrears event
(complaints, social-insurance gaps, wage shortfalls, pay delays, whose true
likelihoods are known) -- what is the probability of a confirmed event in
months ``t+1 .. t+horizon``? The health ahead is simulated from the
generator's own dynamics (collapses importance-sampled, exits drawn), and
the leading signals weigh the next two months' events by Bayes' rule.

No model sees the latent health, so this is the ceiling the data allow: a
model's average precision as a share of the oracle's measures the headroom.
The formulas mirror :mod:`anxin.synthetic`; a test recomputes the
generator's hazard from them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import stats

from anxin import _calendar

__all__ = ["Latent", "hazard_logit", "true_risk"]

#: Monthly collapse probability and its size (as in the generator).
COLLAPSE, COLLAPSE_DROP = 0.0025, (1.5, 3.0)
#: Collapses are drawn this often in the simulation, then reweighted.
COLLAPSE_DRAWN = 0.05


@dataclasses.dataclass
class Latent:
    """What the generator knew, enterprise x month (arrays) and per firm.

    ``h`` health, ``alive``, ``event``; the leading signals as drawn:
    ``complaints``, ``gap`` and ``short`` (social insurance paid short, wages
    paid short), ``delay`` (NaN without pay-delay data); per firm ``mu``,
    ``sigma``, ``ind``, ``reg`` and ``base`` (the fixed part of the hazard
    logit); ``sector`` (industries x months) and ``local`` (regions x months)
    shock levels; ``crunch`` (months x industries) the crunch's push.
    """

    months: np.ndarray
    h: np.ndarray
    alive: np.ndarray
    event: np.ndarray
    complaints: np.ndarray
    gap: np.ndarray
    short: np.ndarray
    delay: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    ind: np.ndarray
    reg: np.ndarray
    base: np.ndarray
    sector: np.ndarray
    local: np.ndarray
    crunch: np.ndarray


def hazard_logit(
    base: np.ndarray,
    h: np.ndarray,
    h_before: np.ndarray,
    season: np.ndarray,
    last_alive: np.ndarray,
) -> np.ndarray:
    """Log-odds of an arrears event in a month (the generator's formula)."""
    return base - 1.25 * h - 0.55 * h_before + 0.65 * season + 2.0 * last_alive


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def true_risk(
    latent: Latent,
    health: pd.DataFrame,
    *,
    horizon: int,
    seed: int = 0,
    paths: int = 96,
    chunk: int = 8_192,
) -> pd.DataFrame:
    """The oracle's risk for every row of ``health`` (alive cells, period
    major); NaN where ``t + horizon`` is past the last month."""
    cell_t, cell_e = np.nonzero(latent.alive.T)
    last = latent.h.shape[1] - 1
    risk = np.full(cell_t.size, np.nan)
    known = np.flatnonzero(cell_t + horizon <= last)
    rng = np.random.default_rng([seed, horizon])
    for start in range(0, known.size, chunk):
        rows = known[start : start + chunk]
        risk[rows] = _posterior(latent, cell_e[rows], cell_t[rows], horizon, paths, rng)
    return pd.DataFrame(
        {
            "enterprise_id": health["enterprise_id"].to_numpy(),
            "period": health["period"].to_numpy(),
            "risk": risk,
        }
    )


def _posterior(
    lat: Latent,
    e: np.ndarray,
    t: np.ndarray,
    horizon: int,
    paths: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """P(event in t+1..t+horizon | what was known at t) for cells (e, t)."""
    hazard, weight = _simulate(lat, e, t, max(horizon, 2), paths, rng)
    loglik = _leads(lat, e, t)  # (n, 2, 2): e1, e2
    lik = np.exp(loglik - loglik.max(axis=(1, 2), keepdims=True))
    p1, p2 = hazard[:, :, 0], hazard[:, :, 1]
    joint = np.stack(
        [
            np.stack([(1 - p1) * (1 - p2), (1 - p1) * p2], axis=-1),
            np.stack([p1 * (1 - p2), p1 * p2], axis=-1),
        ],
        axis=-2,
    )  # (n, paths, e1, e2)
    evidence = (joint * lik[:, None]).sum(axis=(2, 3))
    quiet = joint[:, :, 0, 0] * lik[:, None, 0, 0] if horizon >= 2 else None
    if quiet is None:  # horizon 1: the month after may hold an event
        quiet = (joint[:, :, 0, :] * lik[:, None, 0, :]).sum(axis=-1)
    quiet = quiet * np.prod(1 - hazard[:, :, 2:horizon], axis=-1)
    none = (weight * quiet).sum(axis=1) / (weight * evidence).sum(axis=1)
    return np.asarray(1.0 - none)


# long: the generator's month step (shocks, health, collapse, exit) applied to
# simulated paths, then its hazard formula; one loop over the months ahead
def _simulate(
    lat: Latent,
    e: np.ndarray,
    t: np.ndarray,
    steps: int,
    paths: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Hazards of months t+1..t+steps on simulated paths, and path weights."""
    n, last = e.size, lat.h.shape[1] - 1
    shape = (n, paths)
    mu, sigma = lat.mu[e][:, None], lat.sigma[e][:, None]
    ind, reg = lat.ind[e], lat.reg[e]
    sector = np.broadcast_to(lat.sector[ind, t][:, None], shape).copy()
    local = np.broadcast_to(lat.local[reg, t][:, None], shape).copy()
    state = np.broadcast_to(lat.h[e, t].astype(np.float64)[:, None], shape).copy()
    alive = np.ones(shape, dtype=bool)
    weight = np.ones(shape)
    health, living = [state], [alive]
    for k in range(1, steps + 2):  # one month more: was month t+steps the last?
        col = t + k
        push = np.zeros(n)
        inside = col <= last
        push[inside] = lat.crunch[col[inside], ind[inside]]
        sector = 0.85 * sector + rng.normal(0, 0.02, shape) + push[:, None]
        local = 0.85 * local + rng.normal(0, 0.015, shape)
        collapse = rng.random(shape) < COLLAPSE_DRAWN
        weight *= np.where(
            collapse, COLLAPSE / COLLAPSE_DRAWN, (1 - COLLAPSE) / (1 - COLLAPSE_DRAWN)
        )
        state = (
            mu
            + 0.9 * (state - mu)
            + sector
            + local
            + rng.normal(0, 1, shape) * sigma
            - collapse * rng.uniform(*COLLAPSE_DROP, shape)
        )
        exit_p = 0.002 + 0.06 * _sigmoid(-4.0 * (state + 1.6))
        alive = alive & ~(rng.random(shape) < exit_p)
        health.append(state)
        living.append(alive)
    base = lat.base[e][:, None]
    hazard = np.empty((n, paths, steps))
    for k in range(1, steps + 1):
        col = t + k
        season = _calendar.is_spring_festival_season(lat.months[0] + col)
        # the generator marks no exit in its last month
        exits = living[k] & ~living[k + 1] & (col < last)[:, None]
        logit = hazard_logit(
            base, health[k], health[k - 1], season[:, None].astype(float), exits
        )
        hazard[:, :, k - 1] = living[k] * _sigmoid(logit)
    return hazard, weight


def _leads(lat: Latent, e: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Log-likelihood of the signals seen by month t that lead an event,
    for each value of the events of months t+1 (axis 1) and t+2 (axis 2)."""
    n = e.size
    h = lat.h.astype(np.float64)
    ev = lat.event
    before = np.maximum(t - 1, 0)
    two_before = np.maximum(t - 2, 0)
    e1 = np.array([0.0, 1.0])[None, :, None]
    e2 = np.array([0.0, 1.0])[None, None, :]
    out = np.zeros((n, 2, 2))

    def complaints(at: np.ndarray, events: np.ndarray) -> np.ndarray:
        lam0 = 0.004 + 0.12 * _sigmoid(-2.5 - 2.2 * h[e, at]) + 0.8 * ev[e, at]
        lam = lam0[:, None, None] + events
        count = lat.complaints[e, at].astype(np.float64)[:, None, None]
        return np.asarray(count * np.log(lam) - lam)

    out += complaints(t, 0.9 * e1 + 0.6 * e2)
    seen_before = (t >= 1) & lat.alive[e, before]
    earlier = complaints(before, 0.9 * ev[e, t][:, None, None] + 0.6 * e1 + 0 * e2)
    out += np.where(seen_before[:, None, None], earlier, 0.0)
    p_gap = _sigmoid(-2.9 - 2.8 * h[e, before][:, None, None] + 1.1 * e1)
    out += np.log(np.where(lat.gap[e, t][:, None, None], p_gap, 1 - p_gap))
    season = _calendar.is_spring_festival_season(lat.months[t]).astype(float)
    p_short = _sigmoid(
        -3.6
        - 2.6 * h[e, two_before][:, None, None]
        + 1.8 * e1
        + 0.5 * season[:, None, None]
    )
    out += np.log(np.where(lat.short[e, t][:, None, None], p_short, 1 - p_short))
    out += _delay_loglik(lat.delay[e, t], h[e, before], e1 + 0 * e2)
    return out


def _delay_loglik(
    delay: np.ndarray, h_before: np.ndarray, e1: np.ndarray
) -> np.ndarray:
    """Log-likelihood of the pay delay (days) given the next month's event:
    ``max(0, round(Exp(1.5) + 14 * stress + 25 * event + N(0, 2)))``."""
    shift = 14 * np.clip(-h_before - 0.2, 0, 3)[:, None, None] + 25 * e1
    d = np.nan_to_num(delay.astype(np.float64), nan=0.0)[:, None, None]
    dist = stats.exponnorm(0.75, scale=2.0)  # N(0, 2) + Exp(mean 1.5)
    upper = dist.cdf(d + 0.5 - shift)
    lower = np.where(d > 0, dist.cdf(d - 0.5 - shift), 0.0)
    lik = np.maximum(upper - lower, 1e-300)
    return np.where(np.isnan(delay)[:, None, None], 0.0, np.log(lik))
