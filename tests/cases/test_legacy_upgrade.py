"""A store made by the release before anxin.cases became a package upgrades.

``data/store-<step>.<dialect>.sql`` are dumps of stores built by that code
(hand-written DDL in ``anxin/_case_migrations.py``); ``data/expected-*.json``
is what it read back from them. See ``data/make_legacy_stores.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from anxin.cases import CaseStore, database, migrations

from .helpers import schema_of, wipe

DATA = Path(__file__).parent / "data"
NAMES = [m.name for m in migrations.MIGRATIONS]
#: Step of each dump -> the migrations it had applied.
STEPS = {"0001": NAMES[:1], "0002": NAMES[:2], "0003": NAMES[:3]}
#: Step of each dump -> what the old code read back (0001 and 0002 hold the
#: same cases: the 0002 store is the 0001 store upgraded by the old code).
EXPECTED = {"0001": "expected-0001.json", "0002": "expected-0001.json"}


def _dialect(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


def load_legacy(step: str, url: str) -> None:
    """Restore the old release's dump of ``step`` into the empty ``url``."""
    dialect = _dialect(url)
    sql = (DATA / f"store-{step}.{dialect}.sql").read_text("utf-8")
    if dialect == "sqlite":
        conn = sqlite3.connect(str(sa.engine.make_url(url).database))
        conn.executescript(sql)
        conn.close()
    else:
        with psycopg.connect(url) as pg:
            pg.execute(sql)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as the generator wrote it: JSON types, ISO datetimes."""
    out = []
    for rec in frame.astype(object).to_dict("records"):
        row = {}
        for key, value in rec.items():
            if isinstance(value, dict):
                row[key] = value
            elif value is None or pd.isna(value):
                row[key] = None
            elif isinstance(value, dt.datetime):
                row[key] = value.isoformat(sep=" ")
            elif hasattr(value, "item"):
                row[key] = value.item()
            else:
                row[key] = value
        out.append(row)
    return json.loads(json.dumps(out, ensure_ascii=False))


def expected(step: str) -> dict[str, Any]:
    name = EXPECTED.get(step, f"expected-{step}.json")
    data: dict[str, Any] = json.loads((DATA / name).read_text("utf-8"))
    return data


def test_fresh_schema_is_the_previous_release_schema(url: str) -> None:
    """The Alembic migrations build the very schema the old DDL built."""
    load_legacy("0003", url)
    engine = database.make_engine(url)  # an engine only: no migration runs
    old = schema_of(engine)
    engine.dispose()
    wipe(url)
    engine = database.make_engine(url)
    try:
        migrations.upgrade(engine, target=STEPS["0003"][-1])
        assert schema_of(engine) == old
    finally:
        engine.dispose()


@pytest.mark.parametrize("step", sorted(STEPS))
def test_store_of_the_previous_release_upgrades_in_place(url: str, step: str) -> None:
    load_legacy(step, url)
    with CaseStore(url) as store:
        assert migrations.applied_migrations(store.engine) == NAMES
        assert store.migrations_applied == NAMES[len(STEPS[step]) :]
        upgraded = schema_of(store.engine)
        want = expected(step)
        assert records(store.list()) == want["list"]
        assert records(store.history()) == want["history"]
        assert records(store.outcomes()) == want["outcomes"]
        # 0004 gave every old row its hash: the chain verifies intact
        report = store.verify()
        assert report.intact, report.problems
        assert report.rows == len(want["history"]) > 0
    with CaseStore(url) as again:
        assert again.migrations_applied == []
    wipe(url)
    with CaseStore(url) as fresh:
        assert schema_of(fresh.engine) == upgraded


@pytest.mark.parametrize("step", ["0001", "0002"])
def test_early_store_keeps_working_after_the_upgrade(url: str, step: str) -> None:
    load_legacy(step, url)
    with CaseStore(url) as store:
        case = store.get(1)
        assert (case.status, case.version, case.outcome) == (
            "confirmed",
            4,
            "confirmed",
        )
        assert (case.workers_affected, case.amount_owed) == (7, 51000.0)
        assert store.get(2).closed_at is not None  # backfilled from the history
        moved = store.move(1, "handling", by="处置单位", now="2026-06-20 09:00")
        assert moved.version == 5
        assert store.history(1)["seq"].tolist() == [1, 2, 3, 4, 5]
        opened = store.open_from_scores(_scores("91330502MA2B3C4D03"), now="2026-07-01")
        assert opened.opened_ids == (3,)  # ids go on after the old ones


def _scores(enterprise_id: str, level: str = "red", as_of: str = "2026-07") -> Any:
    return pd.DataFrame(
        {
            "enterprise_id": [enterprise_id],
            "as_of": [as_of],
            "risk_score": [0.9],
            "risk_level": [level],
            "rank": [1],
            "model_name": ["anxin-arrears"],
            "model_version": ["3"],
            "industry": ["C"],
            "region": ["330502"],
        }
    )


def test_worked_store_keeps_working_after_the_upgrade(url: str) -> None:
    load_legacy("0003", url)
    with CaseStore(url) as store:
        before = store.list().set_index("id")
        assert before["status"].to_dict() == {
            1: "closed",
            2: "false_alarm",
            3: "dispatched",
            4: "new",
            5: "new",
            6: "new",
            7: "new",
        }
        # the old code's escalations and overdue marks are honoured
        assert (
            store.overdue("2026-06-15 10:00", by="督办员")["newly_escalated"].sum() == 0
        )
        at = dt.datetime(2026, 6, 16, 9, 0)
        store.move(3, "verifying", by="核查员李", now=at)
        confirmed = store.move(
            3,
            "confirmed",
            by="核查员李",
            now=at,
            workers_affected=4,
            amount_owed=20000.0,
            expected_version=4,
        )
        assert (confirmed.version, confirmed.stage) == (5, "handle")
        closed = store.move(2, "closed", by="派单员王", now=at)
        assert closed.closed_at == at
        # a later warning for the enterprise of the closed case 2 opens case 8
        eid = before.loc[2, "enterprise_id"]
        opened = store.open_from_scores(_scores(eid, as_of="2026-08"), now=at)
        assert opened.opened_ids == (8,)
        # a higher level raises the open orange case 3 (now confirmed)
        raised = store.open_from_scores(
            _scores(before.loc[3, "enterprise_id"], as_of="2026-08"), now=at
        )
        assert raised.escalated_ids == (3,)
        history = store.history()
        for case_id, rows in history.groupby("case_id"):
            assert rows["seq"].tolist() == list(range(1, len(rows) + 1))
            assert store.get(int(case_id)).version == len(rows)
        outcomes = store.outcomes().set_index("case_id")
        assert outcomes.loc[3, "level"] == "orange"  # as verified
        assert outcomes.loc[1, "workers_affected"] == 13  # corrected at resolved
        # old rows (hashed by the migration) and new ones form one chain
        assert store.verify().intact


def test_upgraded_store_is_append_only_and_shows_tampering(url: str) -> None:
    load_legacy("0003", url)
    CaseStore(url).close()
    engine = database.make_engine(url)
    try:
        with (
            pytest.raises(sa.exc.DBAPIError, match="append-only"),
            engine.begin() as conn,
        ):
            conn.exec_driver_sql("DELETE FROM case_history WHERE case_id = 1")
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("DROP TRIGGER case_history_no_update")
            else:
                conn.exec_driver_sql(
                    "DROP TRIGGER case_history_no_update_delete ON case_history"
                )
            conn.exec_driver_sql(
                "UPDATE case_history SET actor = '无名氏' WHERE case_id = 1 AND seq = 1"
            )
    finally:
        engine.dispose()
    with CaseStore(url) as store:
        problems = store.verify().problems
    assert [(p.case_id, p.seq, p.kind) for p in problems] == [(1, 1, "edited")]
