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
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather
import pyarrow.parquet as pq

from anxin._checks import arrow_text

__all__ = ["Scatter", "bucket_ids", "read_bucket", "read_part", "write_part"]

#: Rows a scatter task holds before writing its buckets' files.
FLUSH_ROWS = 2_000_000
#: Per-position multipliers of the id hash (odd, fixed: buckets never move).
_WEIGHTS = np.random.default_rng(20261130).integers(
    1, 2**63, 64, dtype=np.uint64
) | np.uint64(1)


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


def _bucket_dir(root: str, bucket: int) -> Path:
    return Path(root) / f"{bucket:05d}"


@dataclasses.dataclass(frozen=True)
class Scatter:
    """A task over a table's split: its rows to their buckets' files.

    Yields one row per bucket written (``bucket``, ``rows``) and, for the
    payroll, the distinct periods it saw as text (``period``).
    """

    name: str
    buckets: int
    root: str

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        context = TaskContext.get()
        task = context.partitionId() if context is not None else 0
        pending: list[pa.Table] = []
        held, flushes = 0, 0
        counts = np.zeros(self.buckets, dtype=np.int64)
        periods: set[str] = set()
        for batch in batches:
            if batch.num_rows == 0:
                continue
            table = pa.Table.from_batches([batch])
            if self.name == "payroll":
                periods |= _distinct_text(table.column("period"))
            pending.append(table)
            held += batch.num_rows
            if held >= FLUSH_ROWS:
                counts += self._flush(pending, f"{task}-{flushes}")
                pending, held, flushes = [], 0, flushes + 1
        if pending:
            counts += self._flush(pending, f"{task}-{flushes}")
        hit = np.flatnonzero(counts)
        texts = sorted(periods)
        yield pa.RecordBatch.from_pydict(
            {
                "table": [self.name] * (hit.size + len(texts)),
                "bucket": [int(b) for b in hit] + [None] * len(texts),
                "rows": [int(counts[b]) for b in hit] + [None] * len(texts),
                "period": [None] * hit.size + texts,
            },
            schema=SCATTER_SCHEMA,
        )

    def _flush(self, pending: list[pa.Table], tag: str) -> np.ndarray:
        table = pa.concat_tables(pending).combine_chunks()
        bucket = bucket_ids(table.column("enterprise_id"), self.buckets)
        order = np.argsort(bucket, kind="stable")
        table = table.take(pa.array(order))
        bounds = np.searchsorted(bucket[order], np.arange(self.buckets + 1))
        counts = np.diff(bounds)
        for b in np.flatnonzero(counts):
            part = table.slice(int(bounds[b]), int(counts[b]))
            folder = _bucket_dir(self.root, int(b))
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{self.name}-{tag}.arrow"
            feather.write_feather(part, str(target), compression="uncompressed")
        return counts


SCATTER_SCHEMA = pa.schema(
    [
        ("table", pa.string()),
        ("bucket", pa.int32()),
        ("rows", pa.int64()),
        ("period", pa.string()),
    ]
)


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


def write_part(root: str, kind: str, bucket: int, table: pa.Table) -> None:
    """A bucket's part of ``kind`` as ``ROOT/KIND/bucket=N/part.parquet``.

    Spark reads ``ROOT/KIND`` as one table (``bucket`` from the directory
    names); a rewrite of the same bucket replaces its file.
    """
    folder = Path(root) / kind / f"bucket={bucket}"
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".part-{os.getpid()}.parquet"
    pq.write_table(table, str(temporary))
    os.replace(temporary, folder / "part.parquet")


def read_part(root: str, kind: str, bucket: int, schema: pa.Schema) -> pa.Table:
    """What :func:`write_part` wrote for a bucket (no rows if nothing)."""
    path = Path(root) / kind / f"bucket={bucket}" / "part.parquet"
    if not path.is_file():
        return schema.empty_table()
    return pq.read_table(str(path), schema=schema)
