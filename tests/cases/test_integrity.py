"""Tests for anxin.cases.integrity: the hash chain, verify, the triggers.

Every test runs on SQLite and PostgreSQL (the ``url`` fixture). Tampering is
done through raw SQL with the append-only triggers dropped, as someone with
write access to the database could.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from anxin.cases import CaseStore, database, integrity, migrations, schema
from anxin.cases.integrity import HistoryTamperedError, canonical, row_hash
from anxin.cli import main

from .helpers import T0, drive, make_scores

#: Statements that drop the append-only triggers, by dialect.
DROP_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER case_history_no_update",
        "DROP TRIGGER case_history_no_delete",
    ],
    "postgresql": ["DROP TRIGGER case_history_no_update_delete ON case_history"],
}


def raw(url: str, *statements: str, params: dict[str, Any] | None = None) -> None:
    """Run SQL on the store at ``url`` in one transaction, outside anxin."""
    engine = database.make_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement), params or {})
    finally:
        engine.dispose()


def drop_triggers(url: str) -> None:
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    raw(url, *DROP_TRIGGERS[dialect])


def stored_rows(store: CaseStore) -> list[dict[str, Any]]:
    """Every history row as stored, hashes included."""
    query = sa.select(schema.HISTORY).order_by(
        schema.HISTORY.c.case_id, schema.HISTORY.c.seq
    )
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def busy_world(store: CaseStore, enterprises: pd.DataFrame) -> list[int]:
    """Six cases with every kind of history row: opened, moved, escalated,
    overdue."""
    ids = list(
        store.open_from_scores(
            make_scores(enterprises, ["yellow"] * 6), now=T0
        ).opened_ids
    )
    drive(store, ids[0], "closed")
    drive(store, ids[1], "handling")
    drive(store, ids[2], "verifying")
    store.move(ids[3], "dispatched", by="派单员", note='=HYPERLINK("http://x")\n二行')
    store.open_from_scores(
        make_scores(enterprises, ["red"] * 6, as_of="2026-07"), now=T0
    )  # escalations, written in one batch
    store.overdue(T0 + dt.timedelta(days=40), by="督办系统")
    return ids


def test_each_row_is_chained_to_the_previous_row_of_its_case(
    url: str, enterprises: pd.DataFrame
) -> None:
    with CaseStore(url) as store:
        busy_world(store, enterprises)
        rows = stored_rows(store)
        report = store.verify()
    last: dict[int, str] = {}
    for row in rows:
        assert row["prev_hash"] == last.get(row["case_id"])
        assert len(row["row_hash"]) == 64
        last[row["case_id"]] = row["row_hash"]
    assert report.intact
    assert report.rows == len(rows)
    assert {c.status for c in report.cases} == {"ok"}
    assert report.problems == ()
    report.raise_if_tampered()  # nothing to raise


def test_the_hash_is_sha256_of_the_documented_encoding(
    url: str, enterprises: pd.DataFrame
) -> None:
    """Recomputed from the row as read, with nothing but json and hashlib."""
    with CaseStore(url) as store:
        busy_world(store, enterprises)
        history = store.history()
        stored = {(r["case_id"], r["seq"]): r for r in stored_rows(store)}
    for rec in history.to_dict("records"):
        key = (rec["case_id"], rec["seq"])
        fields = [
            "anxin-case-history-v1",
            rec["case_id"],
            rec["seq"],
            rec["at"].isoformat(timespec="microseconds"),
            rec["actor"],
            rec["action"],
            rec["from_state"],
            rec["to_state"],
            rec["note"],
            rec["details"],
            stored[key]["prev_hash"],
        ]
        text = json.dumps(
            fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )
        assert hashlib.sha256(text.encode()).hexdigest() == stored[key]["row_hash"]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE case_history SET note = 'rewritten' WHERE seq = 1",
        "DELETE FROM case_history WHERE seq = 2",
        "DELETE FROM case_history",
    ],
)
def test_triggers_refuse_update_and_delete(
    url: str, enterprises: pd.DataFrame, statement: str
) -> None:
    with CaseStore(url) as store:
        busy_world(store, enterprises)
        before = store.history()
    with pytest.raises(sa.exc.DBAPIError, match="case_history is append-only"):
        raw(url, statement)
    with CaseStore(url) as store:
        pd.testing.assert_frame_equal(store.history(), before)
        assert store.verify().intact


def test_postgres_refuses_truncate_too(pg_url: str, enterprises: pd.DataFrame) -> None:
    with CaseStore(pg_url) as store:
        busy_world(store, enterprises)
    with pytest.raises(sa.exc.DBAPIError, match="case_history is append-only"):
        raw(pg_url, "TRUNCATE case_history")


def _tamper_every_way(url: str, ids: list[int]) -> dict[tuple[int, int], str]:
    """Tamper with five of the six cases; return what verify must find."""
    a, b, c, d, e, _ = ids
    with CaseStore(url) as store:
        versions = {i: store.get(i).version for i in ids}
        rows = {(r["case_id"], r["seq"]): r for r in stored_rows(store)}
    drop_triggers(url)
    # d: row 2 edited and its hash recomputed: row 3 no longer follows it
    new_hash = row_hash({**rows[(d, 2)], "note": "没有派单"})
    # e: a row appended by hand, chained correctly, never recorded by the case
    forged = {
        "case_id": e,
        "seq": versions[e] + 1,
        "at": T0,
        "actor": "x",
        "action": "transition",
        "from_state": "new",
        "to_state": "closed",
        "note": "forged",
        "details": None,
        "prev_hash": rows[(e, versions[e])]["row_hash"],
    }
    raw(
        url,
        f"UPDATE case_history SET note = 'nothing found' WHERE case_id = {a} "
        "AND seq = 2",
        f"DELETE FROM case_history WHERE case_id = {b} AND seq = 2",
        f"DELETE FROM case_history WHERE case_id = {c} AND seq = {versions[c]}",
        f"UPDATE case_history SET note = '没有派单', row_hash = '{new_hash}' "
        f"WHERE case_id = {d} AND seq = 2",
        "INSERT INTO case_history (case_id, seq, at, actor, action, from_state, "
        "to_state, note, details, prev_hash, row_hash) VALUES (:case_id, :seq, "
        ":at, :actor, :action, :from_state, :to_state, :note, NULL, :prev_hash, "
        ":row_hash)",
        params={**forged, "row_hash": row_hash(forged)},
    )
    return {
        (a, 2): "edited",
        (b, 2): "deleted",
        (c, versions[c]): "deleted",
        (d, 3): "broken_link",
        (e, versions[e] + 1): "inserted",
    }


def test_verify_tells_each_kind_of_tampering_apart(
    url: str, enterprises: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    with CaseStore(url) as store:
        ids = busy_world(store, enterprises)
        intact_digest = store.verify().digest
    expected = _tamper_every_way(url, ids)
    with CaseStore(url) as store:
        report = store.verify()
        one = store.verify(ids[0])
    found = {(p.case_id, p.seq): p.kind for p in report.problems}
    assert found == expected
    assert len(report.problems) == len(expected)
    assert not report.intact
    assert report.digest != intact_digest
    status = {c.case_id: c.status for c in report.cases}
    assert status[ids[5]] == "ok"
    assert status[ids[0]] == "edited"
    assert [(p.case_id, p.seq, p.kind) for p in one.problems] == [(ids[0], 2, "edited")]
    frame = report.frame()
    assert set(frame["kind"]) == {"ok", "edited", "deleted", "broken_link", "inserted"}
    with pytest.raises(HistoryTamperedError, match=r"case \d+ row 2 edited") as info:
        report.raise_if_tampered()
    assert info.value.exit_code == integrity.TAMPERED_EXIT_CODE == 3
    capsys.readouterr()
    assert main(["cases", "verify", "--db", url]) == 3
    out = capsys.readouterr()
    assert "broken_link" in out.out
    assert "The audit trail was changed after it was written" in out.err
    assert main(["cases", "verify", "--db", url, "--json"]) == 3
    printed = json.loads(capsys.readouterr().out)
    assert printed["intact"] is False
    assert {p["kind"] for p in printed["problems"]} >= {"deleted", "broken_link"}


def test_a_deleted_case_history_is_all_reported(
    url: str, enterprises: pd.DataFrame
) -> None:
    with CaseStore(url) as store:
        ids = busy_world(store, enterprises)
        version = store.get(ids[0]).version
    drop_triggers(url)
    raw(url, f"DELETE FROM case_history WHERE case_id = {ids[0]}")
    with CaseStore(url) as store:
        report = store.verify(ids[0])
    assert [p.seq for p in report.problems] == list(range(1, version + 1))
    assert report.cases[0].status == "deleted"


def test_verify_survives_garbage_written_by_hand(tmp_path: Path) -> None:
    """SQLite stores any text in any column: verify reports it, never crashes."""
    url = f"sqlite:///{tmp_path}/cases.db"
    with CaseStore(url) as store:
        store.open_from_scores(
            make_scores(
                pd.DataFrame(
                    {
                        "enterprise_id": ["E1", "E2", "E3"],
                        "industry": ["C"] * 3,
                        "region": ["330502"] * 3,
                    }
                ),
                ["red"] * 3,
            ),
            now=T0,
        )
    drop_triggers(url)
    raw(
        url,
        "UPDATE case_history SET at = 'not a time' WHERE case_id = 1",
        "UPDATE case_history SET details = '{not json' WHERE case_id = 2",
        "UPDATE case_history SET seq = 'one' WHERE case_id = 3",
    )
    with CaseStore(url) as store:
        report = store.verify()
    kinds = {(p.case_id, p.kind) for p in report.problems}
    assert {(1, "edited"), (2, "edited"), (3, "deleted")} <= kinds


def test_migration_hashes_rows_written_before_it(url: str) -> None:
    """A store at 0003 with history gets its chain, verifies intact, and goes
    on chaining."""
    engine = database.make_engine(url)
    migrations.upgrade(engine, target="0003_one_open_case_per_enterprise")
    engine.dispose()
    ents = pd.DataFrame(
        {"enterprise_id": ["E1", "E2"], "industry": ["C", "E"], "region": ["3305"] * 2}
    )
    _write_0003_history(url, ents)
    with CaseStore(url) as store:
        assert store.migrations_applied == ["0004_history_hash_chain"]
        assert store.verify().intact
        store.move(1, "dispatched", by="派单员", now=T0)
        assert store.verify().intact
        rows = stored_rows(store)
    assert all(r["row_hash"] for r in rows)


def _write_0003_history(url: str, ents: pd.DataFrame) -> None:
    """Cases and history as the code of schema 0003 wrote them (no hashes)."""
    engine = database.make_engine(url)
    meta = sa.MetaData()
    cases = sa.Table("cases", meta, autoload_with=engine)
    history = sa.Table("case_history", meta, autoload_with=engine)
    with engine.begin() as conn:
        for i, eid in enumerate(ents["enterprise_id"], start=1):
            conn.execute(
                sa.insert(cases),
                {
                    "id": i,
                    "enterprise_id": eid,
                    "as_of": "2026-06",
                    "level": "red",
                    "score": 0.9,
                    "model_name": "m",
                    "model_version": "1",
                    "unit": "u",
                    "status": "new",
                    "stage_started_at": T0,
                    "version": 2,
                    "created_at": T0,
                    "updated_at": T0,
                    "updated_by": "system",
                },
            )
            for seq, action in ((1, "opened"), (2, "escalated")):
                conn.execute(
                    sa.insert(history),
                    {
                        "case_id": i,
                        "seq": seq,
                        "at": T0 + dt.timedelta(microseconds=seq * 1500),
                        "actor": "评分任务",
                        "action": action,
                        "from_state": None if seq == 1 else "new",
                        "to_state": "new",
                        "note": "",
                        "details": {"to_level": "red", "score": 0.1 + 0.2},
                    },
                )
    engine.dispose()


# -- real concurrent processes ------------------------------------------------

#: One worker process: moves every case along the chain to ``closed``, racing
#: the others (each move names the version it read), escalating overdue
#: cases now and then, and raising the cases' level from a scores file.
WORKER = r"""
import datetime as dt, json, pathlib, random, sys, time
import pandas as pd
from anxin.cases import TRANSITIONS, CaseStore
from anxin.exceptions import CaseConflictError, IllegalTransitionError

url, seed, ids, scores = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), \
    sys.argv[4]
rng = random.Random(seed)
t0 = dt.datetime(2026, 6, 5, 9, 0)
start = pathlib.Path(scores).parent  # all workers start together
(start / f"ready-{seed}").touch()
while not (start / "go").exists():
    time.sleep(0.01)
done = {"moved": 0, "conflicts": 0, "escalations": 0}
with CaseStore(url) as store:
    pending = list(ids)
    while pending:
        case_id = rng.choice(pending)
        case = store.get(case_id)
        if not TRANSITIONS[case.status]:
            pending.remove(case_id)
            continue
        to = TRANSITIONS[case.status][case_id % len(TRANSITIONS[case.status])]
        time.sleep(rng.random() / 200)  # others may move it meanwhile
        figures = {"workers_affected": 3, "amount_owed": 9000.0}
        figures = figures if to == "confirmed" else {}
        try:
            store.move(case_id, to, by=f"worker-{seed}", note=f"moved by {seed}",
                       now=t0 + dt.timedelta(hours=case.version),
                       expected_version=case.version, **figures)
            done["moved"] += 1
        except (CaseConflictError, IllegalTransitionError):
            done["conflicts"] += 1
        if rng.random() < 0.15:
            try:
                store.overdue(t0 + dt.timedelta(days=60), by=f"督办-{seed}")
                done["escalations"] += store.open_from_scores(
                    pd.read_parquet(scores), now=t0, by=f"scores-{seed}").escalated
            except CaseConflictError:
                done["conflicts"] += 1
print(json.dumps(done))
"""


def test_concurrent_processes_keep_the_chain_intact(
    url: str, enterprises: pd.DataFrame, tmp_path: Path
) -> None:
    n_cases, n_workers = 8, 4
    with CaseStore(url) as store:
        ids = list(
            store.open_from_scores(
                make_scores(enterprises, ["yellow"] * n_cases), now=T0
            ).opened_ids
        )
    scores = tmp_path / "scores.parquet"
    # the same month at a higher level: escalates the open cases, leaves the
    # closed ones closed
    make_scores(enterprises, ["red"] * n_cases).to_parquet(scores)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                url,
                str(seed),
                json.dumps(ids),
                str(scores),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(n_workers)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < n_workers:
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in workers), "a worker died"
        time.sleep(0.05)
    (tmp_path / "go").touch()
    results = []
    for proc in workers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
        results.append(json.loads(out.strip().splitlines()[-1]))
    moved = sum(r["moved"] for r in results)
    assert sum(r["conflicts"] for r in results) > 0  # they did race

    with CaseStore(url) as store:
        report = store.verify()
        history = store.history()
        assert set(store.list()["status"]) == {"closed"}
        versions = {i: store.get(i).version for i in ids}
    assert report.intact, report.problems
    assert report.rows == len(history) == sum(versions.values())
    assert (history["action"] == "transition").sum() == moved
    for case_id, rows in history.groupby("case_id"):
        assert rows["seq"].tolist() == list(range(1, versions[int(case_id)] + 1))

    drop_triggers(url)
    victim = ids[3]
    raw(
        url,
        "UPDATE case_history SET actor = '另一个人' WHERE case_id = :c AND seq = 3",
        params={"c": victim},
    )
    with CaseStore(url) as store:
        report = store.verify()
    assert [(p.case_id, p.seq, p.kind) for p in report.problems] == [
        (victim, 3, "edited")
    ]


def test_canonical_bytes_do_not_depend_on_key_order() -> None:
    row = {
        "case_id": 1,
        "seq": 2,
        "at": dt.datetime(2026, 6, 5, 9, 0, 0, 5),
        "actor": "李",
        "action": "transition",
        "from_state": "new",
        "to_state": "dispatched",
        "note": "",
        "details": {"b": [1, {"y": 2, "x": 1}], "a": None},
        "prev_hash": "0" * 64,
    }
    shuffled = {k: row[k] for k in reversed(list(row))}
    shuffled["details"] = {"a": None, "b": [1, {"x": 1, "y": 2}]}
    assert canonical(row) == canonical(shuffled)
    assert b'"2026-06-05T09:00:00.000005"' in canonical(row)
    assert row_hash(row) != row_hash({**row, "note": " "})
