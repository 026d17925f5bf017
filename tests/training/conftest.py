"""Fixtures of the training tests: a quick model without MLflow, and a
bureau's own frames of each cadence."""

from __future__ import annotations

import pandas as pd
import pytest

import anxin

from .helpers import CADENCES, own_frame


@pytest.fixture(scope="session")
def quick(model_world: anxin.Tables) -> anxin.TrainResult:
    """A model on ``model_world`` with few rounds, nothing logged (seed 7)."""
    return anxin.train(model_world, seed=7, log=False, num_boost_round=60)


@pytest.fixture(scope="session")
def yearly(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[pd.DataFrame, anxin.TrainResult]:
    """A yearly frame and the model trained on it with the caller's names."""
    frame = own_frame(CADENCES["Y"])
    result = anxin.train(
        frame,
        entity="firm",
        period="fyear",
        label="bankrupt",
        baseline="bureau_score",
        log=False,
        num_boost_round=200,
    )
    return frame, result
