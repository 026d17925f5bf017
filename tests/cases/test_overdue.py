"""Tests for anxin.cases.overdue: overdue cases and their escalation."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from anxin.cases import CaseStore

from .helpers import T0, drive, make_scores


def test_overdue_escalates_once_per_stage_breach(
    url: str, enterprises: pd.DataFrame
) -> None:
    with CaseStore(url) as store:
        scores = make_scores(enterprises, ["red", "yellow", "red"])
        red, yellow, done = store.open_from_scores(scores, now=T0).opened_ids
        drive(store, done, "closed")
        assert store.overdue(T0 + dt.timedelta(hours=3)).empty

        late = T0 + dt.timedelta(hours=5)  # red dispatch was due at 13:00
        first = store.overdue(late)
        assert first["id"].tolist() == [red]
        rec = first.iloc[0]
        assert (rec["stage"], rec["escalations"], bool(rec["newly_escalated"])) == (
            "dispatch",
            1,
            True,
        )
        assert rec["hours_overdue"] == pytest.approx(1.0)
        case = store.get(red)
        assert (case.escalations, case.version, case.overdue_stage) == (
            1,
            2,
            "dispatch",
        )
        trail = store.history(red)
        assert trail["action"].tolist() == ["opened", "overdue_escalated"]
        assert trail.iloc[-1]["details"]["stage"] == "dispatch"

        second = store.overdue(late + dt.timedelta(hours=1))  # idempotent
        assert second["id"].tolist() == [red]
        assert not second["newly_escalated"].any()
        assert store.get(red).version == 2
        assert len(store.history(red)) == 2

        # Dispatched late: the verify clock breaches separately.
        store.move(red, "dispatched", by="派单员", now=late)
        # Red's verify was due Monday 14:00, yellow's dispatch Tuesday 09:00.
        tuesday = dt.datetime(2026, 6, 9, 15, 0)
        third = store.overdue(tuesday)
        assert set(third["id"]) == {red, yellow}
        assert third.set_index("id").loc[red, "stage"] == "verify"
        assert third["newly_escalated"].all()
        assert store.get(red).escalations == 2
        # The most overdue comes first.
        assert third["hours_overdue"].is_monotonic_decreasing
