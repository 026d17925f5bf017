"""Tests for anxin.cases.opening: opening and escalating cases from scores."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pandas as pd
import pytest

from anxin.cases import CaseStore, add_working_days
from anxin.exceptions import CaseConflictError, InvalidParameterError

from .helpers import (
    SCORE_OF,
    T0,
    assert_unchanged,
    drive,
    make_scores,
    open_one,
    snapshot,
)


def test_open_creates_one_case_per_flagged_enterprise(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    levels = ["red", "orange", "yellow", "none", "yellow", "none"]
    scores = make_scores(enterprises, levels)
    result = store.open_from_scores(scores, now=T0)
    assert (result.opened, result.escalated, result.unchanged) == (4, 0, 0)
    assert result.below_min_level == 2
    frame = store.list()
    assert len(frame) == 4
    flagged = scores[scores["risk_level"] != "none"]
    # Case ids follow the ranking.
    assert frame["enterprise_id"].tolist() == flagged["enterprise_id"].tolist()
    by_eid = frame.set_index("enterprise_id")
    for rec in flagged.itertuples():
        row = by_eid.loc[rec.enterprise_id]
        assert row["level"] == rec.risk_level
        assert row["score"] == pytest.approx(rec.risk_score)
        assert (row["industry"], row["region"], row["as_of"]) == (
            rec.industry,
            rec.region,
            "2026-06",
        )
        assert (row["model_name"], row["model_version"]) == ("anxin-arrears", "1")
        assert (row["status"], row["version"], row["escalations"]) == ("new", 1, 0)
        assert row["updated_by"] == "system"
    history = store.history()
    assert history["action"].tolist() == ["opened"] * 4
    assert history["to_state"].tolist() == ["new"] * 4
    assert history["from_state"].isna().all()
    assert sorted(result.case_ids) == sorted(frame["id"].tolist())


@pytest.mark.parametrize(
    ("min_level", "expected"),
    [
        ("yellow", {"red", "orange", "yellow"}),
        ("orange", {"red", "orange"}),
        ("red", {"red"}),
    ],
)
def test_min_level(
    store: CaseStore, enterprises: pd.DataFrame, min_level: str, expected: set[str]
) -> None:
    scores = make_scores(enterprises, ["red", "orange", "yellow", "none"])
    result = store.open_from_scores(scores, min_level=min_level, now=T0)
    assert set(store.list()["level"]) == expected
    assert result.below_min_level == 4 - len(expected)


def test_min_level_none_is_refused(store: CaseStore, enterprises: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError, match="'min_level' parameter"):
        store.open_from_scores(make_scores(enterprises, ["red"]), min_level="none")


def test_reopening_the_same_scores_is_a_no_op(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    scores = make_scores(enterprises, ["red", "orange", "yellow", "none"])
    store.open_from_scores(scores, now=T0)
    before = snapshot(store)
    again = store.open_from_scores(scores, now=T0 + dt.timedelta(days=1))
    assert (again.opened, again.escalated, again.unchanged) == (0, 0, 3)
    assert again.case_ids == ()
    assert_unchanged(store, before)


def test_rising_level_escalates_instead_of_duplicating(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    first = make_scores(enterprises, ["yellow", "orange"], as_of="2026-05")
    opened = store.open_from_scores(first, now=T0)
    yellow_id = opened.opened_ids[0]
    assert store.get(yellow_id).due_at == T0 + dt.timedelta(days=4)  # 2 working days
    later = T0 + dt.timedelta(days=3)
    second = make_scores(
        enterprises, ["red", "yellow"], as_of="2026-06", model_version="2"
    )
    second["reasons"] = [[{"feature": "tax_arrears", "text_en": "tax arrears"}], []]
    result = store.open_from_scores(second, now=later)
    assert (result.opened, result.escalated, result.unchanged) == (0, 1, 1)
    assert result.escalated_ids == (yellow_id,)
    assert len(store.list()) == 2
    case = store.get(yellow_id)
    assert (case.level, case.as_of, case.model_version) == ("red", "2026-06", "2")
    assert case.score == pytest.approx(SCORE_OF["red"])
    assert case.reasons == ({"feature": "tax_arrears", "text_en": "tax arrears"},)
    assert (case.status, case.version) == ("new", 2)
    # The dispatch clock keeps its start; the tighter red deadline applies.
    assert case.due_at == T0 + dt.timedelta(hours=4)
    last = store.history(yellow_id).iloc[-1]
    assert (last["action"], last["seq"], last["at"]) == ("escalated", 2, later)
    assert last["details"]["from_level"] == "yellow"
    assert last["details"]["to_level"] == "red"
    # The orange case saw a lower level: untouched.
    other = store.get(opened.opened_ids[1])
    assert (other.level, other.version, other.as_of) == ("orange", 1, "2026-05")


def test_escalation_of_a_dispatched_case_keeps_its_stage(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    case_id = open_one(store, enterprises, "yellow")
    dispatched = store.move(case_id, "dispatched", by="派单员", now=T0)
    assert dispatched.due_at == add_working_days(T0, 5)
    store.open_from_scores(
        make_scores(enterprises, ["orange"], as_of="2026-07"), now=T0
    )
    case = store.get(case_id)
    assert (case.status, case.level) == ("dispatched", "orange")
    assert case.due_at == add_working_days(T0, 3)
    assert store.history(case_id)["action"].tolist() == [
        "opened",
        "transition",
        "escalated",
    ]


def test_stale_higher_score_does_not_escalate(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    case_id = open_one(store, enterprises, "yellow")  # as_of 2026-06
    old = make_scores(enterprises, ["red"], as_of="2026-04")
    result = store.open_from_scores(old, now=T0)
    assert (result.escalated, result.unchanged) == (0, 1)
    assert store.get(case_id).level == "yellow"


def test_several_months_in_one_frame(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    frame = pd.concat(
        [
            make_scores(enterprises, ["red"], as_of="2026-06"),
            make_scores(enterprises, ["yellow"], as_of="2026-04"),
            make_scores(enterprises, ["orange"], as_of="2026-05"),
        ]
    )
    result = store.open_from_scores(frame, now=T0)
    assert (result.opened, result.escalated, result.unchanged) == (1, 2, 0)
    case = store.get(result.opened_ids[0])
    assert (case.level, case.as_of, case.version) == ("red", "2026-06", 3)
    history = store.history(case.id)
    assert history["action"].tolist() == ["opened", "escalated", "escalated"]
    assert history["seq"].tolist() == [1, 2, 3]


def test_closed_case_is_not_reopened_for_the_same_warning(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    scores = make_scores(enterprises, ["red"])
    case_id = open_one(store, enterprises)
    drive(store, case_id, "closed")
    again = store.open_from_scores(scores, now=T0 + dt.timedelta(days=5))
    assert (again.opened, again.unchanged) == (0, 1)
    nxt = store.open_from_scores(
        make_scores(enterprises, ["orange"], as_of="2026-07"), now=T0 + dt.timedelta(30)
    )
    assert nxt.opened == 1
    assert nxt.opened_ids[0] != case_id
    assert store.list()["status"].tolist() == ["closed", "new"]


def test_concurrent_opening_never_duplicates_cases(
    url: str, enterprises: pd.DataFrame
) -> None:
    scores = make_scores(enterprises, ["red", "orange", "yellow"] * 4)
    stores = [CaseStore(url) for _ in range(3)]
    barrier = threading.Barrier(len(stores))
    results: list[Any] = []

    def work(s: CaseStore) -> None:
        barrier.wait()
        try:
            results.append(s.open_from_scores(scores, now=T0))
        except CaseConflictError as exc:  # lost the race: nothing written
            results.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for s in stores:
        s.close()
    opened = [r.opened for r in results if not isinstance(r, Exception)]
    assert sorted(opened)[-1] == 12
    assert sum(opened) == 12
    with CaseStore(url) as store:
        frame = store.list()
        assert len(frame) == 12
        assert frame["enterprise_id"].is_unique
        assert len(store.history()) == 12
