"""anxin.spark.validate: one machine's rules, counts and messages."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import anxin
from anxin.config import config_context
from anxin.exceptions import ContractError
from anxin.spark import load_tables, validate
from anxin.spark._buckets import Scatter
from anxin.spark._compat import collect
from anxin.spark._month import write_quarantine
from tests.spark.conftest import TODAY


def test_counts_and_breaches_equal_one_machine(spark: Any, dirty_dir: Path) -> None:
    with config_context(today=TODAY):
        one = anxin.validate(anxin.load_tables(dirty_dir))
        two = validate(load_tables(dirty_dir, spark=spark), buckets=2)
    assert two.rows_in == one.rows_in and two.rows_valid == one.rows_valid
    assert two.n_quarantined == one.n_quarantined > 0
    assert two.summary()["breaches_by_rule"] == one.summary()["breaches_by_rule"]
    a = one.quarantine.astype(str).reset_index(drop=True)
    b = collect(two.quarantine)[a.columns].astype(str)
    b["source_line"] = b["source_line"].replace("nan", "<NA>")
    pd.testing.assert_frame_equal(a, b)
    assert {"known_enterprise", "duplicate_key"} <= set(a["rule"])
    valid = collect(two.valid("payroll"))
    expected = one.tables.payroll
    assert list(valid.columns) == [*expected.columns, "_bucket"]
    key = ["enterprise_id", "period"]
    got = valid.drop(columns="_bucket").sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(
        got, expected.sort_values(key, ignore_index=True), check_dtype=False
    )
    assert valid["_bucket"].between(0, 1).all()
    # integer columns with a missing value, which pandas reads as float
    raw = {n: pq.read_table(dirty_dir / f"{n}.parquet") for n in two.rows_in}
    nulls = {
        n: sorted(
            f.name
            for f, c in zip(t.schema, t.columns, strict=True)
            if pa.types.is_integer(f.type) and c.null_count
        )
        for n, t in raw.items()
    }
    assert two.int_with_nulls == {n: c for n, c in nulls.items() if c}
    assert two.int_with_nulls == {"signals": ["complaints"]}


def test_a_missing_column_is_one_machines_error(
    spark: Any, dirty_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for p in dirty_dir.iterdir():
        frame = pd.read_parquet(p)
        if p.stem == "payroll":
            frame = frame.drop(columns=["wages_paid"])
        frame.to_parquet(data / p.name)
    with pytest.raises(ContractError) as one:
        anxin.validate(anxin.load_tables(data))
    with pytest.raises(ContractError) as two:
        validate(load_tables(data, spark=spark))
    assert str(two.value) == str(one.value)
    assert "column 'wages_paid' is missing" in str(two.value)


def test_csv_exports_are_refused_with_the_fix(spark: Any, tmp_path: Path) -> None:
    (tmp_path / "payroll.csv").write_text("enterprise_id,period\n", "utf-8")
    with pytest.raises(ContractError, match="--engine local"):
        load_tables(tmp_path, spark=spark)


def test_quarantined_integers_with_a_gap_print_as_one_machines(
    spark: Any, dirty_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(dirty_dir, data)
    # without pandas' metadata, pandas reads an integer column with a gap as
    # float: one machine's quarantine file prints -1.0 where Spark reads -1
    signals = pq.read_table(data / "signals.parquet")
    pq.write_table(signals.replace_schema_metadata(None), data / "signals.parquet")
    with config_context(today=TODAY):
        one = anxin.validate(anxin.load_tables(data))
        two = validate(load_tables(data, spark=spark), buckets=2)
    assert two.int_with_nulls == {"signals": ["complaints"]}
    one.write_quarantine(tmp_path / "one")
    (tmp_path / "two").mkdir()
    write_quarantine(tmp_path / "two", two)
    expected = (tmp_path / "one" / "signals.csv").read_text("utf-8")
    assert ",-1.0," in expected
    assert (tmp_path / "two" / "quarantine" / "signals.csv").read_text(
        "utf-8"
    ) == expected


def test_the_scatter_notes_integer_gaps_in_rows_of_any_bucket(tmp_path: Path) -> None:
    batch = pa.RecordBatch.from_pydict(
        {
            "enterprise_id": ["A", None, "B"],
            "complaints": pa.array([1, None, 2], pa.int64()),
            "lawsuits": pa.array([0, 0, 1], pa.int64()),
            "electricity_kwh": pa.array([None, 1.0, 2.0], pa.float64()),
        }
    )
    report = next(Scatter("signals", 3, str(tmp_path))(iter([batch])))
    rows = report.to_pandas()
    assert rows["int_with_nulls"].dropna().tolist() == ["complaints"]
    assert rows["rows"].sum() == 3  # the row without a code has a bucket too
