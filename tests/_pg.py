"""PostgreSQL for tests: a fresh database per test, or a visible skip.

Set ``ANXIN_TEST_POSTGRES_URL`` (e.g. ``postgresql://postgres@127.0.0.1:5432/test``)
to run the PostgreSQL tests; with ``ANXIN_REQUIRE_POSTGRES=1`` a missing URL
fails them instead of skipping (for CI). Each test gets its own database
``anxin_test_<hex>``, created through the server's ``postgres`` database and
dropped afterwards, so tests never see each other's rows.

``tests/conftest.py`` loads this module as a plugin (``pytest_plugins``), so
``pg_url`` is available to every test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

PG_URL_ENV = "ANXIN_TEST_POSTGRES_URL"
REQUIRE_ENV = "ANXIN_REQUIRE_POSTGRES"


def postgres_base_url() -> str:
    """The configured server URL, or skip (fail when PostgreSQL is required)."""
    url = os.environ.get(PG_URL_ENV, "").strip()
    if not url:
        reason = (
            f"PostgreSQL tests need {PG_URL_ENV} "
            "(e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    base = sa.engine.make_url(postgres_base_url())
    name = f"anxin_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        base.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
