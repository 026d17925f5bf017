"""Tests for anxin.cases.limits: the same rules on SQLite and PostgreSQL.

Each hostile value runs on both databases (the ``url`` fixture) and must end
the same way: refused in Python with anxin's message before the database is
touched, the store unchanged. Values at the limits are stored and read back
alike on both.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pandas as pd
import pytest

from anxin.cases import CaseStore, Deadline, Routing, RoutingRule, limits
from anxin.exceptions import ContractError, InvalidParameterError

from .helpers import FIGURES, T0, assert_unchanged, drive, make_scores, snapshot

LONG = "张" * (limits.MAX_NAME_LENGTH + 1)
NOT_UTF8 = "inspector\udcff"  # how Python hands over argv bytes that are not UTF-8

#: name -> (move arguments, text the message must hold)
HOSTILE_MOVES: dict[str, tuple[dict[str, Any], str]] = {
    "actor over 200 characters": ({"by": LONG}, "more than 200"),
    "actor with NUL": ({"by": "李\x00四"}, "a NUL byte at position 1"),
    "actor with escape sequence": ({"by": "李\x1b[2J"}, "U+001B"),
    "actor with a line break": ({"by": "李\n四"}, "U+000A"),
    "actor not UTF-8": ({"by": NOT_UTF8}, "the byte 0xFF at position 9 is not UTF-8"),
    "actor with bidi override": ({"by": "李\u202e四"}, "bidirectional control"),
    "empty actor": ({"by": ""}, "non-empty name"),
    "NUL in note": ({"note": "ok\x00"}, "a NUL byte at position 2"),
    "bell in note": ({"note": "ok\x07"}, "U+0007"),
    "note too long": ({"note": "x" * 10_001}, "more than 10000"),
    "note not text": ({"note": 5}, "'note' parameter of move"),
    "workers over 32 bits": (
        {"to": "confirmed", "workers_affected": 3_000_000_000},
        "'workers_affected' parameter of move to 'confirmed' must be an int in "
        "[1, 2147483647]",
    ),
    "workers zero": ({"to": "confirmed", "workers_affected": 0}, "[1, 2147483647]"),
    "workers as float": ({"to": "confirmed", "workers_affected": 3.0}, "an int"),
    "amount infinite": ({"to": "confirmed", "amount_owed": math.inf}, "<= 1e+13"),
    "amount NaN": ({"to": "confirmed", "amount_owed": math.nan}, "<= 1e+13"),
    "amount huge": ({"to": "confirmed", "amount_owed": 1e14}, "'amount_owed'"),
    "amount negative": ({"to": "confirmed", "amount_owed": -5.0}, "a number > 0"),
    "version over 32 bits": ({"expected_version": 2**31}, "'expected_version'"),
    "now in year 9999": ({"now": "9999-12-31 23:00"}, "before 2100-01-01"),
    "now aware in year 9999": (
        {"now": dt.datetime(9999, 12, 31, 23, tzinfo=dt.UTC)},
        "before 2100-01-01",
    ),
    "now before 1970": ({"now": dt.datetime(1, 1, 1)}, "from 1970-01-01"),
    "now garbage": ({"now": "next tuesday"}, "an ISO datetime"),
    "now NaT": ({"now": pd.NaT}, "a datetime"),
}


@pytest.mark.parametrize("name", list(HOSTILE_MOVES))
def test_hostile_moves_are_refused_alike_on_both_databases(
    url: str, enterprises: pd.DataFrame, name: str
) -> None:
    given, message = HOSTILE_MOVES[name]
    with CaseStore(url) as store:
        case_id = store.open_from_scores(
            make_scores(enterprises, ["red"]), now=T0
        ).opened_ids[0]
        drive(store, case_id, "verifying")
        before = snapshot(store)
        move: dict[str, Any] = {
            "to": "false_alarm",
            "by": "核查员",
            "now": T0 + dt.timedelta(days=1),
            **given,
        }
        if move["to"] == "confirmed":
            move = {**FIGURES, **move}
        with pytest.raises(InvalidParameterError) as info:
            store.move(case_id, **move)
        assert message in str(info.value)
        assert "Got" in str(info.value)
        assert len(str(info.value)) < 600  # a long value is cut in the message
        assert_unchanged(store, before)


@pytest.mark.parametrize("case_id", [0, -5, 2**31, 10**23, 1e23, True, "1"], ids=repr)
def test_case_ids_outside_the_column_are_refused(url: str, case_id: Any) -> None:
    with CaseStore(url) as store:
        for call in (
            lambda: store.get(case_id),
            lambda: store.history(case_id),
            lambda: store.verify(case_id),
            lambda: store.move(case_id, "dispatched", by="x"),
        ):
            with pytest.raises(InvalidParameterError, match="'case_id' parameter"):
                call()


def test_values_at_the_limits_are_kept_alike(
    url: str, enterprises: pd.DataFrame
) -> None:
    actor = "张" * limits.MAX_NAME_LENGTH
    note = "第一行\n\t第二行\r\n" + "x" * (limits.MAX_NOTE_LENGTH - 10)
    with CaseStore(url) as store:
        case_id = store.open_from_scores(
            make_scores(enterprises, ["red"]), now=T0, by=actor
        ).opened_ids[0]
        drive(store, case_id, "verifying")
        case = store.move(
            case_id,
            "confirmed",
            by=actor,
            note=note,
            now=dt.datetime(2099, 12, 31, 23, 59),
            workers_affected=limits.MAX_INTEGER,
            amount_owed=limits.MAX_AMOUNT_OWED,
        )
        assert (case.workers_affected, case.amount_owed) == (
            limits.MAX_INTEGER,
            limits.MAX_AMOUNT_OWED,
        )
        last = store.history(case_id).iloc[-1]
        assert (last["actor"], last["note"]) == (actor, note)
        assert store.verify().intact


def test_unit_filter_is_checked_like_a_name(url: str) -> None:
    with CaseStore(url) as store:
        for unit in (LONG, "住建局\x00", ""):
            with pytest.raises(InvalidParameterError, match="'unit' parameter"):
                store.list(unit=unit)
        assert store.list(unit="住建局").empty


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("model_name", "m" * 201, "more than 200"),
        ("model_version", "1\x00", "a NUL byte"),
        ("enterprise_id", "9" * 33, "more than 32"),
        ("region", "330502\n", "U+000A"),
        ("industry", "E\x1b", "U+001B"),
    ],
)
def test_scores_text_that_does_not_fit_is_refused_alike(
    url: str, enterprises: pd.DataFrame, column: str, value: str, message: str
) -> None:
    scores = make_scores(enterprises, ["red", "orange"])
    scores[column] = scores[column].astype(object)
    scores.loc[1, column] = value
    with CaseStore(url) as store:
        before = snapshot(store)
        with pytest.raises(ContractError, match=re.escape(message)) as info:
            store.open_from_scores(scores, now=T0)
        assert info.value.column == column
        assert "at index 1" in str(info.value)
        assert_unchanged(store, before)


def test_text_below_min_level_is_not_held_against_the_scores(
    url: str, enterprises: pd.DataFrame
) -> None:
    scores = make_scores(enterprises, ["red", "none"])
    scores["model_name"] = scores["model_name"].astype(object)
    scores.loc[1, "model_name"] = "m" * 300  # never stored
    with CaseStore(url) as store:
        assert store.open_from_scores(scores, now=T0).opened == 1


def test_routing_names_must_fit_their_columns() -> None:
    with pytest.raises(InvalidParameterError, match="'unit' parameter of RoutingRule"):
        RoutingRule(unit=LONG)
    with pytest.raises(InvalidParameterError, match="'default_unit'"):
        Routing(default_unit="")
    with pytest.raises(InvalidParameterError, match="'grids' parameter"):
        Routing(grids={"330502": "网格\x00"})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hours": math.inf},
        {"hours": -1},
        {"hours": limits.MAX_DEADLINE_HOURS + 1},
        {"working_days": 10**9},
        {"working_days": 1.5},
    ],
    ids=repr,
)
def test_deadlines_stay_within_what_dates_can_hold(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError, match="parameter of Deadline"):
        Deadline(**kwargs)


def test_the_longest_deadline_from_the_latest_time_does_not_overflow() -> None:
    longest = Deadline(
        hours=limits.MAX_DEADLINE_HOURS,
        working_days=limits.MAX_DEADLINE_WORKING_DAYS,
    )
    due = longest.due(limits.LATEST_TIME - dt.timedelta(seconds=1))
    assert due.year < 2110


def test_text_problem_names_what_is_wrong() -> None:
    assert limits.text_problem("ok", max_length=2) == ""
    assert limits.text_problem("o\u0085k", max_length=9) == (
        "the control character U+0085 at position 1"
    )
    assert limits.text_problem("tab\there", max_length=9, multiline=True) == ""
    assert "U+0009" in limits.text_problem("tab\there", max_length=9)
    assert "lone surrogate" in limits.text_problem("\ud800", max_length=9)
