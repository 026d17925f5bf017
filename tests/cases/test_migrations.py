"""Tests for anxin.cases.migrations: the named migrations on Alembic."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from anxin.cases import CaseStore, database, migrations, schema

from .helpers import T0, schema_of, wipe

NAMES = [m.name for m in migrations.MIGRATIONS]


def test_migrations_are_recorded_and_build_the_current_schema(url: str) -> None:
    with CaseStore(url) as store:
        names = [m.name for m in migrations.MIGRATIONS]
        assert store.migrations_applied == names
        assert migrations.applied_migrations(store.engine) == names
        inspector = sa.inspect(store.engine)
        for table in (schema.CASES, schema.HISTORY):
            found = {c["name"] for c in inspector.get_columns(table.name)}
            assert found == {c.name for c in table.columns}, table.name
        assert "uq_cases_open_enterprise" in {
            ix["name"] for ix in inspector.get_indexes("cases")
        }
    with CaseStore(url) as again:
        assert again.migrations_applied == []


def test_upgrade_from_first_schema_keeps_old_cases(url: str) -> None:
    engine = database.make_engine(url)
    assert migrations.upgrade(engine, target="0001_initial") == ["0001_initial"]
    assert migrations.applied_migrations(engine) == ["0001_initial"]
    meta = sa.MetaData()
    cases = sa.Table("cases", meta, autoload_with=engine)
    history = sa.Table("case_history", meta, autoload_with=engine)
    assert "outcome" not in cases.c
    assert "escalations" not in cases.c
    t = T0
    with engine.begin() as conn:
        case_id = conn.execute(
            sa.insert(cases).returning(cases.c.id),
            {
                "enterprise_id": "91330502MA2B3C4D5E",
                "as_of": "2026-05",
                "level": "orange",
                "score": 0.6,
                "reasons": [{"feature": "pay_delay", "text_zh": "工资延迟"}],
                "model_name": "anxin-arrears",
                "model_version": "1",
                "industry": "C",
                "region": "330502",
                "unit": "人社劳动监察大队",
                "grid": "330502",
                "status": "confirmed",
                "stage_started_at": t,
                "due_at": t + dt.timedelta(days=7),
                "version": 4,
                "created_at": t,
                "updated_at": t,
                "updated_by": "老王",
            },
        ).scalar_one()
        steps = [
            (None, "new", {}),
            ("new", "dispatched", {}),
            ("dispatched", "verifying", {}),
            ("verifying", "confirmed", {"workers_affected": 7, "amount_owed": 51000.0}),
        ]
        for seq, (src, dst, details) in enumerate(steps, start=1):
            conn.execute(
                sa.insert(history),
                {
                    "case_id": case_id,
                    "seq": seq,
                    "at": t + dt.timedelta(hours=seq),
                    "actor": "老王",
                    "action": "opened" if src is None else "transition",
                    "from_state": src,
                    "to_state": dst,
                    "note": "",
                    "details": details,
                },
            )
    engine.dispose()

    with CaseStore(url) as store:
        assert store.migrations_applied == [m.name for m in migrations.MIGRATIONS[1:]]
        case = store.get(case_id)
        assert (case.enterprise_id, case.status, case.version) == (
            "91330502MA2B3C4D5E",
            "confirmed",
            4,
        )
        assert case.reasons == ({"feature": "pay_delay", "text_zh": "工资延迟"},)
        assert case.escalations == 0
        # 0002 backfilled the outcome from the 0001 history.
        assert (case.outcome, case.workers_affected, case.amount_owed) == (
            "confirmed",
            7,
            51000.0,
        )
        assert case.verified_at == t + dt.timedelta(hours=4)
        assert len(store.history(case_id)) == 4
        moved = store.move(case_id, "handling", by="处置单位", now=t + dt.timedelta(1))
        assert moved.version == 5
        assert store.outcomes()["workers_affected"].tolist() == [7]


def test_unknown_migration_target_is_refused(tmp_path: Path) -> None:
    engine = database.make_engine(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ValueError, match="Unknown migration '0009_nope'"):
        migrations.upgrade(engine, target="0009_nope")
    engine.dispose()


def test_migrations_are_named_in_order() -> None:
    assert sorted(NAMES) == NAMES
    assert len(set(NAMES)) == len(NAMES)
    for number, name in enumerate(NAMES, start=1):
        assert name.startswith(f"{number:04d}_"), name
    assert all(m.description for m in migrations.MIGRATIONS)


def test_fresh_store_has_the_current_tables_and_nothing_else(url: str) -> None:
    with CaseStore(url) as store:
        inspector = sa.inspect(store.engine)
        assert set(inspector.get_table_names()) == {
            "cases",
            "case_history",
            "schema_migrations",
        }
        for table in (schema.CASES, schema.HISTORY):
            columns = inspector.get_columns(table.name)
            assert [c["name"] for c in columns] == [c.name for c in table.columns]
            nullable = {c["name"]: c["nullable"] for c in columns}
            for column in table.columns:
                assert nullable[column.name] == column.nullable, column.name
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(migrations.SCHEMA_MIGRATIONS)).all()
        assert sorted(r.name for r in rows) == NAMES
        assert all(r.applied_at is not None for r in rows)
        # the history table is ours, not Alembic's
        assert not inspector.has_table("alembic_version")


def test_running_again_changes_nothing(url: str) -> None:
    engine = database.make_engine(url)
    try:
        assert migrations.upgrade(engine) == NAMES
        before = schema_of(engine)
        assert migrations.upgrade(engine) == []
        assert migrations.upgrade(engine, target=NAMES[0]) == []
        assert migrations.applied_migrations(engine) == NAMES
        assert schema_of(engine) == before
    finally:
        engine.dispose()


@pytest.mark.parametrize("step", NAMES[:-1])
def test_upgrade_from_each_earlier_step(url: str, step: str) -> None:
    at = NAMES.index(step) + 1
    engine = database.make_engine(url)
    try:
        assert migrations.upgrade(engine, target=step) == NAMES[:at]
        assert migrations.applied_migrations(engine) == NAMES[:at]
        assert migrations.upgrade(engine) == NAMES[at:]
        upgraded = schema_of(engine)
    finally:
        engine.dispose()
    wipe(url)
    engine = database.make_engine(url)
    try:
        migrations.upgrade(engine)
        assert upgraded == schema_of(engine)
    finally:
        engine.dispose()


def test_a_failing_migration_leaves_the_last_complete_version(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(op: Any) -> None:
        op.add_column("cases", sa.Column("half_done", sa.Integer))
        raise RuntimeError("boom")

    engine = database.make_engine(url)
    try:
        migrations.upgrade(engine)
        before = schema_of(engine)
        failing = migrations.Migration("0099_boom", "fails halfway", boom)
        monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, failing))
        with pytest.raises(RuntimeError, match="boom"):
            migrations.upgrade(engine)
        assert migrations.applied_migrations(engine) == NAMES
        assert schema_of(engine) == before  # the new column was rolled back
    finally:
        engine.dispose()
