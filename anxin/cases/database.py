"""The case store's database connection: one engine per store URL.

Any SQLAlchemy database works: an SQLite file by default
(``ANXIN_CASES_URL``), PostgreSQL in production (through psycopg 3).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

__all__ = ["make_engine"]


def _dumps(obj: Any) -> str:
    # Chinese text stays text in JSON columns, not \u escapes.
    return json.dumps(obj, ensure_ascii=False)


def make_engine(url: str) -> Engine:
    """Create the SQLAlchemy engine for a case-store URL.

    ``postgresql://`` (and ``postgres://``) URLs use psycopg 3. SQLite files
    get their parent directory created, a 30 s busy timeout, foreign keys on,
    and transactions that start with ``BEGIN IMMEDIATE``: writers take the
    database lock when their transaction begins, so DDL is transactional and a
    read-then-write in one transaction cannot interleave with another writer.
    ``sqlite://`` (in memory) shares one connection so the schema survives.

    Examples
    --------
    >>> make_engine("postgresql://u@localhost:1/db").dialect.driver
    'psycopg'
    """
    parsed = sa.engine.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, json_serializer=_dumps, pool_pre_ping=True)

    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    kwargs: dict[str, Any] = {"json_serializer": _dumps}
    if in_memory:
        kwargs["poolclass"] = sa.pool.StaticPool
        kwargs["connect_args"] = {"check_same_thread": False}
    else:
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    engine = sa.create_engine(parsed, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions
        # begin (pysqlite would otherwise autocommit DDL).
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
