"""Tests for anxin.cases.scores: the scores contract and reasons cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from anxin.cases import CaseStore
from anxin.cases.scores import read_scores, reasons_cell
from anxin.exceptions import ContractError

from .helpers import T0, assert_unchanged, make_scores, snapshot


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


def test_read_scores_from_a_directory_or_a_file(
    enterprises: pd.DataFrame, tmp_path: Path
) -> None:
    scores = make_scores(enterprises, ["red", "none"])
    scores.to_parquet(tmp_path / "scores.parquet", index=False)
    pd.testing.assert_frame_equal(read_scores(tmp_path), scores)
    scores.to_csv(tmp_path / "scores.csv", index=False)
    from_csv = read_scores(tmp_path / "scores.csv")
    assert from_csv["region"].tolist() == scores["region"].tolist()  # kept as text
    assert from_csv["risk_score"].tolist() == [str(v) for v in scores["risk_score"]]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty_dir", None, "no scores.parquet or scores.csv"),
        ("nowhere.parquet", None, "scores file not found"),
        ("scores.xlsx", b"x", "unsupported file type '.xlsx'"),
        ("broken.parquet", b"not parquet", "cannot be read"),
    ],
)
def test_read_scores_names_the_problem(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if name == "empty_dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ContractError, match=message) as info:
        read_scores(path)
    assert info.value.table == "scores"


def test_reasons_cells() -> None:
    reason = {"feature": "x", "value": np.float64("nan")}
    assert reasons_cell(None, 0) == []
    assert reasons_cell(np.nan, 0) == []
    assert reasons_cell("  ", 0) == []
    assert reasons_cell(reason, 0) == [{"feature": "x", "value": None}]
    assert reasons_cell(np.array([reason], dtype=object), 0) == [
        {"feature": "x", "value": None}
    ]
    with pytest.raises(ContractError, match="at index 7 is text but not JSON"):
        reasons_cell("[{", 7)
