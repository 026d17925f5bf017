"""Tests for anxin.cases: the handling chain."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

import anxin
from anxin import _case_migrations as migrations
from anxin.cases import (
    DEFAULT_DEADLINES,
    STAGES,
    STATES,
    TRANSITIONS,
    Case,
    CaseStore,
    Deadline,
    Routing,
    RoutingRule,
    add_working_days,
    log_field_performance,
    merge_outcomes,
    read_history,
)
from anxin.config import config_context
from anxin.exceptions import (
    CaseConflictError,
    CaseError,
    ContractError,
    IllegalTransitionError,
    InvalidParameterError,
    UnknownCaseError,
)
from anxin.schemas import Events
from anxin.tables import Tables

#: A Friday morning; deadlines below are computed by hand from it.
T0 = dt.datetime(2026, 6, 5, 9, 0)
FIGURES = {"workers_affected": 12, "amount_owed": 96_000.0}
SCORE_OF = {"red": 0.91, "orange": 0.62, "yellow": 0.35, "none": 0.04}


def _shortest_paths() -> dict[str, list[str]]:
    paths = {"new": ["new"]}
    queue = deque(["new"])
    while queue:
        state = queue.popleft()
        for nxt in TRANSITIONS[state]:
            if nxt not in paths:
                paths[nxt] = [*paths[state], nxt]
                queue.append(nxt)
    return paths


#: State -> states visited from ``new`` to reach it.
PATHS = _shortest_paths()


@pytest.fixture(scope="module")
def enterprises() -> pd.DataFrame:
    ents = anxin.synth(n_enterprises=50, n_months=6, seed=1).tables.enterprises
    return ents.reset_index(drop=True)


def make_scores(
    ents: pd.DataFrame,
    levels: list[str],
    *,
    as_of: str = "2026-06",
    model_version: str = "1",
    reasons: list[Any] | None = None,
) -> pd.DataFrame:
    """A scores frame for the first ``len(levels)`` rows of ``ents``."""
    rows = ents.iloc[: len(levels)]
    frame = pd.DataFrame(
        {
            "enterprise_id": rows["enterprise_id"].to_numpy(),
            "as_of": as_of,
            "risk_score": [SCORE_OF[lv] for lv in levels],
            "risk_level": levels,
            "rank": np.arange(1, len(levels) + 1),
            "model_name": "anxin-arrears",
            "model_version": model_version,
            "industry": rows["industry"].to_numpy(),
            "region": rows["region"].to_numpy(),
        }
    )
    if reasons is not None:
        frame["reasons"] = reasons
    return frame


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with CaseStore(f"sqlite:///{tmp_path}/cases.db") as s:
        yield s


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL: an SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/cases.db"
    return str(request.getfixturevalue("pg_url"))


def open_one(
    store: CaseStore, ents: pd.DataFrame, level: str = "red", **kw: Any
) -> int:
    result = store.open_from_scores(make_scores(ents, [level]), now=T0, **kw)
    assert result.opened == 1
    return result.opened_ids[0]


def drive(store: CaseStore, case_id: int, state: str, now: dt.datetime = T0) -> Case:
    """Move a new case along the shortest legal path to ``state``."""
    case = store.get(case_id)
    for step, nxt in enumerate(PATHS[state][1:], start=1):
        figures = FIGURES if nxt == "confirmed" else {}
        case = store.move(
            case_id, nxt, by="tester", now=now + dt.timedelta(hours=step), **figures
        )
    return case


def snapshot(store: CaseStore) -> tuple[pd.DataFrame, pd.DataFrame]:
    return store.list(), store.history()


def assert_unchanged(
    store: CaseStore, before: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    after = snapshot(store)
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])


# --------------------------------------------------------------------------
# Store, URL and migrations
# --------------------------------------------------------------------------


def test_default_url_is_sqlite_file_under_anxin_home(tmp_path: Path) -> None:
    home = tmp_path / "deep" / "home"
    with config_context(home=home), CaseStore() as store:
        assert store.url == f"sqlite:///{(home / 'cases.db').as_posix()}"
        assert (home / "cases.db").is_file()
        assert store.schema_version == store.latest_schema_version


def test_migrations_are_recorded_and_build_the_current_schema(url: str) -> None:
    with CaseStore(url) as store:
        names = [m.name for m in migrations.MIGRATIONS]
        assert store.migrations_applied == names
        assert migrations.applied_migrations(store.engine) == names
        inspector = sa.inspect(store.engine)
        for table in (migrations.CASES, migrations.HISTORY):
            found = {c["name"] for c in inspector.get_columns(table.name)}
            assert found == {c.name for c in table.columns}, table.name
        assert "uq_cases_open_enterprise" in {
            ix["name"] for ix in inspector.get_indexes("cases")
        }
    with CaseStore(url) as again:
        assert again.migrations_applied == []


def test_upgrade_from_first_schema_keeps_old_cases(url: str) -> None:
    engine = migrations.make_engine(url)
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
    engine = migrations.make_engine(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ValueError, match="Unknown migration '0009_nope'"):
        migrations.upgrade(engine, target="0009_nope")
    engine.dispose()


def test_postgres_url_uses_psycopg3() -> None:
    engine = migrations.make_engine("postgresql://u@localhost:1/db")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_repr_hides_password() -> None:
    store = CaseStore.__new__(CaseStore)
    store.url = "postgresql://inspector:s3cret@db/cases"
    assert "s3cret" not in repr(store)


# --------------------------------------------------------------------------
# Opening cases from scores
# --------------------------------------------------------------------------


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


def test_reasons_snapshot_from_parquet(
    store: CaseStore, enterprises: pd.DataFrame, tmp_path: Path
) -> None:
    reason = {
        "group": "payroll",
        "contribution": 0.42,
        "feature": "pay_delay_days_3m",
        "value": 17.0,
        "text_zh": "近三个月工资平均延迟17天",
        "text_en": "wages paid 17 days late on average",
    }
    scores = make_scores(
        enterprises,
        ["red", "red", "red", "red"],
        reasons=[[reason, {**reason, "value": None}], [], None, np.nan],
    )
    path = tmp_path / "scores.parquet"
    scores.to_parquet(path, index=False)
    back = pd.read_parquet(path)
    assert isinstance(back["reasons"].iloc[0], np.ndarray)  # what parquet gives back
    result = store.open_from_scores(back, now=T0)
    cases = [store.get(i) for i in result.opened_ids]
    by_eid = {c.enterprise_id: c for c in cases}
    first = by_eid[scores["enterprise_id"].iloc[0]]
    assert first.reasons == (reason, {**reason, "value": None})
    for eid in scores["enterprise_id"].iloc[1:]:
        assert by_eid[eid].reasons == ()
    # Chinese text is stored as text, not \u escapes.
    with store.engine.connect() as conn:
        raw = conn.exec_driver_sql(
            "SELECT reasons FROM cases WHERE id = ?", (first.id,)
        ).scalar_one()
    assert "工资" in raw


def test_reasons_as_json_text(store: CaseStore, enterprises: pd.DataFrame) -> None:
    scores = make_scores(
        enterprises, ["red", "red"], reasons=['[{"feature": "x", "text_zh": "甲"}]', ""]
    )
    ids = store.open_from_scores(scores, now=T0).opened_ids
    assert [store.get(i).reasons for i in ids] == [
        ({"feature": "x", "text_zh": "甲"},),
        (),
    ]
    bad = make_scores(enterprises.iloc[5:], ["red"], reasons=["not json"])
    before = snapshot(store)
    with pytest.raises(ContractError, match="'reasons'"):
        store.open_from_scores(bad, now=T0)
    assert_unchanged(store, before)


def _missing(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["risk_score"])


def _bad_level(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(risk_level=["purple", *frame["risk_level"].iloc[1:]])


def _bad_score(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(risk_score=[1.5, *frame["risk_score"].iloc[1:]])


def _bad_month(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(as_of="2026-13")


def _duplicate(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([frame, frame.iloc[:1]], ignore_index=True)


@pytest.mark.parametrize(
    ("breakage", "column"),
    [
        (_missing, "risk_score"),
        (_bad_level, "risk_level"),
        (_bad_score, "risk_score"),
        (_bad_month, "as_of"),
        (_duplicate, "enterprise_id"),
    ],
)
def test_scores_breaking_the_contract_change_nothing(
    store: CaseStore, enterprises: pd.DataFrame, breakage: Any, column: str
) -> None:
    store.open_from_scores(make_scores(enterprises.iloc[10:], ["yellow"]), now=T0)
    before = snapshot(store)
    bad = breakage(make_scores(enterprises, ["red", "orange", "yellow"]))
    with pytest.raises(ContractError, match=f"columns? '{column}'") as info:
        store.open_from_scores(bad, now=T0)
    assert "Fix" in str(info.value)
    assert "no case was opened" in str(info.value)
    assert info.value.table == "scores"
    assert_unchanged(store, before)


def test_scores_must_be_a_frame(store: CaseStore) -> None:
    with pytest.raises(ContractError, match="must be a pandas DataFrame"):
        store.open_from_scores([1, 2, 3])  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------


def test_default_routing(store: CaseStore, enterprises: pd.DataFrame) -> None:
    construction = enterprises[enterprises["industry"] == "E"].head(2)
    others = enterprises[enterprises["industry"] != "E"].head(3)
    ents = pd.concat([construction, others])
    store.open_from_scores(make_scores(ents, ["red"] * 5), now=T0)
    frame = store.list().set_index("enterprise_id")
    for rec in ents.itertuples():
        expected = (
            "住建局+人社劳动监察大队" if rec.industry == "E" else "人社劳动监察大队"
        )
        assert frame.loc[rec.enterprise_id, "unit"] == expected
        assert frame.loc[rec.enterprise_id, "grid"] == rec.region
    assert len(store.list(unit="住建局")) == 2
    assert len(store.list(unit="人社劳动监察大队")) == 5
    assert len(store.list(unit="人社")) == 0  # whole unit names only


def test_custom_routing_on_store_and_per_call(
    tmp_path: Path, enterprises: pd.DataFrame
) -> None:
    ents = enterprises.head(4)
    region = str(ents["region"].iloc[0])
    routing = Routing(
        rules=(RoutingRule(unit="吴兴区劳动监察中队", regions=(region[:6],)),),
        default_unit="市劳动监察支队",
        grids={region: "第一网格"},
    )
    with CaseStore(f"sqlite:///{tmp_path}/c.db", routing=routing) as store:
        store.open_from_scores(make_scores(ents.head(2), ["red"] * 2), now=T0)
        per_call = Routing(default_unit="临时专班")
        store.open_from_scores(
            make_scores(ents.iloc[2:], ["red"] * 2), now=T0, routing=per_call
        )
        frame = store.list().set_index("enterprise_id")
    for rec in ents.head(2).itertuples():
        unit = "吴兴区劳动监察中队" if rec.region == region else "市劳动监察支队"
        assert frame.loc[rec.enterprise_id, "unit"] == unit
        grid = "第一网格" if rec.region == region else rec.region
        assert frame.loc[rec.enterprise_id, "grid"] == grid
    for rec in ents.iloc[2:].itertuples():
        assert frame.loc[rec.enterprise_id, "unit"] == "临时专班"


def test_routing_rule_matching() -> None:
    rule = RoutingRule(unit="u", industries=("E", "K"), regions=("3305",))
    assert rule.matches("E", "330502")
    assert not rule.matches("C", "330502")
    assert not rule.matches("E", "330101")
    assert not rule.matches("E", None)
    assert Routing().route(None, None) == ("人社劳动监察大队", None)


# --------------------------------------------------------------------------
# The state machine
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# Deadlines and overdue escalation
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Optimistic locking and concurrency
# --------------------------------------------------------------------------


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
    conn.execute(
        sa.insert(migrations.HISTORY).values(
            case_id=case_id,
            seq=2,
            at=T0,
            actor="派单员张",
            action="transition",
            from_state="new",
            to_state="dispatched",
            note="",
            details={},
        )
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


# --------------------------------------------------------------------------
# Audit trail
# --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_history_export_round_trip(
    store: CaseStore, enterprises: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    ids = store.open_from_scores(
        make_scores(enterprises, ["red", "orange"]), now=T0
    ).opened_ids
    drive(store, ids[0], "closed")
    drive(store, ids[1], "resolved")
    store.move(ids[1], "closed", by="派单员", note='备注, with "quotes"\nand a newline')
    store.overdue(T0 + dt.timedelta(days=30))
    history = store.history()
    path = store.export_history(tmp_path / f"out/history{suffix}")
    back = read_history(path)
    pd.testing.assert_frame_equal(back, history)
    assert set(history["action"]) >= {"opened", "transition"}
    one = read_history(store.export_history(tmp_path / f"one{suffix}", ids[1]))
    assert set(one["case_id"]) == {ids[1]}


def test_history_export_refuses_other_suffixes(
    store: CaseStore, tmp_path: Path
) -> None:
    with pytest.raises(InvalidParameterError, match=r"\.csv or \.json"):
        store.export_history(tmp_path / "history.xlsx")


def test_history_seq_equals_version_for_every_case(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    ids = store.open_from_scores(
        make_scores(enterprises, ["red", "orange", "yellow"]), now=T0
    ).opened_ids
    drive(store, ids[0], "closed")
    drive(store, ids[1], "handling")
    store.open_from_scores(
        make_scores(enterprises, ["red"] * 3, as_of="2026-07"), now=T0
    )
    store.overdue(T0 + dt.timedelta(days=40))
    history = store.history()
    for case_id, rows in history.groupby("case_id"):
        assert rows["seq"].tolist() == list(range(1, len(rows) + 1))
        assert store.get(int(case_id)).version == len(rows)


# --------------------------------------------------------------------------
# Closing the loop
# --------------------------------------------------------------------------


def _verified_world(store: CaseStore, enterprises: pd.DataFrame) -> list[int]:
    """Six cases: red confirmed x2, red false alarm, orange confirmed, orange
    false alarm, yellow still verifying."""
    levels = ["red", "red", "red", "orange", "orange", "yellow"]
    ids = list(
        store.open_from_scores(make_scores(enterprises, levels), now=T0).opened_ids
    )
    verified_at = dt.datetime(2026, 6, 9, 10, 0)
    for case_id, ending in zip(
        ids,
        ["confirmed", "confirmed", "false_alarm", "confirmed", "false_alarm", None],
        strict=True,
    ):
        drive(store, case_id, "verifying")
        if ending == "confirmed":
            store.move(case_id, ending, by="核查员", now=verified_at, **FIGURES)
        elif ending == "false_alarm":
            store.move(case_id, ending, by="核查员", now=verified_at)
    return ids


def test_outcomes_keep_the_verified_warning(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    ids = _verified_world(store, enterprises)
    # A later red score escalates an open, already-verified orange case.
    store.open_from_scores(
        make_scores(enterprises, ["red"] * 4, as_of="2026-07", model_version="2"),
        now=T0,
    )
    assert store.get(ids[3]).level == "red"
    out = store.outcomes().set_index("case_id")
    assert sorted(out.index) == sorted(ids[:5])
    assert list(store.outcomes().columns) == [
        "case_id",
        "enterprise_id",
        "as_of",
        "level",
        "model_name",
        "model_version",
        "outcome",
        "verified_at",
        "workers_affected",
        "amount_owed",
        "period",
    ]
    assert out.loc[ids[3], "level"] == "orange"  # as verified
    assert out.loc[ids[3], "model_version"] == "1"
    assert out.loc[ids[3], "as_of"] == "2026-06"
    assert out.loc[ids[0], "outcome"] == "confirmed"
    assert out.loc[ids[0], "workers_affected"] == 12
    assert out.loc[ids[0], "amount_owed"] == 96_000.0
    assert out.loc[ids[2], "outcome"] == "false_alarm"
    assert pd.isna(out.loc[ids[2], "workers_affected"])
    assert set(out["period"]) == {"2026-06"}
    assert (out["verified_at"] == dt.datetime(2026, 6, 9, 10, 0)).all()


def test_merge_outcomes_appends_confirmed_events_once(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    ids = _verified_world(store, enterprises)
    outcomes = store.outcomes()
    confirmed = outcomes[outcomes["outcome"] == "confirmed"]
    already = confirmed.iloc[0]
    events = pd.DataFrame(
        {
            "enterprise_id": [
                already["enterprise_id"],
                enterprises["enterprise_id"].iloc[20],
            ],
            "period": [already["period"], "2026-01"],
            "workers_affected": np.array([40, 3], dtype="int64"),
            "amount_owed": [500_000.0, 9_000.0],
        }
    )
    tables = Tables(enterprises=enterprises, payroll=pd.DataFrame(), events=events)
    merged = merge_outcomes(tables, outcomes)
    assert len(merged.events) == 2 + len(confirmed) - 1
    # The event already present is kept as it was, not duplicated.
    dup = merged.events[merged.events["enterprise_id"] == already["enterprise_id"]]
    assert dup["workers_affected"].tolist() == [40]
    assert merged.events.duplicated(["enterprise_id", "period"]).sum() == 0
    false_alarms = set(
        outcomes.loc[outcomes["outcome"] == "false_alarm", "enterprise_id"]
    )
    assert not false_alarms & set(merged.events["enterprise_id"])
    assert merged.events["workers_affected"].dtype == np.int64
    with config_context(today="2030-12"):
        Events.validate(merged.events)
    again = merge_outcomes(merged, outcomes)
    pd.testing.assert_frame_equal(again.events, merged.events)
    assert merged.enterprises is tables.enterprises
    assert tables.events is events
    assert len(events) == 2
    assert ids  # six cases were made


def test_merge_outcomes_without_events_table(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    _verified_world(store, enterprises)
    tables = Tables(enterprises=enterprises, payroll=pd.DataFrame())
    merged = merge_outcomes(tables, store.outcomes())
    assert len(merged.events) == 3
    assert list(merged.events.columns) == [
        "enterprise_id",
        "period",
        "workers_affected",
        "amount_owed",
    ]
    with pytest.raises(ContractError, match="'period'"):
        merge_outcomes(tables, store.outcomes().drop(columns=["period"]))


def test_stats(store: CaseStore, enterprises: pd.DataFrame) -> None:
    assert store.stats(T0).hit_rate is None
    ids = _verified_world(store, enterprises)
    store.move(ids[2], "closed", by="派单员", now=dt.datetime(2026, 6, 10, 9, 0))
    stats = store.stats(now=dt.datetime(2026, 6, 30))
    assert (
        stats.n_cases,
        stats.n_verified,
        stats.n_confirmed,
        stats.n_false_alarms,
    ) == (
        6,
        5,
        3,
        2,
    )
    assert stats.hit_rate == pytest.approx(3 / 5)
    assert stats.by_level.loc["red", "hit_rate"] == pytest.approx(2 / 3)
    assert stats.by_level.loc["orange", "hit_rate"] == pytest.approx(1 / 2)
    assert stats.by_level.loc["yellow", "verified"] == 0
    assert (
        stats.by_level[["verified", "confirmed", "false_alarm"]].dtypes == "int64"
    ).all()
    assert np.isnan(stats.by_level.loc["yellow", "hit_rate"])
    assert stats.by_model[
        ["model_name", "model_version", "verified", "confirmed"]
    ].to_dict("records") == [
        {
            "model_name": "anxin-arrears",
            "model_version": "1",
            "verified": 5,
            "confirmed": 3,
        }
    ]
    assert stats.by_status.to_dict() == {
        "new": 0,
        "dispatched": 0,
        "verifying": 1,
        "false_alarm": 1,
        "confirmed": 3,
        "handling": 0,
        "resolved": 0,
        "closed": 1,
    }
    assert stats.median_hours_to_close == pytest.approx(
        5 * 24
    )  # Fri 09:00 -> Wed 09:00
    assert stats.n_open == 5
    assert stats.n_overdue == 5
    metrics = stats.metrics()
    assert metrics["field_hit_rate"] == pytest.approx(0.6)
    assert metrics["field_hit_rate_red"] == pytest.approx(2 / 3)
    assert "field_hit_rate_yellow" not in metrics
    assert metrics["field_status_confirmed"] == 3


# MLflow's own SQLAlchemy models trigger a deprecation warning under SA 2.1.
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning")
def test_log_field_performance_to_mlflow(
    store: CaseStore, enterprises: pd.DataFrame, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    _verified_world(store, enterprises)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    with config_context(artifact_root=tmp_path / "artifacts"):
        run_id = log_field_performance(store, tracking_uri=uri, now=T0)
    run = MlflowClient(uri).get_run(run_id)
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    assert metrics["field_hit_rate"] == pytest.approx(0.6)
    assert metrics["field_hit_rate_red"] == pytest.approx(2 / 3)
    assert metrics["field_hit_rate_orange"] == pytest.approx(0.5)
    assert metrics["field_verified"] == 5
    assert metrics["field_hit_rate/anxin-arrears/v1"] == pytest.approx(0.6)
    assert run.data.tags["anxin.kind"] == "field-performance"
    assert run.data.tags["anxin.models"] == "anxin-arrears:1"
    experiment = MlflowClient(uri).get_experiment(run.info.experiment_id)
    assert experiment.name == "anxin-field"


def test_case_snapshot_is_frozen(store: CaseStore, enterprises: pd.DataFrame) -> None:
    case = store.get(open_one(store, enterprises))
    with pytest.raises(AttributeError):
        case.status = "closed"  # type: ignore[misc]
    assert json.dumps(list(case.reasons)) == "[]"


def test_workflow_doc_states_the_defaults() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "workflow.md").read_text("utf-8")
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
