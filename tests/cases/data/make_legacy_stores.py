"""How the frozen legacy case stores in this directory were made.

The ``store-<step>.<dialect>.sql`` files are dumps of case stores built by the
code released before ``anxin/cases/`` existed (commit d431333, when the schema
lived in ``anxin/_case_migrations.py`` and the store in ``anxin/cases.py``).
``tests/cases/test_legacy_upgrade.py`` loads them and opens them with the
current code, so the upgrade path from a real old store stays tested after the
old modules are gone. ``expected-<step>.json`` holds what the old code read
back from each store after opening it (and so applying its own migrations):
``list()``, ``history()`` and ``outcomes()`` (``expected-0001.json`` for
both the 0001 and the 0002 store, which hold the same cases).

* ``0001``: the first schema, one confirmed and one closed false alarm
  written as the 0001-era code wrote them (the outcome only in the history);
* ``0002``: the ``0001`` store upgraded by the old code to
  ``0002_outcomes_and_escalation`` (outcomes backfilled);
* ``0003``: a store at the old code's latest schema, filled through its
  ``CaseStore``: opened, escalated, moved along both endings, overdue.

To make them again, check out that commit and run this file from the
repository root with PostgreSQL reachable (``ANXIN_TEST_POSTGRES_URL``)::

    git worktree add /tmp/anxin-old d431333
    cp tests/cases/data/make_legacy_stores.py /tmp/anxin-old/
    cd /tmp/anxin-old && python make_legacy_stores.py OUT_DIR

It does not run against the current code (its imports are the old modules):
the files it wrote are the test data, this is their provenance. PostgreSQL
dumps come from ``pg_dump --inserts --no-owner --no-privileges`` with the
``\\restrict`` lines of recent pg_dump releases (psql meta-commands) removed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

T0 = dt.datetime(2026, 6, 5, 9, 0)  # a Friday
ENTERPRISES = [
    ("91330502MA2B3C4D01", "E", "330502"),
    ("91330502MA2B3C4D02", "C", "330502"),
    ("91330502MA2B3C4D03", "C", "330521"),
    ("91330502MA2B3C4D04", "G", "330502"),
    ("91330502MA2B3C4D05", "E", "330521"),
    ("91330502MA2B3C4D06", "K", "330502"),
]
SCORE_OF = {"red": 0.91, "orange": 0.62, "yellow": 0.35, "none": 0.04}


def _records(frame: Any) -> list[dict[str, Any]]:
    """A frame as JSON-able records (datetimes as ISO text, NaN as None)."""
    import pandas as pd

    out = []
    for rec in frame.astype(object).to_dict("records"):
        row = {}
        for key, value in rec.items():
            if isinstance(value, dict):
                row[key] = value
            elif value is None or (not isinstance(value, list) and pd.isna(value)):
                row[key] = None
            elif isinstance(value, dt.datetime):
                row[key] = value.isoformat(sep=" ")
            elif hasattr(value, "item"):
                row[key] = value.item()
            else:
                row[key] = value
        out.append(row)
    return out


def _scores(levels: list[str], as_of: str, version: str = "1") -> Any:
    import pandas as pd

    rows = ENTERPRISES[: len(levels)]
    reason = {
        "group": "payroll",
        "contribution": 0.42,
        "feature": "pay_delay_days_3m",
        "value": 17.0,
        "text_zh": "近三个月工资平均延迟17天",
        "text_en": "wages paid 17 days late on average",
    }
    return pd.DataFrame(
        {
            "enterprise_id": [r[0] for r in rows],
            "as_of": as_of,
            "risk_score": [SCORE_OF[lv] for lv in levels],
            "risk_level": levels,
            "rank": list(range(1, len(levels) + 1)),
            "model_name": "anxin-arrears",
            "model_version": version,
            "industry": [r[1] for r in rows],
            "region": [r[2] for r in rows],
            "reasons": [[reason], *([[]] * (len(levels) - 1))],
        }
    )


def fill_0001(url: str) -> None:
    """The 0001 schema with two verified cases, as the 0001-era code left them."""
    import sqlalchemy as sa

    from anxin import _case_migrations as migrations

    engine = migrations.make_engine(url)
    migrations.upgrade(engine, target="0001_initial")
    meta = sa.MetaData()
    cases = sa.Table("cases", meta, autoload_with=engine)
    history = sa.Table("case_history", meta, autoload_with=engine)
    stories = [
        (
            ENTERPRISES[0],
            "orange",
            "confirmed",
            [
                (None, "new", {}),
                ("new", "dispatched", {}),
                ("dispatched", "verifying", {}),
                (
                    "verifying",
                    "confirmed",
                    {"workers_affected": 7, "amount_owed": 51000.0},
                ),
            ],
        ),
        (
            ENTERPRISES[1],
            "red",
            "closed",
            [
                (None, "new", {}),
                ("new", "dispatched", {}),
                ("dispatched", "verifying", {}),
                ("verifying", "false_alarm", {}),
                ("false_alarm", "closed", {}),
            ],
        ),
    ]
    with engine.begin() as conn:
        for (eid, industry, region), level, status, steps in stories:
            end = T0 + dt.timedelta(hours=len(steps))
            case_id = conn.execute(
                sa.insert(cases).returning(cases.c.id),
                {
                    "enterprise_id": eid,
                    "as_of": "2026-05",
                    "level": level,
                    "score": SCORE_OF[level],
                    "reasons": [{"feature": "pay_delay", "text_zh": "工资延迟"}],
                    "model_name": "anxin-arrears",
                    "model_version": "1",
                    "industry": industry,
                    "region": region,
                    "unit": "人社劳动监察大队",
                    "grid": region,
                    "status": status,
                    "stage_started_at": end,
                    "due_at": None if status == "closed" else end + dt.timedelta(7),
                    "version": len(steps),
                    "created_at": T0,
                    "updated_at": end,
                    "updated_by": "老王",
                },
            ).scalar_one()
            for seq, (src, dst, details) in enumerate(steps, start=1):
                conn.execute(
                    sa.insert(history),
                    {
                        "case_id": case_id,
                        "seq": seq,
                        "at": T0 + dt.timedelta(hours=seq),
                        "actor": "老王",
                        "action": "opened" if src is None else "transition",
                        "from_state": src,
                        "to_state": dst,
                        "note": "",
                        "details": details,
                    },
                )
    engine.dispose()


def upgrade_to(url: str, target: str) -> None:
    from anxin import _case_migrations as migrations

    engine = migrations.make_engine(url)
    migrations.upgrade(engine, target=target)
    engine.dispose()


def fill_0003(url: str) -> None:
    """A store at the latest old schema, filled through the old CaseStore."""
    from anxin.cases import CaseStore

    with CaseStore(url) as store:
        ids = store.open_from_scores(
            _scores(["red", "red", "orange", "orange", "yellow", "yellow"], "2026-06"),
            now=T0,
        ).opened_ids
        at = T0
        for to, figures in [
            ("dispatched", {}),
            ("verifying", {}),
            ("confirmed", {"workers_affected": 12, "amount_owed": 96000.0}),
            ("handling", {}),
            ("resolved", {"workers_affected": 13, "amount_owed": 99000.0}),
            ("closed", {}),
        ]:
            at += dt.timedelta(hours=2)
            store.move(ids[0], to, by="核查员李", note=f"{to} 备注", now=at, **figures)
        for to in ("dispatched", "verifying", "false_alarm"):
            at += dt.timedelta(hours=1)
            store.move(ids[1], to, by="派单员王", now=at)
        store.move(ids[2], "dispatched", by="派单员王", now=at)
        store.open_from_scores(
            _scores(["red", "red", "orange", "red", "yellow"], "2026-07", "2"),
            now=T0 + dt.timedelta(days=1),
            actor="scoring-job",
        )
        store.overdue(T0 + dt.timedelta(days=10), actor="督办系统")


def read_back(url: str) -> dict[str, Any]:
    """What the old code reads from the store (after its own upgrade)."""
    from anxin.cases import CaseStore

    with CaseStore(url) as store:
        return {
            "list": _records(store.list()),
            "history": _records(store.history()),
            "outcomes": _records(store.outcomes()),
        }


def dump_sqlite(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return "\n".join(conn.iterdump()) + "\n"
    finally:
        conn.close()


def dump_postgres(url: str) -> str:
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    out = subprocess.run(
        [
            "pg_dump",
            "--inserts",
            "--no-owner",
            "--no-privileges",
            "--no-comments",
            "-h",
            str(parsed.host),
            "-p",
            str(parsed.port or 5432),
            "-U",
            str(parsed.username),
            str(parsed.database),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "".join(
        line for line in out.splitlines(keepends=True) if not line.startswith("\\")
    )


def main(out_dir: Path) -> None:
    import sqlalchemy as sa

    base = sa.engine.make_url(os.environ["ANXIN_TEST_POSTGRES_URL"])
    admin = sa.create_engine(
        base.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    made: dict[str, dict[str, str]] = {}
    try:
        for dialect in ("sqlite", "postgres"):
            if dialect == "sqlite":
                paths = {s: out_dir / f"tmp-{s}.db" for s in ("a", "b")}
                for p in paths.values():
                    p.unlink(missing_ok=True)
                urls = {s: f"sqlite:///{p}" for s, p in paths.items()}
            else:
                urls = {}
                for s in ("a", "b"):
                    name = f"anxin_legacy_{uuid.uuid4().hex[:10]}"
                    with admin.connect() as conn:
                        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
                    urls[s] = base.set(database=name).render_as_string(False)

            def dump(url: str, dialect: str = dialect) -> str:
                if dialect == "sqlite":
                    return dump_sqlite(Path(url.removeprefix("sqlite:///")))
                return dump_postgres(url)

            fill_0001(urls["a"])
            made.setdefault("0001", {})[dialect] = dump(urls["a"])
            upgrade_to(urls["a"], "0002_outcomes_and_escalation")
            made.setdefault("0002", {})[dialect] = dump(urls["a"])
            fill_0003(urls["b"])
            made.setdefault("0003", {})[dialect] = dump(urls["b"])
            # the 0001 and 0002 stores hold the same cases: one expectation
            for step, url in (("0001", urls["a"]), ("0003", urls["b"])):
                made.setdefault(f"expected-{step}", {})[dialect] = json.dumps(
                    read_back(url), ensure_ascii=False, indent=1, sort_keys=True
                )
            if dialect == "postgres":
                for url in urls.values():
                    name = sa.engine.make_url(url).database
                    with admin.connect() as conn:
                        conn.exec_driver_sql(
                            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
                        )
            else:
                for p in paths.values():
                    p.unlink()
    finally:
        admin.dispose()
    for step in ("0001", "0002", "0003"):
        for dialect in ("sqlite", "postgres"):
            (out_dir / f"store-{step}.{dialect}.sql").write_text(
                made[step][dialect], encoding="utf-8"
            )
    for step in ("0001", "0003"):
        a, b = made[f"expected-{step}"]["sqlite"], made[f"expected-{step}"]["postgres"]
        assert a == b, f"{step}: SQLite and PostgreSQL read back differently"
        (out_dir / f"expected-{step}.json").write_text(a + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
