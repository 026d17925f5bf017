"""Rows to enterprise-hash buckets through files the executors share.

Every row of an enterprise -- its enterprises row and all its monthly rows
-- must meet in one bucket. Spark's own shuffle does that slowly for
anxin's work: each row crosses from the JVM to Python and back several
times. Here Spark only schedules: a task reads its split of a table as Spark
hands it over (any source Spark reads, rows already numbered), hashes each
row's enterprise code in Arrow, and writes the rows of each bucket to an
Arrow file under ``ROOT/BUCKET/``. A bucket's task then reads its files
directly. A retried task writes the same file names again, so a retry
replaces rather than duplicates.

``ROOT`` must be a directory every executor can read and write (the run's
work directory under ``out_dir``, which the driver and executors share).
"""

from __future__ import annotations

import dataclasses
import math
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.feather as feather
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from anxin._checks import arrow_text
from anxin.spark._compat import quiet_logs

__all__ = [
    "ENTERPRISES_PER_BUCKET",
    "SCATTER_SCHEMA",
    "TASKS_PER_CORE",
    "Piece",
    "ReadPieces",
    "Scatter",
    "bucket_ids",
    "each_number",
    "even_buckets",
    "numbers",
    "pieces_of",
    "read_bucket",
    "read_part",
    "read_piece",
    "spark_parts",
    "write_part",
]

#: Spark tasks per core for the steps over buckets (see :func:`numbers`).
TASKS_PER_CORE = 4
#: Enterprises per bucket when the number of buckets is not given: a
#: bucket's pandas work peaks at about 0.7 GB with 12,500 (13 months), and
#: with the first design 1 M enterprises in 80 buckets took half the time of
#: 20 buckets (benchmarks/README.md).
ENTERPRISES_PER_BUCKET = 12_500
#: Rows a scatter task holds before writing its buckets' files.
FLUSH_ROWS = 2_000_000
#: Per-position multipliers of the id hash (odd, fixed: buckets never move).
_WEIGHTS = np.array(
    [(0x9E3779B97F4A7C15 * (2 * i + 1)) % 2**64 | 1 for i in range(64)],
    dtype=np.uint64,
)  # fixed integers, not a random generator's output: the same everywhere


def bucket_ids(ids: pa.Array | pa.ChunkedArray, buckets: int) -> np.ndarray:
    """The bucket of each row's enterprise code (its text; missing is "").

    A fixed hash of the code's bytes, so it is the same in every process and
    for the same code in every table. Vectorised per code length.
    """
    text = pc.cast(pc.fill_null(arrow_text(ids), ""), pa.large_string())
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)
    offsets = offsets[text.offset : text.offset + len(text) + 1]
    data = text.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0)
    lengths = np.diff(offsets)
    hashed = np.zeros(len(text), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for length in np.unique(lengths):
            rows = np.flatnonzero(lengths == length)
            acc = np.full(rows.size, np.uint64(length))
            starts = offsets[:-1][rows]
            for j in range(int(length)):
                byte = raw[starts + j].astype(np.uint64)
                acc = acc * np.uint64(0x100000001B3) ^ byte * _WEIGHTS[j % 64]
            hashed[rows] = acc
        hashed ^= hashed >> np.uint64(31)
        hashed *= np.uint64(0x94D049BB133111EB)
        hashed ^= hashed >> np.uint64(29)
    return (hashed % np.uint64(buckets)).astype(np.int32)


def numbers(spark: SparkSession, n: int) -> DataFrame:
    """``0 .. n-1`` (``id``) in a few Spark tasks, consecutive numbers each.

    A Python task costs Spark about 0.1 s to start (measured in local[2]),
    so a task takes several buckets (or pieces) in turn rather than one:
    :data:`TASKS_PER_CORE` tasks per core, enough to balance the load.
    """
    cores = spark.sparkContext.defaultParallelism
    return spark.range(0, n, 1, max(1, min(n, TASKS_PER_CORE * cores)))


def even_buckets(enterprises: int, cores: int) -> int:
    """The default number of buckets: about one per
    :data:`ENTERPRISES_PER_BUCKET` enterprises, at least two per core, and
    as many for each task of a step (:func:`numbers`).

    A step ends when its slowest core does: 20 buckets in 8 tasks are tasks
    of 2 and 3 buckets, and one core works 11 buckets' time while the other
    waits after 9 (a tenth of the step at 250 k enterprises on 2 cores).
    Rounded up to a multiple of the tasks (of the cores while there are
    fewer buckets than tasks), every task takes as many buckets. Just past
    the tasks the count jumps (9 buckets on 2 cores become 16), which only
    makes the buckets smaller.

    Parameters
    ----------
    enterprises : int
        Rows of the enterprises table.
    cores : int
        Spark's ``defaultParallelism`` when the run starts; the promise
        holds while it stays the same (local mode, a fixed set of
        executors), not when dynamic allocation adds executors later.

    Returns
    -------
    int

    Examples
    --------
    >>> even_buckets(250_000, 2), even_buckets(1_000_000, 2)
    (24, 80)
    """
    cores = max(1, cores)
    n = max(2 * cores, math.ceil(enterprises / ENTERPRISES_PER_BUCKET))
    tasks = TASKS_PER_CORE * cores
    step = tasks if n > tasks else cores
    return -(-n // step) * step


def each_number(
    batches: Iterator[pa.RecordBatch],
    run: Callable[[int], pa.RecordBatch | pa.Table | None],
) -> Iterator[pa.RecordBatch]:
    """``run`` for each number (bucket) of a task's batches of :func:`numbers`;
    what it gives back, as batches (None: nothing)."""
    quiet_logs()
    for batch in batches:
        for number in batch.column(0).to_pylist():
            out = run(int(number))
            if isinstance(out, pa.Table):
                yield from out.to_batches()
            elif out is not None:
                yield out


def _bucket_dir(root: str, bucket: int) -> Path:
    return Path(root) / f"{bucket:05d}"


SCATTER_SCHEMA = pa.schema(
    [
        ("table", pa.string()),
        ("bucket", pa.int32()),
        ("rows", pa.int64()),
        ("period", pa.string()),
        ("int_with_nulls", pa.string()),
    ]
)


class _Writer:
    """A task's rows of one table, held and then written by bucket."""

    def __init__(self, name: str, buckets: int, root: str, task: int) -> None:
        self.name, self.buckets, self.root, self.task = name, buckets, root, task
        self.pending: list[pa.Table] = []
        self.held = self.flushes = 0
        self.counts = np.zeros(buckets, dtype=np.int64)
        self.periods: set[str] = set()
        self.int_with_nulls: set[str] = set()  # pandas reads them as float

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if self.name == "payroll":
            self.periods |= _distinct_text(table.column("period"))
        self.int_with_nulls |= {
            f.name
            for f, column in zip(table.schema, table.columns, strict=True)
            if pa.types.is_integer(f.type) and column.null_count
        }
        self.pending.append(table)
        self.held += table.num_rows
        if self.held >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        table = pa.concat_tables(self.pending).combine_chunks()
        self.pending, self.held = [], 0
        bucket = bucket_ids(table.column("enterprise_id"), self.buckets)
        order = np.argsort(bucket, kind="stable")
        table = table.take(pa.array(order))
        bounds = np.searchsorted(bucket[order], np.arange(self.buckets + 1))
        counts = np.diff(bounds)
        for b in np.flatnonzero(counts):
            part = table.slice(int(bounds[b]), int(counts[b]))
            folder = _bucket_dir(self.root, int(b))
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{self.name}-{self.task}-{self.flushes}.arrow"
            _write_arrow(part, target)
        self.counts += counts
        self.flushes += 1

    def report(self) -> dict[str, list[Any]]:
        self.flush()
        hit = np.flatnonzero(self.counts)
        texts, ints = sorted(self.periods), sorted(self.int_with_nulls)
        rest = [None] * (len(texts) + len(ints))
        return {
            "table": [self.name] * (hit.size + len(rest)),
            "bucket": [int(b) for b in hit] + rest,
            "rows": [int(self.counts[b]) for b in hit] + rest,
            "period": [None] * hit.size + texts + [None] * len(ints),
            "int_with_nulls": [None] * (hit.size + len(texts)) + ints,
        }


def _task_number() -> int:
    from pyspark import TaskContext

    context = TaskContext.get()
    return context.partitionId() if context is not None else 0


def _report(writers: list[_Writer]) -> pa.RecordBatch:
    """What a task wrote: one row per table and bucket, the payroll's
    periods, and the integer columns where it saw a missing value."""
    columns: dict[str, list[Any]] = {f.name: [] for f in SCATTER_SCHEMA}
    for writer in writers:
        for key, values in writer.report().items():
            columns[key] += values
    return pa.RecordBatch.from_pydict(columns, schema=SCATTER_SCHEMA)


@dataclasses.dataclass(frozen=True)
class Scatter:
    """A task over a table's split as Spark reads it: its rows to their
    buckets' files. Yields what it wrote (:data:`SCATTER_SCHEMA`): a row per
    bucket, for the payroll the distinct periods it saw, as text, and a row
    per integer column in which it saw a missing value."""

    name: str
    buckets: int
    root: str

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        writer = _Writer(self.name, self.buckets, self.root, _task_number())
        for batch in batches:
            writer.add(pa.Table.from_batches([batch]))
        yield _report([writer])


@dataclasses.dataclass(frozen=True)
class Piece:
    """Row groups of one Parquet file of a table, and where its rows start."""

    table: str
    path: str
    row_groups: tuple[int, ...]
    start: int  # rows of the table before this piece
    rows: int
    partition: tuple[tuple[str, str | None], ...]  # Hive keys of its directory


def pieces_of(name: str, source: str, rows_per_piece: int) -> list[Piece] | None:
    """A local Parquet file or directory in pieces of about ``rows_per_piece``,
    files in path order (as :func:`anxin.spark.load_tables` numbers rows);
    None if ``source`` is not a local path."""
    root = Path(source).absolute()
    if not root.exists():
        return None
    files = sorted(ds.dataset(str(root), format="parquet").files)
    pieces, start = [], 0
    for path in files:
        keys = tuple(
            (k, None if v == _HIVE_NULL else unquote(v))
            for k, _, v in (
                part.partition("=")
                for part in Path(path).relative_to(root).parent.parts
                if "=" in part
            )
        )
        meta = pq.ParquetFile(path).metadata
        group: list[int] = []
        held = 0
        for i in range(meta.num_row_groups):
            group.append(i)
            held += meta.row_group(i).num_rows
            if held >= rows_per_piece or i == meta.num_row_groups - 1:
                pieces.append(Piece(name, path, tuple(group), start, held, keys))
                start += held
                group, held = [], 0
    return pieces


_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def read_piece(piece: Piece, schema: pa.Schema, source_row: str) -> pa.Table:
    """A piece's rows with ``schema`` (Spark's types, partition columns from
    the directory names, ``source_row`` numbered)."""
    table = pq.ParquetFile(piece.path).read_row_groups(
        list(piece.row_groups), use_threads=False
    )
    n, keys = table.num_rows, dict(piece.partition)
    arrays = []
    for field in schema:
        if field.name == source_row:
            numbers = np.arange(piece.start + 1, piece.start + n + 1, dtype=np.int64)
            arrays.append(pa.array(numbers).cast(field.type))
        elif field.name in keys:
            text = pa.array([keys[field.name]] * n, pa.string())
            arrays.append(text.cast(field.type))
        elif field.name in table.column_names:
            column = table.column(field.name).combine_chunks()
            # Spark's types come from these files: only a timestamp's unit
            # may be finer here (Spark keeps microseconds)
            safe = not pa.types.is_timestamp(field.type)
            arrays.append(column.cast(field.type, safe=safe))
        else:
            arrays.append(pa.nulls(n, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


@dataclasses.dataclass(frozen=True)
class ReadPieces:
    """A task over pieces of local Parquet files (``spark.range`` ids into
    ``pieces``): read with Arrow, no row through Spark; then as
    :class:`Scatter`."""

    pieces: tuple[Piece, ...]
    schemas: dict[str, pa.Schema]
    buckets: int
    root: str
    source_row: str

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        task = _task_number()
        writers: dict[str, _Writer] = {}
        for batch in batches:
            for i in batch.column(0).to_pylist():
                piece = self.pieces[int(i)]
                if piece.table not in writers:
                    writers[piece.table] = _Writer(
                        piece.table, self.buckets, self.root, task
                    )
                schema = self.schemas[piece.table]
                writers[piece.table].add(read_piece(piece, schema, self.source_row))
        yield _report(list(writers.values()))


def _distinct_text(values: pa.ChunkedArray) -> set[str]:
    """Distinct values as one machine's :func:`last_period_of` reads them."""
    unique = pc.unique(values.combine_chunks())
    text = pd.Series(unique.to_pandas()).astype("string")
    return {str(v) for v in text.dropna()}


def read_bucket(root: str, bucket: int, name: str, schema: pa.Schema) -> pa.Table:
    """A table's rows in a bucket, from the files the scatter wrote."""
    folder = _bucket_dir(root, bucket)
    files = sorted(folder.glob(f"{name}-*.arrow")) if folder.is_dir() else []
    if not files:
        return schema.empty_table()
    parts = [feather.read_table(str(f)).cast(schema) for f in files]
    return pa.concat_tables(parts)


def _part_path(root: str, kind: str, bucket: int, for_spark: bool) -> Path:
    folder = Path(root) / kind
    if for_spark:  # a Hive directory per bucket: Spark reads ROOT/KIND whole
        return folder / f"bucket={bucket}" / "part.parquet"
    return folder / f"{bucket:05d}.arrow"


def write_part(
    root: str, kind: str, bucket: int, table: pa.Table, *, for_spark: bool = True
) -> None:
    """A bucket's part of ``kind``: ``ROOT/KIND/bucket=N/part.parquet``, which
    Spark reads as one table with ``bucket`` from the directory names; or,
    when only the tasks read it back (``for_spark=False``), an uncompressed
    Arrow file, several times faster to write and read. A rewrite of the
    same bucket replaces its file.
    """
    target = _part_path(root, kind, bucket, for_spark)
    target.parent.mkdir(parents=True, exist_ok=True)
    if for_spark:
        temporary = target.parent / f".{target.name}-{uuid.uuid4().hex}"
        pq.write_table(table, str(temporary))
        os.replace(temporary, target)
    else:
        _write_arrow(table, target)


def _write_arrow(table: pa.Table, target: Path) -> None:
    """An uncompressed Arrow file, in place whole or not at all (a retried or
    speculative task's copy replaces it, never truncates it)."""
    temporary = target.parent / f".{target.name}-{uuid.uuid4().hex}"
    feather.write_feather(table, str(temporary), compression="uncompressed")
    os.replace(temporary, target)


def read_part(
    root: str, kind: str, bucket: int, schema: pa.Schema, *, for_spark: bool = True
) -> pa.Table:
    """What :func:`write_part` wrote for a bucket (no rows if nothing)."""
    path = _part_path(root, kind, bucket, for_spark)
    if not path.is_file():
        return schema.empty_table()
    if for_spark:
        return pq.read_table(str(path), schema=schema)
    return feather.read_table(str(path)).cast(schema)


def spark_parts(
    spark: SparkSession, root: str | Path, kind: str, schema: T.StructType
) -> DataFrame:
    """Every bucket's :func:`write_part` of ``kind`` as one Spark DataFrame,
    with ``bucket``. The schema is given, so Spark runs no job to infer it;
    no rows (and no task) if no bucket wrote one."""
    folder = Path(root) / kind
    fields = [*schema.fields, T.StructField("bucket", T.IntegerType())]
    if not any(folder.glob("bucket=*/part.parquet")):
        # no partitions: a list would start Python workers for nothing
        nothing = spark.sparkContext.emptyRDD()
        return spark.createDataFrame(nothing, T.StructType(fields))
    return spark.read.schema(T.StructType(fields)).parquet(str(folder))
