"""Fixtures of the training tests: one quick model trained without MLflow."""

from __future__ import annotations

import pytest

import anxin


@pytest.fixture(scope="session")
def quick(model_world: anxin.Tables) -> anxin.TrainResult:
    """A model on ``model_world`` with few rounds, nothing logged (seed 7)."""
    return anxin.train(model_world, seed=7, log=False, num_boost_round=60)
