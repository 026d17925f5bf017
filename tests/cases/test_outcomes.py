"""Tests for anxin.cases.outcomes: outcomes, merge_outcomes, field stats."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from anxin.cases import CaseStore, merge_outcomes
from anxin.config import config_context
from anxin.exceptions import ContractError
from anxin.schemas import Events
from anxin.tables import Tables

from .helpers import T0, make_scores, verified_world


def test_outcomes_keep_the_verified_warning(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    ids = verified_world(store, enterprises)
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
    ids = verified_world(store, enterprises)
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
    verified_world(store, enterprises)
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
    ids = verified_world(store, enterprises)
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
