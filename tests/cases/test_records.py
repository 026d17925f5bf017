"""Tests for anxin.cases.records: snapshots and optimistic locking."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from anxin.cases import Case, CaseStore
from anxin.cases.history import append_row
from anxin.exceptions import CaseConflictError, CaseError, IllegalTransitionError

from .helpers import T0, assert_unchanged, open_one, snapshot


def test_case_snapshot_is_frozen(store: CaseStore, enterprises: pd.DataFrame) -> None:
    case = store.get(open_one(store, enterprises))
    with pytest.raises(AttributeError):
        case.status = "closed"  # type: ignore[misc]
    assert json.dumps(list(case.reasons)) == "[]"


def test_stale_expected_version_conflicts(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    case_id = open_one(store, enterprises)
    seen = store.get(case_id)
    at = dt.datetime(2026, 6, 5, 9, 30)
    store.move(
        case_id, "dispatched", by="派单员王", now=at, expected_version=seen.version
    )
    before = snapshot(store)
    with pytest.raises(CaseConflictError) as info:
        store.move(case_id, "verifying", by="核查员李", expected_version=seen.version)
    assert str(info.value) == (
        f"case {case_id} was changed by 派单员王 at 2026-06-05 09:30:00 since you read "
        "it (version 1, now 2); reload and retry."
    )
    assert (info.value.expected_version, info.value.current_version) == (1, 2)
    assert_unchanged(store, before)


def _race(url: str, case_id: int, actors: list[str], **move: Any) -> list[Any]:
    """Each actor moves the case at once, from its own thread and engine."""
    stores = [CaseStore(url) for _ in actors]
    barrier = threading.Barrier(len(actors))
    results: list[Any] = [None] * len(actors)

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = stores[i].move(case_id, by=actors[i], note=actors[i], **move)
        except CaseError as exc:
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(actors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for s in stores:
        s.close()
    return results


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_inspectors_exactly_one_wins(
    url: str, enterprises: pd.DataFrame, round_: int
) -> None:
    with CaseStore(url) as store:
        case_id = open_one(store, enterprises)
        read = store.get(case_id)
        actors = ["核查员甲", "核查员乙"]
        results = _race(
            url, case_id, actors, to="dispatched", expected_version=read.version
        )
        winners = [r for r in results if isinstance(r, Case)]
        losers = [r for r in results if isinstance(r, Exception)]
        assert len(winners) == 1
        assert len(losers) == 1
        assert isinstance(losers[0], CaseConflictError)
        winner = winners[0].updated_by
        assert f"changed by {winner}" in str(losers[0])
        history = store.history(case_id)
        transitions = history[history["action"] == "transition"]
        assert transitions["actor"].tolist() == [winner]
        assert transitions["note"].tolist() == [winner]
        case = store.get(case_id)
        assert (case.version, case.status, case.updated_by) == (2, "dispatched", winner)
        assert len(history) == case.version


def test_concurrent_moves_without_expected_version_never_both_write(
    url: str, enterprises: pd.DataFrame
) -> None:
    with CaseStore(url) as store:
        case_id = open_one(store, enterprises)
        results = _race(url, case_id, ["甲", "乙", "丙"], to="dispatched")
        winners = [r for r in results if isinstance(r, Case)]
        assert len(winners) == 1
        # Losers either saw the winner's write (illegal now) or lost the race
        # to update (conflict): never a second write.
        for r in results:
            assert isinstance(r, Case | CaseConflictError | IllegalTransitionError)
        history = store.history(case_id)
        assert (history["action"] == "transition").sum() == 1
        assert store.get(case_id).version == 2


@pytest.mark.postgres
def test_postgres_read_then_update_conflicts_with_inflight_writer(
    pg_url: str, enterprises: pd.DataFrame
) -> None:
    """A writer commits between our read and our update: we conflict, not overwrite."""
    with CaseStore(pg_url) as store:
        case_id = open_one(store, enterprises)
    other = sa.create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    )
    watcher = other.execution_options(isolation_level="AUTOCOMMIT")
    conn = other.connect()
    tx = conn.begin()
    conn.execute(
        sa.text(
            "UPDATE cases SET status = 'dispatched', version = 2, "
            "updated_by = '派单员张', updated_at = :t WHERE id = :id AND version = 1"
        ),
        {"t": T0, "id": case_id},
    )
    append_row(
        conn,
        case_id,
        2,
        at=T0,
        by="派单员张",
        action="transition",
        from_state="new",
        to_state="dispatched",
    )
    outcome: list[Any] = []
    second = CaseStore(pg_url)

    def work() -> None:
        try:
            outcome.append(second.move(case_id, "dispatched", by="派单员李"))
        except CaseError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    with watcher.connect() as w:  # wait until our UPDATE waits on the row lock
        for _ in range(200):
            waiting = w.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                    "current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waiting:
                break
            time.sleep(0.05)
    assert waiting, "the second writer never blocked on the row lock"
    tx.commit()
    conn.close()
    thread.join(timeout=30)
    second.close()
    other.dispose()
    assert len(outcome) == 1
    assert isinstance(outcome[0], CaseConflictError)
    assert "changed by 派单员张" in str(outcome[0])
    assert "(version 1, now 2)" in str(outcome[0])
    with CaseStore(pg_url) as store:
        history = store.history(case_id)
        assert history["actor"].tolist() == ["system", "派单员张"]
        assert store.get(case_id).updated_by == "派单员张"
