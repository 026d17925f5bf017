"""Helpers of the training tests: a bureau's own frames of each cadence."""

from __future__ import annotations

import numpy as np
import pandas as pd


def own_frame(
    periods: list[str] | None, *, firms: int = 600, seed: int = 0
) -> pd.DataFrame:
    """A bureau's own frame: ``firm``, ``fyear`` (``periods``, or none for a
    snapshot), ``bankrupt`` (about 6% positives), a bureau score and features
    with names LightGBM refuses; risk follows ``debt [k]`` and the sector."""
    rng = np.random.default_rng(seed)
    rows = []
    for period in periods or [None]:
        debt = rng.normal(size=firms)
        sector = rng.choice(["a", "b", "c"], firms)
        logit = -3.3 + 1.4 * debt + 0.8 * (sector == "a")
        frame = pd.DataFrame(
            {
                "firm": [f"f{i:04d}" for i in range(firms)],
                "debt [k]": debt,
                'ratio: "quick"': rng.normal(size=firms),
                "sector": sector,
                "bureau_score": debt + rng.normal(0, 1.0, firms),
                "bankrupt": (rng.random(firms) < 1 / (1 + np.exp(-logit))).astype(int),
            }
        )
        if period is not None:
            frame.insert(1, "fyear", period)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


#: Periods of each cadence for :func:`own_frame`.
CADENCES = {
    "M": [f"{y}-{m:02d}" for y in (2022, 2023) for m in range(1, 13)],
    "Q": [f"{y}Q{q}" for y in (2021, 2022) for q in (1, 2, 3, 4)],
    "Y": [str(y) for y in range(2010, 2016)],
}
