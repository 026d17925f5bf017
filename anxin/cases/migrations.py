"""The named migrations that build and upgrade the case store's schema.

The case store keeps its schema version in a ``schema_migrations`` table: one
row per migration applied, with its name and when it ran. Opening a
:class:`~anxin.cases.CaseStore` applies the migrations it has not seen yet,
in order, each in its own transaction (DDL is transactional on PostgreSQL
and, with the engine :func:`~anxin.cases.database.make_engine` makes, on
SQLite), so a failed upgrade leaves the database at the last complete
version.

Each migration is written with Alembic's operations (``op.create_table``,
``op.add_column``, ``op.create_index``) on a ``MigrationContext`` bound to
that transaction's connection; the bookkeeping stays in ``schema_migrations``
(no ``alembic_version`` table, no ``alembic.ini``), so stores built before
Alembic was used upgrade in place.

A migration is never edited once released: a change to the schema is a new
migration appended to :data:`MIGRATIONS`. Each migration describes the tables
as they were at that point, not through the current tables
(:mod:`anxin.cases.schema`), so that an old database upgrades the same way
whatever the current code looks like.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from alembic.operations import Operations

__all__ = [
    "APPEND_ONLY_MESSAGE",
    "MIGRATIONS",
    "SCHEMA_MIGRATIONS",
    "Migration",
    "applied_migrations",
    "upgrade",
]

logger = logging.getLogger(__name__)

#: Key for ``pg_advisory_xact_lock`` while migrating (any constant bigint).
_PG_LOCK_KEY = 0x616E78696E  # "anxin"

#: The migration history: one row per migration applied.
SCHEMA_MIGRATIONS = sa.Table(
    "schema_migrations",
    sa.MetaData(),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)


@dataclasses.dataclass(frozen=True)
class Migration:
    """A named, transactional schema change.

    Attributes
    ----------
    name : str
        ``NNNN_what_it_does``; recorded in ``schema_migrations``.
    description : str
        One line for people reading ``schema_migrations`` or the logs.
    upgrade : callable
        Receives Alembic's ``Operations`` bound to the migration's
        transaction (``op.get_bind()`` is its connection).
    """

    name: str
    description: str
    upgrade: Callable[[Operations], None]


def _m0001_initial(op: Operations) -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("enterprise_id", sa.String(32), nullable=False),
        sa.Column("as_of", sa.String(7), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=True),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(100), nullable=False),
        sa.Column("industry", sa.String(8), nullable=True),
        sa.Column("region", sa.String(16), nullable=True),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("grid", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage_started_at", sa.DateTime, nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_cases_enterprise_id", "cases", ["enterprise_id"])
    op.create_index("ix_cases_status", "cases", ["status"])
    op.create_table(
        "case_history",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=True),
    )


def _m0002_outcomes_and_escalation(op: Operations) -> None:
    """Outcome of verification, overdue escalation, closing time.

    Cases verified under 0001 kept the outcome only in their history (the
    ``confirmed`` or ``false_alarm`` transition, with the workers and amount
    in ``details``); they are backfilled from there.
    """
    op.add_column(
        "cases",
        sa.Column(
            "escalations", sa.Integer, nullable=False, server_default=sa.text("0")
        ),
    )
    for column in (
        sa.Column("overdue_stage", sa.String(16)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("verified_at", sa.DateTime),
        sa.Column("verified_level", sa.String(8)),
        sa.Column("verified_as_of", sa.String(7)),
        sa.Column("verified_model_name", sa.String(200)),
        sa.Column("verified_model_version", sa.String(100)),
        sa.Column("workers_affected", sa.Integer),
        sa.Column("amount_owed", sa.Float),
        sa.Column("closed_at", sa.DateTime),
    ):
        op.add_column("cases", column)
    _backfill_0002(op.get_bind())


def _backfill_0002(conn: Connection) -> None:
    # Core against the 0002 shape (reflected, not the current tables, which
    # may have moved on).
    meta = sa.MetaData()
    cases = sa.Table("cases", meta, autoload_with=conn)
    history = sa.Table("case_history", meta, autoload_with=conn)
    verified = conn.execute(
        sa.select(
            history.c.case_id, history.c.at, history.c.to_state, history.c.details
        )
        .where(history.c.to_state.in_(["confirmed", "false_alarm"]))
        .order_by(history.c.case_id, history.c.seq)
    ).all()
    for case_id, at, outcome, details in verified:
        if isinstance(details, str):
            details = json.loads(details)
        details = details or {}
        conn.execute(
            sa.update(cases)
            .where(cases.c.id == case_id)
            .values(
                outcome=outcome,
                verified_at=at,
                verified_level=cases.c.level,
                verified_as_of=cases.c.as_of,
                verified_model_name=cases.c.model_name,
                verified_model_version=cases.c.model_version,
                workers_affected=details.get("workers_affected"),
                amount_owed=details.get("amount_owed"),
            )
        )
    closed = conn.execute(
        sa.select(history.c.case_id, sa.func.max(history.c.at))
        .where(history.c.to_state == "closed")
        .group_by(history.c.case_id)
    ).all()
    for case_id, at in closed:
        conn.execute(sa.update(cases).where(cases.c.id == case_id).values(closed_at=at))
    if verified or closed:
        logger.info(
            "0002: backfilled %d verified and %d closed cases from history",
            len(verified),
            len(closed),
        )


def _m0003_one_open_case_per_enterprise(op: Operations) -> None:
    """At most one open case per enterprise, enforced by the database.

    Two scoring jobs opening cases at once cannot both create one: the second
    fails on this partial unique index and retries (opening is idempotent).
    """
    open_only = sa.text("status != 'closed'")
    op.create_index(
        "uq_cases_open_enterprise",
        "cases",
        ["enterprise_id"],
        unique=True,
        sqlite_where=open_only,
        postgresql_where=open_only,
    )
    op.create_index("ix_cases_due_at", "cases", ["due_at"])


#: What the append-only triggers say when they refuse a change.
APPEND_ONLY_MESSAGE = (
    "case_history is append-only: its rows cannot be updated or deleted; "
    "record a correction as a new change of the case"
)

_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER case_history_no_{verb} BEFORE {verb.upper()} ON case_history
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"""
    for verb in ("update", "delete")
]
_POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION case_history_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}';
    END
    $$""",
    """CREATE TRIGGER case_history_no_update_delete
    BEFORE UPDATE OR DELETE ON case_history
    FOR EACH ROW EXECUTE FUNCTION case_history_append_only()""",
    """CREATE TRIGGER case_history_no_truncate
    BEFORE TRUNCATE ON case_history
    FOR EACH STATEMENT EXECUTE FUNCTION case_history_append_only()""",
]


def _m0004_history_hash_chain(op: Operations) -> None:
    """A hash chain over ``case_history``; triggers refusing UPDATE/DELETE.

    Rows written before get their hashes here, case by case in ``seq`` order,
    as :mod:`anxin.cases.integrity` (scheme ``anxin-case-history-v1``) would
    have written them, so an upgraded store verifies intact. ``row_hash`` is
    then made ``NOT NULL``: code that does not chain its rows (an older
    anxin) cannot append to the history any more. On SQLite that recreates
    the table (Alembic's batch mode), so the triggers come last; a later
    migration that recreates ``case_history`` must create them again.
    """
    op.add_column("case_history", sa.Column("prev_hash", sa.String(64)))
    op.add_column("case_history", sa.Column("row_hash", sa.String(64)))
    conn = op.get_bind()
    _backfill_0004(conn)
    with op.batch_alter_table("case_history") as batch:
        batch.alter_column("row_hash", existing_type=sa.String(64), nullable=False)
    statements = {"sqlite": _SQLITE_TRIGGERS, "postgresql": _POSTGRES_TRIGGERS}
    for statement in statements[conn.dialect.name]:
        conn.exec_driver_sql(statement)


def _backfill_0004(conn: Connection) -> None:
    # Against the 0004 shape (reflected); times and JSON read as their stored
    # text, as anxin.cases.integrity.verify_history reads them.
    from anxin.cases.integrity import decoded, row_hash

    history = sa.Table("case_history", sa.MetaData(), autoload_with=conn)
    columns = [
        sa.cast(c, sa.Text).label(c.name) if c.name in ("at", "details") else c
        for c in history.columns
        if c.name not in ("prev_hash", "row_hash")
    ]
    rows = conn.execute(
        sa.select(*columns).order_by(history.c.case_id, history.c.seq)
    ).all()
    last: dict[int, str] = {}  # case -> hash of its latest row so far
    hashed = []
    for raw in rows:
        row = decoded(dict(raw._mapping))
        row["prev_hash"] = last.get(row["case_id"])
        if row.get("undecodable"):  # not written by anxin: verify will say so
            logger.warning("0004: case %s row %s unreadable", *raw[:2])
            digest = "0" * 64
        else:
            digest = row_hash(row)
        last[row["case_id"]] = digest
        hashed.append(
            {"c": row["case_id"], "s": row["seq"], "p": row["prev_hash"], "h": digest}
        )
    if hashed:
        conn.execute(
            sa.update(history)
            .where(
                history.c.case_id == sa.bindparam("c"),
                history.c.seq == sa.bindparam("s"),
            )
            .values(prev_hash=sa.bindparam("p"), row_hash=sa.bindparam("h")),
            hashed,
        )
        logger.info("0004: hashed %d history rows written before", len(hashed))


#: Every migration, in the order they apply.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "0001_initial",
        "cases and the append-only case_history",
        _m0001_initial,
    ),
    Migration(
        "0002_outcomes_and_escalation",
        "verification outcome, workers and amount, escalation count, closed_at",
        _m0002_outcomes_and_escalation,
    ),
    Migration(
        "0003_one_open_case_per_enterprise",
        "partial unique index: one open case per enterprise; due_at index",
        _m0003_one_open_case_per_enterprise,
    ),
    Migration(
        "0004_history_hash_chain",
        "hash chain over case_history (prev_hash, row_hash); append-only triggers",
        _m0004_history_hash_chain,
    ),
)


def _lock(conn: Connection) -> None:
    # SQLite: BEGIN IMMEDIATE already holds the write lock.
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})


def applied_migrations(engine: Engine) -> list[str]:
    """Names of the migrations recorded in ``schema_migrations``, in order."""
    if not sa.inspect(engine).has_table(SCHEMA_MIGRATIONS.name):
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(SCHEMA_MIGRATIONS.c.name).order_by(SCHEMA_MIGRATIONS.c.name)
        )
        return [r[0] for r in rows]


def _apply(conn: Connection, migration: Migration) -> None:
    # Alembic is imported only when there is something to migrate: opening an
    # up-to-date store stays cheap.
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    logger.info("case store: applying migration %s", migration.name)
    migration.upgrade(Operations(MigrationContext.configure(connection=conn)))
    conn.execute(
        sa.insert(SCHEMA_MIGRATIONS).values(
            name=migration.name,
            applied_at=_dt.datetime.now().replace(microsecond=0),
        )
    )


def upgrade(engine: Engine, target: str | None = None) -> list[str]:
    """Apply the migrations not yet recorded, up to and including ``target``.

    Parameters
    ----------
    engine : Engine
        The case store's engine (see :func:`~anxin.cases.database.make_engine`).
    target : str, optional
        Name of the last migration to apply; by default all of them.

    Returns
    -------
    list of str
        Names of the migrations applied by this call (empty when up to date).

    Raises
    ------
    ValueError
        If ``target`` names no migration.

    Examples
    --------
    >>> from anxin.cases.database import make_engine
    >>> engine = make_engine("sqlite://")
    >>> upgrade(engine, target="0001_initial")
    ['0001_initial']
    >>> upgrade(engine)  # doctest: +NORMALIZE_WHITESPACE
    ['0002_outcomes_and_escalation', '0003_one_open_case_per_enterprise',
     '0004_history_hash_chain']
    >>> upgrade(engine)
    []
    """
    names = [m.name for m in MIGRATIONS]
    if target is not None and target not in names:
        raise ValueError(f"Unknown migration {target!r}; migrations are {names}.")
    done: list[str] = []
    for migration in MIGRATIONS:
        with engine.begin() as conn:
            _lock(conn)
            SCHEMA_MIGRATIONS.create(conn, checkfirst=True)
            already = conn.execute(
                sa.select(SCHEMA_MIGRATIONS.c.name).where(
                    SCHEMA_MIGRATIONS.c.name == migration.name
                )
            ).first()
            if already is None:
                _apply(conn, migration)
                done.append(migration.name)
        if migration.name == target:
            break
    return done
