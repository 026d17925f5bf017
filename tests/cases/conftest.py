"""Fixtures of the case tests (``tests/conftest.py`` applies too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import anxin
from anxin.cases import CaseStore


@pytest.fixture(scope="module")
def enterprises() -> pd.DataFrame:
    ents = anxin.synth(n_enterprises=50, n_months=6, seed=1).tables.enterprises
    return ents.reset_index(drop=True)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    with CaseStore(f"sqlite:///{tmp_path}/cases.db") as s:
        yield s


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL: an SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/cases.db"
    return str(request.getfixturevalue("pg_url"))
