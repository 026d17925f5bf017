"""The data contract: each rule with a failing and a passing example."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import anxin
from anxin import ContractError, Tables, validate
from anxin.validation import QUARANTINE_COLUMNS


def _tiny(tables: Tables, n: int = 60) -> Tables:
    ids = tables.enterprises["enterprise_id"].iloc[:n]
    assert tables.events is not None
    with_events = tables.events["enterprise_id"].drop_duplicates().iloc[:6]
    ids = pd.concat([ids, with_events]).drop_duplicates()
    keep = {
        name: frame[frame["enterprise_id"].isin(ids)].reset_index(drop=True)
        for name, frame in tables.items()
    }
    return Tables(**keep)


@pytest.fixture
def tiny(tables: Tables) -> Tables:
    return _tiny(tables)


def _breaches(report: anxin.ValidationReport, table: str) -> set[tuple[int, str]]:
    q = report.quarantine
    q = q[q["table"] == table]
    return set(zip(q["source_row"].tolist(), q["rule"].tolist(), strict=True))


def test_clean_world_has_no_quarantine(tiny: Tables) -> None:
    report = validate(tiny)
    assert report.n_quarantined == 0
    assert report.quarantine.columns.tolist() == QUARANTINE_COLUMNS
    for name, frame in tiny.items():
        assert len(report.tables[name]) == len(frame)


@pytest.mark.parametrize(
    ("table", "column", "value", "rule"),
    [
        ("enterprises", "enterprise_id", "91110000600037341N", "uscc_check_character"),
        ("enterprises", "industry", "Z", "isin"),
        ("enterprises", "region", "33050", "region_code"),
        ("enterprises", "registered_capital", -5.0, "greater_than_or_equal_to"),
        ("enterprises", "established", "not a date", "wrong_type"),
        ("payroll", "insured_headcount", -1, "greater_than_or_equal_to"),
        ("payroll", "wages_payable", -10.0, "greater_than_or_equal_to"),
        ("payroll", "wages_paid", -0.01, "greater_than_or_equal_to"),
        ("payroll", "pay_delay_days", -3.0, "greater_than_or_equal_to"),
        ("payroll", "social_insurance_due", -1.0, "greater_than_or_equal_to"),
        ("payroll", "social_insurance_paid", -1.0, "greater_than_or_equal_to"),
        ("payroll", "period", "2024/05", "period_format"),
        ("payroll", "period", "2024-13", "period_format"),
        ("payroll", "period", "2031-01", "period_not_in_future"),
        ("payroll", "enterprise_id", "91110000600037341L", "known_enterprise"),
        ("payroll", "insured_headcount", "twelve", "wrong_type"),
        ("payroll", "wages_paid", None, "missing_value"),
        ("tax", "invoice_amount", -1.0, "greater_than_or_equal_to"),
        ("tax", "vat_paid", -1.0, "greater_than_or_equal_to"),
        ("tax", "iit_withheld", -1.0, "greater_than_or_equal_to"),
        ("tax", "tax_arrears", -1.0, "greater_than_or_equal_to"),
        ("signals", "electricity_kwh", -1.0, "greater_than_or_equal_to"),
        ("signals", "complaints", -1, "greater_than_or_equal_to"),
        ("signals", "lawsuits", -2, "greater_than_or_equal_to"),
        ("events", "workers_affected", 0, "greater_than_or_equal_to"),
        ("events", "amount_owed", 0.0, "greater_than"),
        ("events", "period", "2026-1", "period_format"),
    ],
)
def test_each_rule_quarantines_the_breaking_row(
    tiny: Tables, table: str, column: str, value: object, rule: str
) -> None:
    frame = tiny[table]
    assert frame is not None and len(frame) > 3
    broken = frame.astype({column: object}).copy()
    broken.loc[2, column] = value
    report = validate(tiny.replace(**{table: broken}))
    assert (3, rule) in _breaches(report, table)
    # exactly that row is quarantined, nothing else in that table
    assert report.quarantined_rows[table]["source_row"].tolist() == [3]
    assert len(report.tables[table]) == len(frame) - 1
    # the breach names the column and the offending value
    q = report.quarantine[(report.quarantine["table"] == table)]
    assert column in q["column"].tolist()


def test_duplicate_key_keeps_the_first_row(tiny: Tables) -> None:
    pay = tiny.payroll
    dup = pd.concat([pay, pay.iloc[[4]]], ignore_index=True)
    report = validate(tiny.replace(payroll=dup))
    assert _breaches(report, "payroll") == {(len(dup), "duplicate_key")}
    kept = report.tables.payroll
    assert len(kept) == len(pay)


def test_duplicate_enterprise_keeps_first_and_its_rows(tiny: Tables) -> None:
    ent = tiny.enterprises
    dup = pd.concat([ent, ent.iloc[[0]]], ignore_index=True)
    report = validate(tiny.replace(enterprises=dup))
    assert _breaches(report, "enterprises") == {(len(dup), "duplicate_key")}
    assert len(report.tables.payroll) == len(tiny.payroll)


def test_established_after_last_period(tiny: Tables) -> None:
    ent = tiny.enterprises.copy()
    ent.loc[0, "established"] = pd.Timestamp("2026-08-01")  # data end 2026-06
    report = validate(tiny.replace(enterprises=ent))
    assert (1, "established_not_after_last_period") in _breaches(report, "enterprises")
    # the enterprise's monthly rows then refer to no valid enterprise
    orphan = tiny.enterprises.loc[0, "enterprise_id"]
    n_rows = int((tiny.payroll["enterprise_id"] == orphan).sum())
    assert len(report.quarantined_rows["payroll"]) == n_rows
    assert set(_breaches(report, "payroll")) <= {
        (r, "known_enterprise") for r in range(1, len(tiny.payroll) + 1)
    }


def test_future_is_relative_to_configured_today(tiny: Tables) -> None:
    with anxin.config_context(today="2026-03"):
        report = validate(tiny)
    months = tiny.payroll["period"]
    assert len(report.quarantined_rows["payroll"]) == int((months > "2026-03").sum())


def test_nothing_is_lost(tables: Tables) -> None:
    dirty = anxin.synth(n_enterprises=300, n_months=12, seed=3, dirty=True)
    report = validate(dirty.tables)
    for name, frame in dirty.tables.items():
        assert len(report.tables[name]) + len(report.quarantined_rows[name]) == len(
            frame
        )
        # the quarantined rows are the source rows, unchanged
        q = report.quarantined_rows[name]
        src = frame.iloc[q["source_row"].to_numpy() - 1].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            q.drop(columns="source_row").astype(str), src.astype(str)
        )


def test_dirty_world_quarantines_exactly_the_injected_rows() -> None:
    dirty = anxin.synth(n_enterprises=600, n_months=18, seed=4, dirty=True)
    report = validate(dirty.tables)
    got = set(
        report.quarantine[["table", "source_row"]].itertuples(index=False, name=None)
    )
    injected = dirty.injected
    want = set(injected[["table", "source_row"]].itertuples(index=False, name=None))
    assert got == want
    for rec in injected.itertuples():
        rules = report.quarantine[
            (report.quarantine["table"] == rec.table)
            & (report.quarantine["source_row"] == rec.source_row)
        ]["rule"]
        assert rec.rule in set(rules)


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("payroll", "period"),
        ("enterprises", "region"),
        ("tax", "tax_arrears"),
        ("events", "amount_owed"),
    ],
)
def test_missing_column_is_a_contract_error(
    tiny: Tables, table: str, column: str
) -> None:
    frame = tiny[table]
    assert frame is not None
    with pytest.raises(ContractError, match=rf"column '{column}' is missing") as info:
        validate(tiny.replace(**{table: frame.drop(columns=column)}))
    assert info.value.table == table
    assert info.value.column == column
    assert "Columns found" in str(info.value)


def test_missing_period_message_tells_the_fix(tiny: Tables) -> None:
    pay = tiny.payroll.rename(columns={"period": "month"})
    with pytest.raises(ContractError, match=r"Rename the month column to 'period'"):
        validate(tiny.replace(payroll=pay))


def test_required_table_with_no_valid_row(tiny: Tables) -> None:
    pay = tiny.payroll.copy()
    pay["wages_paid"] = -1.0
    with pytest.raises(ContractError, match="none of its"):
        validate(tiny.replace(payroll=pay))


def test_extra_columns_are_kept_and_reported(tiny: Tables) -> None:
    pay = tiny.payroll.assign(note="x")
    report = validate(tiny.replace(payroll=pay))
    assert report.extra_columns == {"payroll": ["note"]}
    assert "note" in report.tables.payroll.columns


def test_optional_tables_may_be_absent(tiny: Tables) -> None:
    report = validate(tiny.replace(tax=None, signals=None, events=None))
    assert report.absent_tables == ["tax", "signals", "events"]
    assert report.tables.tax is None


def test_report_writes_json_and_csv(tiny: Tables, tmp_path: Path) -> None:
    pay = tiny.payroll.copy()
    pay.loc[0, "wages_paid"] = -1.0
    report = validate(tiny.replace(payroll=pay))
    payload = json.loads(report.write(tmp_path / "r.json").read_text("utf-8"))
    assert payload["rows_quarantined"]["payroll"] == 1
    assert payload["breaches"][0]["rule"] == "greater_than_or_equal_to"
    csv = pd.read_csv(report.write(tmp_path / "r.csv"))
    assert csv.columns.tolist() == QUARANTINE_COLUMNS
    written = report.write_quarantine(tmp_path / "q")
    assert pd.read_csv(written["payroll"])["source_row"].tolist() == [1]


@settings(max_examples=15, deadline=None)
@given(
    rows=st.sets(st.integers(0, 150), min_size=1, max_size=8),
    value=st.sampled_from([-1.0, -1e9, np.nan]),
)
def test_quarantine_is_exactly_the_rows_broken(
    tables: Tables, rows: set[int], value: float
) -> None:
    small = _tiny(tables, 15)
    pay = small.payroll.copy()
    idx = sorted(r for r in rows if r < len(pay))
    pay.loc[idx, "wages_paid"] = value
    report = validate(small.replace(payroll=pay))
    assert sorted(report.quarantined_rows["payroll"]["source_row"]) == [
        i + 1 for i in idx
    ]


def test_every_rule_is_documented_with_an_example() -> None:
    from anxin.validation import RULE_DESCRIPTIONS

    doc = (Path(__file__).parents[1] / "docs" / "validation.md").read_text("utf-8")
    for rule in RULE_DESCRIPTIONS:
        rows = [line for line in doc.splitlines() if line.startswith(f"| `{rule}`")]
        assert rows, f"docs/validation.md has no row for the rule {rule!r}"
        assert rows[0].count("|") >= 4, f"{rule}: the row needs an example"
