"""Rows to buckets: a fixed hash of the code, and the tasks' own Parquet reads
giving exactly the rows, types and row numbers Spark gives."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.exceptions import InvalidParameterError
from anxin.spark import load_tables, validate
from anxin.spark._buckets import (
    TASKS_PER_CORE,
    bucket_ids,
    numbers,
    pieces_of,
    read_piece,
)
from anxin.spark._compat import arrow_schema, collect
from anxin.spark.tables import SOURCE_ROW
from anxin.spark.validation import ENTERPRISES_PER_BUCKET, _check_counts, even_buckets

CODES = st.lists(st.text(min_size=0, max_size=24), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(codes=CODES, buckets=st.integers(1, 97))
def test_a_codes_bucket_does_not_depend_on_its_neighbours(
    codes: list[str], buckets: int
) -> None:
    together = bucket_ids(pa.array(codes), buckets)
    alone = [int(bucket_ids(pa.array([c]), buckets)[0]) for c in codes]
    assert together.tolist() == alone
    assert ((together >= 0) & (together < buckets)).all()
    reversed_ = bucket_ids(pa.array(codes[::-1]), buckets)
    assert reversed_.tolist() == together.tolist()[::-1]


def test_the_same_code_lands_alike_in_any_arrow_form() -> None:
    codes = ["91330100MA2AXXXX1A", "", "9133", "91330100MA2AXXXX1A", "中文代码"]
    plain = bucket_ids(pa.array(codes), 40)
    assert bucket_ids(pa.array(codes, pa.large_string()), 40).tolist() == plain.tolist()
    encoded = pa.array(codes).dictionary_encode()
    assert bucket_ids(encoded, 40).tolist() == plain.tolist()
    chunked = pa.chunked_array([codes[:2], codes[2:]])
    assert bucket_ids(chunked, 40).tolist() == plain.tolist()
    assert plain[0] == plain[3]
    missing = bucket_ids(pa.array([None, ""], pa.string()), 40)
    assert missing[0] == missing[1]  # a missing code is "" (as Spark's bucket was)


def test_buckets_never_move() -> None:
    # executors of any version must agree on an enterprise's bucket, and a
    # rerun must put it where the last run did: the hash is pinned
    codes = pa.array(["91330100MA2AXXXX1A", "", "9133"])
    assert bucket_ids(codes, 1000).tolist() == [215, 0, 696]


def test_codes_spread_over_the_buckets() -> None:
    codes = [f"9133{i:014d}" for i in range(40_000)]
    counts = np.bincount(bucket_ids(pa.array(codes), 80), minlength=80)
    assert counts.min() > 0.8 * 500 and counts.max() < 1.2 * 500


def test_pieces_read_as_spark_reads_them(
    spark: Any, dirty_dir: Path, tmp_path: Path
) -> None:
    payroll = pd.read_parquet(dirty_dir / "payroll.parquet")
    parts = tmp_path / "payroll"
    months = sorted(payroll["period"].dropna().astype(str).unique())[:3]
    for i, month in enumerate(months):  # Hive directories, several row groups
        rows = payroll[payroll["period"].astype(str) == month].drop(columns="period")
        folder = parts / f"period={month}"
        folder.mkdir(parents=True)
        table = pa.Table.from_pandas(rows, preserve_index=False)
        pq.write_table(table, folder / f"part-{i}.parquet", row_group_size=97)
    tables = load_tables(
        {"enterprises": str(dirty_dir / "enterprises.parquet"), "payroll": str(parts)},
        spark=spark,
    )
    expected = collect(tables.frames["payroll"]).sort_values(SOURCE_ROW)
    schema = arrow_schema(tables.frames["payroll"].schema)
    pieces = pieces_of("payroll", str(parts), 300)
    assert pieces is not None and len(pieces) > len(months)
    got = pa.concat_tables(read_piece(p, schema, SOURCE_ROW) for p in pieces)
    got_frame = got.to_pandas().sort_values(SOURCE_ROW)
    assert got_frame[SOURCE_ROW].tolist() == list(range(1, len(expected) + 1))
    assert got_frame[SOURCE_ROW].tolist() == expected[SOURCE_ROW].tolist()
    for column in expected.columns:
        a = expected[column].astype(str).tolist()
        b = got_frame[column].astype(str).tolist()
        assert a == b, column
    assert pieces_of("payroll", str(tmp_path / "absent"), 300) is None


def test_a_used_work_dir_is_refused(
    spark: Any, dirty_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "left-over.arrow").write_bytes(b"rows of another run")
    with pytest.raises(InvalidParameterError, match="not empty"):
        validate(load_tables(dirty_dir, spark=spark), work_dir=str(tmp_path))


def test_rows_a_bucket_did_not_read_back_are_an_error() -> None:
    sent = pd.DataFrame(
        {"table": ["payroll", "payroll"], "bucket": [0, 1], "rows": [10, 7]}
    )
    read = pd.DataFrame(
        {
            "table": ["payroll"] * 2,
            "bucket": [0, 1],
            "valid": [9, 0],
            "rejected": [1, 0],
        }
    )
    with pytest.raises(OSError, match="bucket 1 was sent 7 rows but its task read 0"):
        _check_counts(sent, read, "/work")
    read.loc[1, "valid"] = 7
    _check_counts(sent, read, "/work")  # every row accounted for


@settings(max_examples=200, deadline=None)
@given(enterprises=st.integers(0, 60_000_000), cores=st.integers(1, 512))
def test_the_default_buckets_are_the_fewest_that_share_out_evenly(
    enterprises: int, cores: int
) -> None:
    n = even_buckets(enterprises, cores)
    wanted = max(2 * cores, math.ceil(enterprises / ENTERPRISES_PER_BUCKET))
    tasks = min(n, TASKS_PER_CORE * cores)  # numbers()'s tasks
    assert n % tasks == 0 and n % cores == 0
    step = TASKS_PER_CORE * cores if n > TASKS_PER_CORE * cores else cores
    assert wanted <= n < wanted + step  # the fewest such


@pytest.mark.parametrize("enterprises", [2_000, 250_000, 1_000_000])
def test_every_task_of_a_step_takes_as_many_default_buckets(
    spark: Any, enterprises: int
) -> None:
    from pyspark.sql import functions as F

    cores = spark.sparkContext.defaultParallelism
    n = even_buckets(enterprises, cores)
    tasks = numbers(spark, n).groupBy(F.spark_partition_id()).count()
    sizes = collect(tasks)["count"].tolist()  # empty tasks are not counted
    assert len(sizes) == min(n, TASKS_PER_CORE * cores)
    assert sum(sizes) == n and len(set(sizes)) == 1


def test_validate_takes_the_default_buckets(
    spark: Any, dirty_dir: Path, tmp_path: Path
) -> None:
    validation = validate(load_tables(dirty_dir, spark=spark), work_dir=str(tmp_path))
    rows = pq.read_metadata(dirty_dir / "enterprises.parquet").num_rows
    cores = spark.sparkContext.defaultParallelism
    assert validation.buckets == even_buckets(rows, cores)
