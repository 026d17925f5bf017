"""The case store's database connection: one engine per store URL.

The store runs on SQLite (a file; the default, ``ANXIN_CASES_URL``) or
PostgreSQL (production, through psycopg 3). A URL that is not one of them is
refused as bad input (:class:`~anxin.exceptions.InvalidParameterError`, exit
code 2); a store that cannot be opened -- a server that does not answer, a
file that cannot be created -- raises :class:`StoreUnavailableError` (exit
code 1) naming the URL without its password.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from anxin.cases.limits import refuse, text_problem
from anxin.exceptions import AnxinError

__all__ = [
    "BACKENDS",
    "CONNECT_TIMEOUT",
    "StoreUnavailableError",
    "make_engine",
    "parse_url",
    "shown_url",
    "unavailable",
]

#: Databases the case store runs on (its append-only triggers are written
#: for these two).
BACKENDS: tuple[str, ...] = ("sqlite", "postgresql")
#: Seconds to wait for a PostgreSQL server before giving up.
CONNECT_TIMEOUT = 10

_URL_RULE = (
    "an SQLAlchemy URL of an SQLite file or a PostgreSQL database, such as "
    "'sqlite:///cases.db' or 'postgresql://user@host/db' (--db or "
    "ANXIN_CASES_URL)"
)


class StoreUnavailableError(AnxinError, OSError):
    """The case store cannot be opened: the database server does not answer
    or refuses the login, or the SQLite file cannot be created or is not a
    database. An environment failure: exit code 1.
    """

    exit_code = 1


def _dumps(obj: Any) -> str:
    # Chinese text stays text in JSON columns, not \u escapes.
    return json.dumps(obj, ensure_ascii=False)


def _redacted(url: str) -> str:
    """``url`` with any password replaced by ``***`` (even if unparseable)."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def shown_url(url: str | sa.URL) -> str:
    """The URL as messages show it: the password hidden.

    Examples
    --------
    >>> shown_url("postgresql://anxin:secret@db/cases")
    'postgresql://anxin:***@db/cases'
    """
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        return _redacted(str(url))


def parse_url(url: Any, name: str = "url", owner: str = "CaseStore") -> sa.URL:
    """The store URL, parsed; refused unless it names SQLite or PostgreSQL.

    Examples
    --------
    >>> parse_url("postgres://u@h/db").get_backend_name()
    'postgresql'
    >>> parse_url("notaurl://x")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'url' parameter of CaseStore must be an SQLAlchemy URL of an SQLite file or a PostgreSQL database, such as 'sqlite:///cases.db' or 'postgresql://user@host/db' (--db or ANXIN_CASES_URL). Got 'notaurl://x' (a 'notaurl' database) instead.
    """  # noqa: E501
    if not isinstance(url, str) or not url.strip():
        refuse(name, url, owner, _URL_RULE)
    text = _redacted(url)
    why = text_problem(url, max_length=2000)
    if why:
        refuse(name, text, owner, _URL_RULE, why, limit=300)
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        refuse(name, text, owner, _URL_RULE, str(exc).split("\n")[0], limit=300)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        refuse(name, text, owner, _URL_RULE, f"a {backend!r} database", limit=300)
    return parsed


def unavailable(url: str | sa.URL, exc: BaseException) -> StoreUnavailableError:
    """The error for a store at ``url`` that could not be opened (``exc``)."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    shown = shown_url(url)
    if shown.startswith("sqlite"):
        hint = (
            "Check that the path names an SQLite database file, or a new file in "
            "a directory this user can create and write (not a directory); or "
            "pass another --db"
        )
    else:
        hint = (
            "Check that the server is running and reachable and that the host, "
            "port, user, password and database are right (--db or "
            "ANXIN_CASES_URL)"
        )
    return StoreUnavailableError(
        f"Cannot open the case store {shown}: {first.rstrip('.')}. {hint}.",
        url=shown,
    )


def make_engine(url: str) -> Engine:
    """Create the SQLAlchemy engine for a case-store URL.

    ``postgresql://`` (and ``postgres://``) URLs use psycopg 3, with a
    10 s connect timeout unless the URL sets one. SQLite files
    get their parent directory created, a 30 s busy timeout, foreign keys on,
    and transactions that start with ``BEGIN IMMEDIATE``: writers take the
    database lock when their transaction begins, so DDL is transactional and a
    read-then-write in one transaction cannot interleave with another writer.
    ``sqlite://`` (in memory) shares one connection so the schema survives.

    Raises
    ------
    InvalidParameterError
        If ``url`` is not an SQLite or PostgreSQL URL (see :func:`parse_url`),
        or its driver is not installed.
    StoreUnavailableError
        If the SQLite file's directory cannot be created.

    Examples
    --------
    >>> make_engine("postgresql://u@localhost:1/db").dialect.driver
    'psycopg'
    """
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() != "sqlite":
            if "connect_timeout" not in parsed.query:
                parsed = parsed.update_query_dict(
                    {"connect_timeout": str(CONNECT_TIMEOUT)}
                )
            return sa.create_engine(parsed, json_serializer=_dumps, pool_pre_ping=True)
        return _sqlite_engine(parsed)
    except (sa.exc.NoSuchModuleError, ImportError) as exc:
        refuse(
            "url",
            shown_url(parsed),
            "CaseStore",
            _URL_RULE,
            f"its driver is not installed: {exc}",
        )
    except OSError as exc:
        raise unavailable(parsed, exc) from exc


def _sqlite_engine(parsed: sa.URL) -> Engine:
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
