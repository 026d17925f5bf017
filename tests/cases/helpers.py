"""Shared helpers of the case tests: scores frames, driving cases, snapshots."""

from __future__ import annotations

import datetime as dt
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from anxin.cases import TRANSITIONS, Case, CaseStore

#: A Friday morning; deadlines below are computed by hand from it.
T0 = dt.datetime(2026, 6, 5, 9, 0)
FIGURES = {"workers_affected": 12, "amount_owed": 96_000.0}
SCORE_OF = {"red": 0.91, "orange": 0.62, "yellow": 0.35, "none": 0.04}


def _shortest_paths() -> dict[str, list[str]]:
    paths = {"new": ["new"]}
    queue = deque(["new"])
    while queue:
        state = queue.popleft()
        for nxt in TRANSITIONS[state]:
            if nxt not in paths:
                paths[nxt] = [*paths[state], nxt]
                queue.append(nxt)
    return paths


#: State -> states visited from ``new`` to reach it.
PATHS = _shortest_paths()


def make_scores(
    ents: pd.DataFrame,
    levels: list[str],
    *,
    as_of: str = "2026-06",
    model_version: str = "1",
    reasons: list[Any] | None = None,
) -> pd.DataFrame:
    """A scores frame for the first ``len(levels)`` rows of ``ents``."""
    rows = ents.iloc[: len(levels)]
    frame = pd.DataFrame(
        {
            "enterprise_id": rows["enterprise_id"].to_numpy(),
            "as_of": as_of,
            "risk_score": [SCORE_OF[lv] for lv in levels],
            "risk_level": levels,
            "rank": np.arange(1, len(levels) + 1),
            "model_name": "anxin-arrears",
            "model_version": model_version,
            "industry": rows["industry"].to_numpy(),
            "region": rows["region"].to_numpy(),
        }
    )
    if reasons is not None:
        frame["reasons"] = reasons
    return frame


def open_one(
    store: CaseStore, ents: pd.DataFrame, level: str = "red", **kw: Any
) -> int:
    result = store.open_from_scores(make_scores(ents, [level]), now=T0, **kw)
    assert result.opened == 1
    return result.opened_ids[0]


def drive(store: CaseStore, case_id: int, state: str, now: dt.datetime = T0) -> Case:
    """Move a new case along the shortest legal path to ``state``."""
    case = store.get(case_id)
    for step, nxt in enumerate(PATHS[state][1:], start=1):
        figures = FIGURES if nxt == "confirmed" else {}
        case = store.move(
            case_id, nxt, by="tester", now=now + dt.timedelta(hours=step), **figures
        )
    return case


def snapshot(store: CaseStore) -> tuple[pd.DataFrame, pd.DataFrame]:
    return store.list(), store.history()


def assert_unchanged(
    store: CaseStore, before: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    after = snapshot(store)
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])


def verified_world(store: CaseStore, enterprises: pd.DataFrame) -> list[int]:
    """Six cases: red confirmed x2, red false alarm, orange confirmed, orange
    false alarm, yellow still verifying."""
    levels = ["red", "red", "red", "orange", "orange", "yellow"]
    ids = list(
        store.open_from_scores(make_scores(enterprises, levels), now=T0).opened_ids
    )
    verified_at = dt.datetime(2026, 6, 9, 10, 0)
    for case_id, ending in zip(
        ids,
        ["confirmed", "confirmed", "false_alarm", "confirmed", "false_alarm", None],
        strict=True,
    ):
        drive(store, case_id, "verifying")
        if ending == "confirmed":
            store.move(case_id, ending, by="核查员", now=verified_at, **FIGURES)
        elif ending == "false_alarm":
            store.move(case_id, ending, by="核查员", now=verified_at)
    return ids


def schema_of(engine: sa.Engine) -> dict[str, Any]:
    """Tables, columns, keys, indexes and triggers as the database itself
    reports them.

    Columns and keys come from SQLAlchemy's reflection; indexes (with the
    ``WHERE`` of partial ones), triggers and (PostgreSQL) functions as the
    database's catalogue prints them.
    """
    inspector = sa.inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        out[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c["default"])
                for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
        }
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND sql IS NOT NULL"
            ).all()
            cases_sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'cases'"
            ).scalar()
            out["autoincrement"] = "AUTOINCREMENT" in (cases_sql or "")
            triggers = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            ).all()
        else:
            rows = conn.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema()"
            ).all()
            triggers = conn.exec_driver_sql(
                "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = current_schema() "
                "UNION ALL "
                "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = current_schema()"
            ).all()
    out["indexes"] = sorted((name, " ".join(sql.split())) for name, sql in rows)
    out["triggers"] = sorted((name, " ".join(sql.split())) for name, sql in triggers)
    return out


def wipe(url: str) -> None:
    """Remove every table of the store at ``url`` (an empty database again)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(str(parsed.database)).unlink()
        return
    engine = sa.create_engine(parsed.set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
