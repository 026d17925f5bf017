"""Shared fixtures: a tiny seeded world, temporary stores, PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

import anxin
from anxin.config import config_context

matplotlib.use("Agg")

pytest_plugins = ["_pg"]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own ANXIN_HOME (MLflow store, case db) and a fixed
    'today' so that the synthetic world's months are never in the future."""
    monkeypatch.setenv("ANXIN_HOME", str(tmp_path / ".anxin"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("ANXIN_CASES_URL", raising=False)
    monkeypatch.setenv("ANXIN_TODAY", "2026-11")


@pytest.fixture(scope="session")
def world() -> anxin.SyntheticWorld:
    """A small world: 400 enterprises over 30 months, clean."""
    with config_context(today="2026-11"):
        return anxin.synth(n_enterprises=400, n_months=30, seed=11)


@pytest.fixture(scope="session")
def tables(world: anxin.SyntheticWorld) -> anxin.Tables:
    """The small world's tables after validation."""
    with config_context(today="2026-11"):
        report = anxin.validate(world.tables)
    assert report.n_quarantined == 0
    return report.tables


@pytest.fixture(scope="session")
def model_world() -> anxin.Tables:
    """A world big enough to train a model that finds signal (validated)."""
    with config_context(today="2026-11"):
        world = anxin.synth(n_enterprises=3000, n_months=36, seed=5)
        return anxin.validate(world.tables).tables


@pytest.fixture
def tracking_uri(tmp_path: Path) -> str:
    """A fresh SQLite MLflow store under tmp_path."""
    return f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("ANXIN_TEST_POSTGRES_URL")
    return f"anxin {anxin.__version__}; PostgreSQL tests: {url or 'skipped (unset)'}"


@pytest.fixture(scope="session")
def trained(
    model_world: anxin.Tables, tmp_path_factory: pytest.TempPathFactory
) -> tuple[anxin.TrainResult, str]:
    """One model trained on ``model_world`` and registered in a session store.

    Returns the result and the store's tracking URI.
    """
    home = tmp_path_factory.mktemp("trained")
    uri = f"sqlite:///{(home / 'mlflow.db').as_posix()}"
    with config_context(home=str(home), today="2026-11"):
        result = anxin.train(model_world, tracking_uri=uri, seed=3)
    return result, uri


@pytest.fixture(scope="session")
def two_models(model_world: anxin.Tables) -> dict[str, anxin.TrainResult]:
    """A strong and a weak model of ``model_world``, nothing logged.

    The weak one sees only the calendar and the region; registering both
    (``_registry.register_version``) gives promotion and comparison a
    champion and a challenger whose difference is known in sign.
    """
    feats = anxin.build_features(model_world)
    labels = anxin.build_labels(model_world)
    weak_frame = feats[["enterprise_id", "period", "month_of_year", "region"]].assign(
        label=labels["label"]
    )
    return {
        "strong": anxin.train(model_world, log=False, seed=2, num_boost_round=150),
        "weak": anxin.train(weak_frame, log=False, seed=2, num_boost_round=30),
    }
