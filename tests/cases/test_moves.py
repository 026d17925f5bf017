"""Tests for anxin.cases.moves: one checked, recorded transition."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.cases import STATES, TRANSITIONS, CaseStore
from anxin.exceptions import (
    IllegalTransitionError,
    InvalidParameterError,
    UnknownCaseError,
)

from .helpers import FIGURES, T0, assert_unchanged, drive, open_one, snapshot

PAIRS = list(itertools.product(STATES, STATES))


@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_transition(enterprises: pd.DataFrame, src: str, dst: str) -> None:
    with CaseStore("sqlite://") as store:
        case_id = open_one(store, enterprises)
        case = drive(store, case_id, src)
        assert case.status == src
        before = snapshot(store)
        figures = FIGURES if dst == "confirmed" else {}
        at = T0 + dt.timedelta(days=1)
        if dst in TRANSITIONS[src]:
            moved = store.move(
                case_id, dst, by="核查员李", note="现场核查", now=at, **figures
            )
            assert (moved.status, moved.version) == (dst, case.version + 1)
            assert (moved.updated_by, moved.updated_at) == ("核查员李", at)
            last = store.history(case_id).iloc[-1]
            assert (last["from_state"], last["to_state"], last["actor"]) == (
                src,
                dst,
                "核查员李",
            )
            assert (last["note"], last["at"], last["action"]) == (
                "现场核查",
                at,
                "transition",
            )
        else:
            with pytest.raises(IllegalTransitionError) as info:
                store.move(case_id, dst, by="核查员李", now=at, **figures)
            message = str(info.value)
            assert f"is {src!r}" in message
            assert f"cannot move to {dst!r}" in message
            for allowed in TRANSITIONS[src]:
                assert repr(allowed) in message
            if not TRANSITIONS[src]:
                assert "closed" in message
            assert info.value.allowed == TRANSITIONS[src]
            assert_unchanged(store, before)


def test_unknown_state_lists_the_valid_ones(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    case_id = open_one(store, enterprises)
    before = snapshot(store)
    with pytest.raises(IllegalTransitionError, match="Unknown state 'done'") as info:
        store.move(case_id, "done", by="x")
    for state in STATES:
        assert state in str(info.value)
    assert_unchanged(store, before)


def test_unknown_case(store: CaseStore) -> None:
    with pytest.raises(UnknownCaseError, match="No case 99"):
        store.move(99, "dispatched", by="x")
    with pytest.raises(UnknownCaseError):
        store.get(99)
    with pytest.raises(UnknownCaseError):
        store.history(99)


@pytest.mark.parametrize("actor", ["", "   ", None, 7])
def test_every_move_names_its_actor(
    store: CaseStore, enterprises: pd.DataFrame, actor: Any
) -> None:
    case_id = open_one(store, enterprises)
    before = snapshot(store)
    with pytest.raises(InvalidParameterError, match="'by' parameter of move"):
        store.move(case_id, "dispatched", by=actor)
    assert_unchanged(store, before)


@pytest.mark.parametrize(
    "figures",
    [
        {},
        {"workers_affected": 12},
        {"amount_owed": 1000.0},
        {"workers_affected": 0, "amount_owed": 1000.0},
        {"workers_affected": 3, "amount_owed": 0},
        {"workers_affected": 3, "amount_owed": -5.0},
        {"workers_affected": 3, "amount_owed": float("nan")},
        {"workers_affected": True, "amount_owed": 1000.0},
        {"workers_affected": 2.5, "amount_owed": 1000.0},
    ],
)
def test_confirming_requires_workers_and_amount(
    store: CaseStore, enterprises: pd.DataFrame, figures: dict[str, Any]
) -> None:
    case_id = open_one(store, enterprises)
    drive(store, case_id, "verifying")
    before = snapshot(store)
    with pytest.raises(InvalidParameterError, match="move to 'confirmed'"):
        store.move(case_id, "confirmed", by="核查员", **figures)
    assert_unchanged(store, before)


def test_figures_recorded_at_confirmation_and_corrected_at_resolution(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    case_id = open_one(store, enterprises)
    drive(store, case_id, "verifying")
    with pytest.raises(InvalidParameterError, match="only when moving to 'confirmed'"):
        store.move(case_id, "false_alarm", by="x", workers_affected=3)
    at = T0 + dt.timedelta(days=1)
    case = store.move(
        case_id,
        "confirmed",
        by="核查员",
        now=at,
        workers_affected=np.int64(9),
        amount_owed=8e4,
    )
    assert (
        case.outcome,
        case.verified_at,
        case.workers_affected,
        case.amount_owed,
    ) == (
        "confirmed",
        at,
        9,
        80000.0,
    )
    assert store.history(case_id).iloc[-1]["details"]["workers_affected"] == 9
    store.move(case_id, "handling", by="处置单位")
    resolved = store.move(
        case_id, "resolved", by="处置单位", workers_affected=11, amount_owed=91000
    )
    assert (resolved.workers_affected, resolved.amount_owed) == (11, 91000.0)
    closed = store.move(case_id, "closed", by="派单员", now=at + dt.timedelta(days=9))
    assert closed.closed_at == at + dt.timedelta(days=9)
    assert (closed.due_at, closed.stage, closed.is_open) == (None, None, False)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.booleans(), st.sampled_from([*STATES, "bogus"]), st.integers(0, 1)
        ),
        max_size=12,
    )
)
def test_any_sequence_of_moves_keeps_the_trail_consistent(
    moves: list[tuple[bool, str, int]],
) -> None:
    scores = pd.DataFrame(
        {
            "enterprise_id": ["91330502MA2B3C4D5E"],
            "as_of": ["2026-06"],
            "risk_score": [0.9],
            "risk_level": ["red"],
            "rank": [1],
            "model_name": ["m"],
            "model_version": ["1"],
            "industry": ["C"],
            "region": ["330502"],
        }
    )
    with CaseStore("sqlite://") as store:
        (case_id,) = store.open_from_scores(scores, now=T0).opened_ids
        succeeded = 0
        for legal, state, pick in moves:
            before = store.get(case_id)
            nexts = before.allowed_next
            to = nexts[pick % len(nexts)] if legal and nexts else state
            figures = FIGURES if to == "confirmed" else {}
            try:
                store.move(case_id, to, by="h", **figures)
            except IllegalTransitionError:
                assert to not in nexts
                assert store.get(case_id) == before
            else:
                assert to in nexts
                succeeded += 1
        case = store.get(case_id)
        history = store.history(case_id)
        assert len(history) == succeeded + 1 == case.version
        assert history["seq"].tolist() == list(range(1, len(history) + 1))
        chain = history["to_state"].tolist()
        assert chain[0] == "new"
        assert chain[-1] == case.status
        for prev, nxt in itertools.pairwise(chain):
            assert nxt in TRANSITIONS[prev]
