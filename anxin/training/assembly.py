"""The model bundle: booster, calibrator, levels, spec and drift reference.

What :func:`anxin.train` registers is an :class:`~anxin.model.ArrearsModel`;
its spec records how it was trained, and its drift reference holds the
training and validation months' distributions (overall and per calendar
month), which scoring compares new months with.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from anxin import _calendar
from anxin._grid import LOOKBACK
from anxin._version import __version__
from anxin.calibration import Calibrator
from anxin.drift import Reference
from anxin.levels import LevelPolicy
from anxin.model import ArrearsModel, ModelSpec
from anxin.training.preparation import Prepared
from anxin.training.splits import SplitRows, Splits

__all__ = ["assemble_model", "drift_reference"]


def assemble_model(
    booster: lgb.Booster,
    calibrator: Calibrator,
    policy: LevelPolicy,
    prep: Prepared,
    *,
    valid: SplitRows,
    valid_score: np.ndarray,
    splits: Splits,
    horizon: int,
    best_iteration: int,
    refit: bool,
    seed: int,
) -> ArrearsModel:
    """The model, its spec (features, levels, catalogue, how it was trained)
    and its drift reference (the validation rows)."""
    frame = prep.frame
    spec = ModelSpec(
        features=prep.features,
        categorical=prep.categorical,
        catalogue=prep.catalogue,
        horizon=horizon,
        info={
            "anxin_version": __version__,
            "trained_at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
            "data_window": [str(frame["period"].min()), str(frame["period"].max())],
            "splits": splits.to_dict(),
            "best_iteration": best_iteration,
            "refit": refit,
            "seed": seed,
            "source": prep.source,
            # the caller's names and cadence: predict and explain read them
            "columns": dict(prep.columns),
            "freq": prep.freq,
            "nonfinite": dict(prep.nonfinite),
        },
    )
    model = ArrearsModel(booster, calibrator, policy, spec, Reference({}, {}))
    regions = (
        valid.x["region"].astype("str").to_numpy() if "region" in valid.x else None
    )
    alerts = float(np.mean(policy.assign(valid_score, regions) != "none"))
    model.reference = drift_reference(model, prep, seed=seed, alert_share=alerts)
    return model


def drift_reference(
    model: ArrearsModel,
    prep: Prepared,
    *,
    seed: int,
    alert_share: float | None = None,
    per_month: int = 20_000,
) -> Reference:
    """Distributions of the numeric features and of the risk score on the
    labelled months, overall and per calendar month.

    Only months whose 12-month windows are full count (the first year of the
    data has short windows, unlike any month that will be scored); each
    calendar month is a seeded sample of at most ``per_month`` rows, so that
    every calendar month the history has can be compared with itself.
    Calendar features are left out: they move every month by design. Data
    of another cadence (or a snapshot) have one overall reference.
    """
    frame = prep.frame
    if prep.freq == "M":
        index = _calendar.series_to_index(frame["period"].astype("str"))
        index = index.astype(np.int64)
        use = index >= index.min() + LOOKBACK
        if not use.any():  # too short a history for full windows: take all
            use = np.ones(len(frame), dtype=bool)
        calendar_month = (index[use] % 12) + 1
    else:
        use = np.ones(len(frame), dtype=bool)
        calendar_month = np.zeros(len(frame), dtype=np.int64)
    rows = frame.loc[use]
    # one sample of a year's worth when there are no calendar months
    size = per_month if prep.freq == "M" else 12 * per_month
    keep = _sample_per_month(calendar_month, size, seed)
    sample = rows.iloc[keep]
    cols = {
        f: sample[f].to_numpy(dtype=np.float64, na_value=np.nan)
        for f in prep.features
        if f not in prep.categorical and prep.catalogue[f].group != "calendar"
    }
    cols["risk_score"] = model.predict_proba(sample)
    months = calendar_month[keep] if prep.freq == "M" else None
    return Reference.fit(cols, months=months, alert_share=alert_share)


def _sample_per_month(months: np.ndarray, per_month: int, seed: int) -> np.ndarray:
    """Positions of a seeded sample of at most ``per_month`` rows per month."""
    rng = np.random.default_rng(seed)
    out = []
    for m in np.unique(months):
        where = np.flatnonzero(months == m)
        if where.size > per_month:
            where = np.sort(rng.choice(where, size=per_month, replace=False))
        out.append(where)
    return np.sort(np.concatenate(out)) if out else np.zeros(0, dtype=np.int64)
