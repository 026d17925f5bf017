"""anxin.spark.load_tables: rows numbered as read, files in path order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from anxin.spark import load_tables
from anxin.spark._compat import collect
from anxin.spark.tables import SOURCE_ROW, row_numbers


def test_source_rows_follow_files_then_rows(
    spark: Any, dirty_dir: Path, tmp_path: Path
) -> None:
    payroll = pd.read_parquet(dirty_dir / "payroll.parquet")
    parts = tmp_path / "payroll"
    parts.mkdir()
    half = len(payroll) // 2
    payroll.iloc[:half].to_parquet(parts / "part-0.parquet")
    payroll.iloc[half:].to_parquet(parts / "part-1.parquet")
    tables = load_tables(
        {"enterprises": str(dirty_dir / "enterprises.parquet"), "payroll": str(parts)},
        spark=spark,
    )
    got = collect(tables.frames["payroll"]).sort_values(SOURCE_ROW)
    assert got[SOURCE_ROW].tolist() == list(range(1, len(payroll) + 1))
    assert got["enterprise_id"].tolist() == payroll["enterprise_id"].tolist()
    assert tables.present() == ("enterprises", "payroll")


def test_row_numbers_are_global_and_exact(spark: Any) -> None:
    df = spark.range(0, 1000, numPartitions=7).orderBy("id")
    got = collect(row_numbers(df, "n")).sort_values("id")
    assert got["n"].tolist() == list(range(1, 1001))
