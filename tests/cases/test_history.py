"""Tests for anxin.cases.history: the audit trail."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from anxin.cases import CaseStore, read_history
from anxin.cases.history import HISTORY_COLUMNS
from anxin.exceptions import ContractError, InvalidParameterError

from .helpers import T0, drive, make_scores


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


def test_read_history_refuses_other_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="'path' parameter of read_his"):
        read_history(tmp_path / "history.xlsx")
    other = tmp_path / "outcomes.csv"
    pd.DataFrame({"case_id": [1], "outcome": ["confirmed"]}).to_csv(other, index=False)
    with pytest.raises(ContractError, match="this is not a history export") as info:
        read_history(other)
    assert info.value.table == "case_history"


def test_history_of_an_empty_store_has_the_columns(store: CaseStore) -> None:
    frame = store.history()
    assert frame.empty
    assert list(frame.columns) == list(HISTORY_COLUMNS)
    assert str(frame["at"].dtype).startswith("datetime64")
