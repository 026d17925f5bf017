"""Tests for anxin.cases.states: the chain, stages, deadlines, working days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin.cases import (
    DEFAULT_DEADLINES,
    STAGES,
    STATES,
    TRANSITIONS,
    CaseStore,
    Deadline,
    Routing,
    add_working_days,
    migrations,
    states,
)
from anxin.exceptions import IllegalTransitionError, InvalidParameterError

from .helpers import FIGURES, PATHS, T0, make_scores, open_one


def test_the_chain_has_both_endings() -> None:
    assert PATHS["closed"] == [
        "new",
        "dispatched",
        "verifying",
        "false_alarm",
        "closed",
    ]
    assert {s for s, nexts in TRANSITIONS.items() if "closed" in nexts} == {
        "false_alarm",
        "resolved",
    }
    assert set(PATHS) == set(STATES)  # every state reachable


@given(
    st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1)),
    st.integers(0, 30),
)
def test_add_working_days_counts_weekdays_only(start: dt.datetime, days: int) -> None:
    end = add_working_days(start, days)
    assert end.time() == start.time()
    span = pd.date_range(start.date() + dt.timedelta(days=1), end.date(), freq="D")
    assert int((span.day_of_week < 5).sum()) == days
    if days:
        assert end.weekday() < 5


def test_deadlines_by_level_and_stage(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    scores = make_scores(enterprises, ["red", "orange", "yellow"])
    red, orange, yellow = (
        store.get(i) for i in store.open_from_scores(scores, now=T0).opened_ids
    )
    # Friday 09:00: red within 4 hours; orange 1, yellow 2 working days.
    assert red.due_at == dt.datetime(2026, 6, 5, 13, 0)
    assert orange.due_at == dt.datetime(2026, 6, 8, 9, 0)
    assert yellow.due_at == dt.datetime(2026, 6, 9, 9, 0)
    friday_evening = dt.datetime(2026, 6, 5, 18, 0)
    case = store.move(red.id, "dispatched", by="派单员", now=friday_evening)
    assert case.due_at == dt.datetime(2026, 6, 8, 18, 0)  # verify: 1 working day
    monday = dt.datetime(2026, 6, 8, 10, 0)
    case = store.move(red.id, "verifying", by="核查员", now=monday)
    assert case.due_at == dt.datetime(2026, 6, 8, 18, 0)  # same stage, same clock
    case = store.move(red.id, "confirmed", by="核查员", now=monday, **FIGURES)
    assert case.due_at == dt.datetime(2026, 6, 15, 10, 0)  # handle: 5 working days
    assert case.stage == "handle"
    case = store.move(red.id, "handling", by="处置单位", now=monday)
    assert case.due_at == dt.datetime(2026, 6, 15, 10, 0)
    case = store.move(red.id, "resolved", by="处置单位", now=monday)
    assert case.due_at == add_working_days(monday, 2)


def test_deadlines_can_be_overridden(tmp_path: Path, enterprises: pd.DataFrame) -> None:
    fast = {"red": {"dispatch": Deadline(hours=1)}}
    with CaseStore(f"sqlite:///{tmp_path}/c.db", deadlines=fast) as store:
        assert store.deadlines["red"]["verify"] == DEFAULT_DEADLINES["red"]["verify"]
        case = store.get(open_one(store, enterprises))
        assert case.due_at == T0 + dt.timedelta(hours=1)
    with pytest.raises(InvalidParameterError, match="'deadlines'"):
        CaseStore("sqlite://", deadlines={"purple": {"dispatch": Deadline(hours=1)}})
    with pytest.raises(InvalidParameterError, match="'deadlines'"):
        CaseStore("sqlite://", deadlines={"red": {"lunch": Deadline(hours=1)}})


def test_workflow_doc_states_the_defaults() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "workflow.md").read_text("utf-8")
    rows = {
        line.split("|")[1].split()[0]: [c.strip() for c in line.split("|")[3:6]]
        for line in doc.splitlines()
        if line.startswith("| ") and line.split("|")[1].split()[0] in STAGES
    }
    assert set(rows) == set(STAGES)
    for stage, cells in rows.items():
        expected = [
            str(DEFAULT_DEADLINES[lv][stage]) for lv in ("red", "orange", "yellow")
        ]
        assert cells == expected, stage
    for state in STATES:
        assert f"| `{state}` |" in doc
    assert Routing().route("E", "330502")[0] in doc
    assert Routing().route("C", "330502")[0] in doc
    for migration in migrations.MIGRATIONS:
        assert f"`{migration.name}`" in doc


@pytest.mark.parametrize("src", STATES)
def test_check_allowed_follows_the_transitions(src: str) -> None:
    for dst in STATES:
        if dst in TRANSITIONS[src]:
            states.check_allowed(1, src, dst)
            continue
        with pytest.raises(IllegalTransitionError, match="cannot move to") as info:
            states.check_allowed(1, src, dst)
        assert (info.value.current, info.value.requested) == (src, dst)
        assert info.value.allowed == TRANSITIONS[src]


def test_check_state_refuses_unknown_states() -> None:
    for state in STATES:
        states.check_state(state, 3)
    with pytest.raises(IllegalTransitionError, match="Unknown state 'open' for case 3"):
        states.check_state("open", 3)


def test_due_at_by_level_and_stage() -> None:
    deadlines = states.resolve_deadlines(None)
    assert states.due_at(deadlines, "red", None, T0) is None
    assert states.due_at(deadlines, "red", "dispatch", T0) == T0 + dt.timedelta(hours=4)
    assert states.due_at(deadlines, "yellow", "handle", T0) == add_working_days(T0, 15)
    assert states.STAGE_OF_STATE["closed"] is None
    assert set(states.STAGE_OF_STATE) == set(STATES)
    assert {s for s in states.STAGE_OF_STATE.values() if s} == set(STAGES)


def test_deadline_overrides_must_be_deadlines() -> None:
    with pytest.raises(InvalidParameterError, match="Deadline values"):
        states.resolve_deadlines({"red": {"dispatch": 4}})  # type: ignore[dict-item]
    assert states.resolve_deadlines(None) == DEFAULT_DEADLINES
    assert states.resolve_deadlines(None) is not DEFAULT_DEADLINES
