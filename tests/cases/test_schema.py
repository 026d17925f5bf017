"""Tests for anxin.cases.schema: the current tables."""

from __future__ import annotations

import dataclasses

from anxin.cases import Case
from anxin.cases.history import HISTORY_COLUMNS
from anxin.cases.outcomes import OUTCOME_COLUMNS
from anxin.cases.records import LIST_COLUMNS
from anxin.cases.schema import CASES, HISTORY, METADATA


def test_a_case_snapshot_holds_every_column() -> None:
    # Case.from_row passes the row's columns as keyword arguments
    assert [f.name for f in dataclasses.fields(Case)] == [c.name for c in CASES.c]


def test_frames_read_existing_columns() -> None:
    assert set(LIST_COLUMNS) <= set(CASES.c.keys())
    hashes = ["prev_hash", "row_hash"]  # checked by verify(), not shown
    assert list(HISTORY_COLUMNS) + hashes == [c.name for c in HISTORY.c]
    derived = {"case_id", "period"}  # the case id, renamed; the month verified
    assert set(OUTCOME_COLUMNS) - derived <= set(CASES.c.keys())


def test_keys_of_the_tables() -> None:
    assert set(METADATA.tables) == {"cases", "case_history"}
    assert [c.name for c in CASES.primary_key] == ["id"]
    assert [c.name for c in HISTORY.primary_key] == ["case_id", "seq"]
    (fk,) = HISTORY.foreign_keys
    assert fk.target_fullname == "cases.id"
    # who acted is stored as `actor` / `updated_by`; the API calls it `by`
    assert "actor" in HISTORY.c
    assert "updated_by" in CASES.c
    assert str(CASES.c.escalations.server_default.arg) == "0"  # type: ignore[union-attr]
