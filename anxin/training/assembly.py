"""The model bundle: booster, calibrator, levels, spec and drift reference.

What :func:`anxin.train` registers is an :class:`~anxin.model.ArrearsModel`;
its spec records how it was trained, and its drift reference holds the
validation months' distributions, which scoring compares new months with.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

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
        },
    )
    # drift reference: the validation months, the newest rows before test,
    # whose windows are as full as those of the months that will be scored
    reference = drift_reference(valid.x, prep, valid_score, seed)
    return ArrearsModel(booster, calibrator, policy, spec, reference)


def drift_reference(
    x: pd.DataFrame,
    prep: Prepared,
    score: np.ndarray,
    seed: int,
    max_rows: int = 50_000,
) -> Reference:
    """Distributions of the numeric features of ``x`` (a seeded sample of at
    most ``max_rows`` rows) and of ``score`` as ``risk_score``.

    Calendar features are left out: they move every month by design.
    """
    sample = x
    if len(sample) > max_rows:
        sample = sample.sample(n=max_rows, random_state=seed)
    cols = {  # calendar features move every month by design: not drift
        f: sample[f].to_numpy(dtype=np.float64, na_value=np.nan)
        for f in prep.features
        if f not in prep.categorical and prep.catalogue[f].group != "calendar"
    }
    cols["risk_score"] = score
    return Reference.fit(cols)
