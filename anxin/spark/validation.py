"""The contract on Spark: every bucket of enterprises validated by
:func:`anxin.validation.validate_part`, the same code one machine runs.

Rows are sent to buckets by a hash of their enterprise code
(:mod:`anxin.spark._buckets`), so every row of an enterprise -- its
enterprises row and all its monthly rows -- is in one bucket: that is the
join the cross-table rules need (``known_enterprise``,
``period_not_before_established``), and the repeated keys of
``duplicate_key`` meet there too. The one figure a bucket cannot know, the
extract's last payroll month (``established_not_after_last_period``), is
found while the rows are scattered and handed to every bucket. Rules, rule
codes, report columns and messages are therefore one machine's;
``source_row`` is the row's place in its table as read (see
:mod:`anxin.spark.tables`).

Each bucket's outcome is written by its task as Parquet under the work
directory (``valid/NAME``, ``rejected/NAME``, ``quarantine``, ``peers``,
one file per bucket): the feature step reads a bucket's valid rows from
there directly, and Spark reads each kind as one table.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from anxin._contract_errors import check_columns, no_rows_error, no_valid_rows_error
from anxin._peers import Population
from anxin.config import config_context, get_config
from anxin.exceptions import InvalidParameterError
from anxin.features import peer_totals
from anxin.schemas import REQUIRED_TABLES, SCHEMAS, TABLE_NAMES
from anxin.spark._buckets import (
    ENTERPRISES_PER_BUCKET,
    Piece,
    ReadPieces,
    Scatter,
    each_number,
    even_buckets,
    numbers,
    pieces_of,
    read_bucket,
    read_part,
    spark_parts,
    write_part,
)
from anxin.spark._compat import arrow_schema as arrow_of
from anxin.spark._compat import (
    arrow_to_frame,
    collect,
    frame_to_arrow,
    spark_type,
)
from anxin.spark.tables import BUCKET, SOURCE_ROW, SparkTables, quoted
from anxin.tables import Tables
from anxin.validation import QUARANTINE_COLUMNS, last_period_of, validate_part

__all__ = ["ENTERPRISES_PER_BUCKET", "SparkValidation", "even_buckets", "validate"]

logger = logging.getLogger(__name__)

#: Rows of a local Parquet table one task reads (whole row groups).
ROWS_PER_PIECE = 1_000_000

QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("table", T.StringType()),
        T.StructField("source_row", T.LongType()),
        T.StructField("source_line", T.LongType()),
        T.StructField("enterprise_id", T.StringType()),
        T.StructField("column", T.StringType()),
        T.StructField("value", T.StringType()),
        T.StructField("rule", T.StringType()),
    ]
)
PEERS_SCHEMA = T.StructType(
    [
        T.StructField("industry", T.StringType()),
        T.StructField("region", T.StringType()),
        T.StructField("period", T.StringType()),
        T.StructField("k", T.LongType()),
        T.StructField("total", T.LongType()),
        T.StructField("count", T.LongType()),
    ]
)


def contract_schema(name: str) -> T.StructType:
    """The Spark schema of a table's valid rows (its contract columns)."""
    columns = SCHEMAS[name].to_schema().columns
    return T.StructType(
        [T.StructField(c, spark_type(col.dtype)) for c, col in columns.items()]
    )


_SCATTERED = T.StructType(
    [
        T.StructField("table", T.StringType()),
        T.StructField("bucket", T.IntegerType()),
        T.StructField("rows", T.LongType()),
        T.StructField("period", T.StringType()),
        T.StructField("int_with_nulls", T.StringType()),
    ]
)


#: What each bucket's validation task reports to the driver.
_COUNTS = T.StructType(
    [
        T.StructField("bucket", T.IntegerType()),
        T.StructField("table", T.StringType()),
        T.StructField("valid", T.LongType()),
        T.StructField("rejected", T.LongType()),
        T.StructField("first", T.StringType()),
        T.StructField("last", T.StringType()),
    ]
)


@dataclasses.dataclass(frozen=True)
class _ValidateBucket:
    """What one bucket's task runs (shipped to the executors): read the
    bucket's rows from the scatter files, validate them with one machine's
    code, write the parts under ``root`` (:func:`write_part`)."""

    inputs: dict[str, pa.Schema]
    scattered: str
    root: str
    last_period: str | None
    today: str
    period_floor: str

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return each_number(batches, self.bucket)

    # long: one bucket's validation, then each part written in its place
    def bucket(self, bucket: int) -> pa.RecordBatch:
        frames: dict[str, pd.DataFrame | None] = dict.fromkeys(TABLE_NAMES)
        rows: dict[str, pa.Table] = {}
        for name, schema in self.inputs.items():
            read = read_bucket(self.scattered, bucket, name, schema)
            rows[name] = read.sort_by(SOURCE_ROW)
            frames[name] = arrow_to_frame(rows[name].drop_columns([SOURCE_ROW]))
        with config_context(today=self.today, period_floor=self.period_floor):
            report = validate_part(Tables(**frames), last_period=self.last_period)  # type: ignore[arg-type]
        quarantine = report.quarantine.copy()
        counts: dict[str, list[Any]] = {c: [] for c in _COUNTS.fieldNames()}
        for name in self.inputs:
            order = rows[name].column(SOURCE_ROW).to_numpy()
            valid = report.tables[name]
            assert valid is not None
            schema = contract_schema(name)
            write_part(
                self.root,
                f"valid/{name}",
                bucket,
                frame_to_arrow(valid[schema.fieldNames()], arrow_of(schema)),
                for_spark=False,  # the feature step's tasks read it
            )
            local = report.quarantined_rows[name]["source_row"].to_numpy(np.int64)
            if local.size:
                rejected = rows[name].take(pa.array(local - 1))
                write_part(self.root, f"rejected/{name}", bucket, rejected)
            mine = (quarantine["table"] == name).to_numpy()
            if mine.any():
                at = quarantine.loc[mine, "source_row"].to_numpy(np.int64) - 1
                quarantine.loc[mine, "source_row"] = order[at]
            periods = valid["period"] if name == "payroll" and len(valid) else None
            for key, value in (
                ("bucket", bucket),
                ("table", name),
                ("valid", len(valid)),
                ("rejected", int(local.size)),
                ("first", None if periods is None else str(periods.min())),
                ("last", None if periods is None else str(periods.max())),
            ):
                counts[key].append(value)
        if len(quarantine):
            write_part(
                self.root,
                "quarantine",
                bucket,
                frame_to_arrow(
                    quarantine[QUARANTINE_COLUMNS], arrow_of(QUARANTINE_SCHEMA)
                ),
            )
        payroll, firms = report.tables.payroll, report.tables.enterprises
        if len(payroll) and len(firms):
            peers = peer_totals(report.tables)
            write_part(
                self.root,
                "peers",
                bucket,
                frame_to_arrow(peers, arrow_of(PEERS_SCHEMA)),
            )
        return pa.RecordBatch.from_pydict(counts, schema=arrow_of(_COUNTS))


@dataclasses.dataclass(frozen=True)
class _ValidPart:
    """A task reading the valid rows of a table that buckets' tasks kept."""

    root: str
    name: str
    schema: pa.Schema

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return each_number(batches, self.bucket)

    def bucket(self, bucket: int) -> pa.Table:
        kind = f"valid/{self.name}"
        part = read_part(self.root, kind, bucket, self.schema, for_spark=False)
        tag = pa.array(np.full(part.num_rows, bucket, dtype=np.int32))
        return part.append_column(BUCKET, tag)


@dataclasses.dataclass
class SparkValidation:
    """What :func:`validate` found, kept in files Spark reads.

    Attributes
    ----------
    root : str
        The directory of the parts, one Parquet file per bucket and kind:
        ``valid/NAME``, ``rejected/NAME``, ``quarantine``, ``peers``; read
        them with :meth:`valid`, :attr:`quarantine`, :meth:`rejected`.
    spark : SparkSession
    buckets : int
    rows_in, rows_valid : dict
        Table -> row counts over the whole extract.
    absent_tables : list
    sources : dict
    last_period : str or None
        The extract's last well-formed payroll month (as given).
    payroll_months : tuple
        The first and last month of the valid payroll rows.
    schemas : dict
        Table -> its Spark schema as read (with ``_source_row``).
    int_with_nulls : dict
        Table -> its integer columns with a missing value, for the tables
        that have one (one machine's pandas reads those as float, unless
        the file's pandas metadata says ``Int64``).
    """

    root: str
    spark: SparkSession
    buckets: int
    rows_in: dict[str, int]
    rows_valid: dict[str, int]
    absent_tables: list[str]
    sources: dict[str, str]
    last_period: str | None
    payroll_months: tuple[str | None, str | None] = (None, None)
    schemas: dict[str, T.StructType] = dataclasses.field(default_factory=dict)
    int_with_nulls: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    @property
    def n_quarantined(self) -> int:
        """Rows quarantined over all tables."""
        return sum(self.rows_in[t] - self.rows_valid[t] for t in self.rows_in)

    def _check_root(self) -> None:
        if not Path(self.root).is_dir():
            raise FileNotFoundError(
                f"{self.root}: this validation's files are gone (anxin.spark."
                "score removes its work directory when the month is written). "
                "Read the month's summary.json and quarantine files instead, or "
                "call anxin.spark.validate yourself."
            )

    def _read(self, kind: str, schema: T.StructType) -> DataFrame:
        """A kind's parts with ``_bucket`` (no rows if no bucket wrote one)."""
        self._check_root()
        frame = spark_parts(self.spark, self.root, kind, schema)
        return frame.withColumnRenamed("bucket", BUCKET)

    def valid(self, name: str) -> DataFrame:
        """The valid rows of a table (contract columns and types) with ``_bucket``."""
        self._check_root()
        schema = contract_schema(name)
        task = _ValidPart(self.root, name, arrow_of(schema))

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            return task(batches)

        with_bucket = T.StructType(
            [*schema.fields, T.StructField(BUCKET, T.IntegerType())]
        )
        return numbers(self.spark, self.buckets).mapInArrow(run, with_bucket)

    @property
    def quarantine(self) -> DataFrame:
        """One row per breach (:data:`anxin.validation.QUARANTINE_COLUMNS`), in
        one machine's order: table, then row, column and rule."""
        order = F.create_map(
            *[x for i, n in enumerate(TABLE_NAMES) for x in (F.lit(n), F.lit(i))]
        )
        return (
            self._read("quarantine", QUARANTINE_SCHEMA)
            .drop(BUCKET)
            .orderBy(
                order[F.col("table")],
                F.col("source_row").asc_nulls_last(),
                F.col("column").asc_nulls_last(),
                F.col("rule").asc_nulls_last(),
            )
        )

    def rejected(self, name: str) -> DataFrame:
        """A table's quarantined rows as read, with ``source_row``, in order."""
        part = self._read(f"rejected/{name}", self.schemas[name]).drop(BUCKET)
        columns = [c for c in part.columns if c != SOURCE_ROW]
        return part.select(
            F.col(SOURCE_ROW).alias("source_row"), *[quoted(c) for c in columns]
        ).orderBy("source_row")

    def counts(self) -> pd.DataFrame:
        """Breaches and distinct rows per table and rule (as one machine's)."""
        q = self._read("quarantine", QUARANTINE_SCHEMA)
        out = collect(
            q.groupBy("table", "rule").agg(
                F.count(F.lit(1)).alias("breaches"),
                F.countDistinct("source_row").alias("rows"),
            )
        )
        if out.empty:
            return pd.DataFrame(columns=["table", "rule", "breaches", "rows"])
        return out.sort_values(["table", "rule"], ignore_index=True)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary, as :meth:`anxin.ValidationReport.summary`."""
        return {
            "rows_in": self.rows_in,
            "rows_valid": self.rows_valid,
            "rows_quarantined": {
                t: self.rows_in[t] - self.rows_valid[t] for t in self.rows_in
            },
            "breaches_by_rule": [
                {k: (int(v) if hasattr(v, "item") else v) for k, v in rec.items()}
                for rec in self.counts().to_dict("records")
            ],
            "extra_columns": {},
            "absent_tables": self.absent_tables,
            "recoded_lines": {},
        }

    def population(self) -> Population:
        """The payroll months and peer sums of the whole extract."""
        peers = collect(
            self._read("peers", PEERS_SCHEMA)
            .groupBy("industry", "region", "period", "k")
            .agg(F.sum("total").alias("total"), F.sum("count").alias("count"))
        )
        first, last = self.payroll_months
        return Population(str(first), str(last), peers)


def _shown(tables: SparkTables, name: str) -> str:
    """A table's source as one machine names it (the file name of a path)."""
    where = tables.sources[name]
    return where.rstrip("/").rsplit("/", 1)[-1] if "/" in where else where


def _local_pieces(tables: SparkTables) -> dict[str, list[Piece]]:
    """The tables that are local Parquet, in pieces of about
    :data:`ROWS_PER_PIECE` rows (their tasks read them with Arrow)."""
    out = {}
    for name in tables.present():
        if all(f.startswith("file:") for f in tables.frames[name].inputFiles()):
            pieces = pieces_of(name, tables.sources[name], ROWS_PER_PIECE)
            if pieces is not None:
                out[name] = pieces
    return out


def _buckets(
    tables: SparkTables, buckets: int | None, local: dict[str, list[Piece]]
) -> int:
    if buckets is not None:
        return int(buckets)
    n = tables.rows.get("enterprises")
    if n is None and "enterprises" in local:  # the files' footers say
        n = sum(p.rows for p in local["enterprises"])
    if n is None:
        n = tables.frames["enterprises"].count()
    return even_buckets(n, tables.spark.sparkContext.defaultParallelism)


def _scatter(
    tables: SparkTables, n_buckets: int, root: str, local: dict[str, list[Piece]]
) -> pd.DataFrame:
    """Every table's rows to their buckets' files; what each task wrote.

    The ``local`` tables' pieces are read by the tasks with Arrow; other
    sources (metastore tables, remote paths) as Spark reads them.
    """
    spark = tables.spark
    schemas = {n: arrow_of(tables.frames[n].schema) for n in tables.present()}
    parts, pieces = [], []
    for name in tables.present():
        if name in local:
            pieces += local[name]
            continue
        scatter = Scatter(name, n_buckets, root)

        def run(
            batches: Iterator[pa.RecordBatch], task: Scatter = scatter
        ) -> Iterator[pa.RecordBatch]:
            return task(batches)

        parts.append(tables.frames[name].mapInArrow(run, _SCATTERED))
    if pieces:
        reader = ReadPieces(tuple(pieces), schemas, n_buckets, root, SOURCE_ROW)

        def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            return reader(batches)

        parts.append(numbers(spark, len(pieces)).mapInArrow(read, _SCATTERED))
    if not parts:  # Parquet files without row groups
        return pd.DataFrame(columns=[f.name for f in _SCATTERED.fields])
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    return collect(union)


def _work_root(spark: SparkSession, work_dir: str | None) -> str:
    """An empty directory for the buckets' files (absolute: tasks have
    their own working directories)."""
    if work_dir is None:
        if not str(spark.sparkContext.master).startswith("local"):
            raise InvalidParameterError(
                "anxin.spark.validate: give work_dir, a directory on storage "
                "the driver and every executor share (a temporary directory "
                "of the driver's only works in local mode)."
            )
        root = tempfile.mkdtemp(prefix="anxin-spark-")
        # lazy DataFrames read it: kept while the driver runs
        atexit.register(shutil.rmtree, root, True)
        return root
    path = Path(work_dir).absolute()
    if path.exists() and any(path.iterdir()):
        raise InvalidParameterError(
            f"anxin.spark.validate: work_dir {str(path)!r} is not empty; the "
            "buckets' files of another run would mix in. Give an empty or "
            "new directory."
        )
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def _check_counts(written: pd.DataFrame, counts: pd.DataFrame, root: str) -> None:
    """Every row scattered to a bucket was read back there, else the
    executors do not share ``root`` (nothing may go missing silently)."""
    sent = written.groupby(["table", "bucket"])["rows"].sum()
    seen = counts.assign(rows=counts["valid"] + counts["rejected"])
    got = seen.groupby(["table", "bucket"])["rows"].sum()
    both = pd.concat([sent.rename("sent"), got.rename("got")], axis=1).fillna(0)
    lost = both[both["sent"] != both["got"]]
    if len(lost):
        first = lost.reset_index().iloc[0]
        raise OSError(
            f"{first['table']}: bucket {int(first['bucket'])} was sent "
            f"{int(first['sent'])} rows but its task read {int(first['got'])} "
            f"from {root}. The work directory "
            "must be on storage the driver and every executor share."
        )


def validate(
    tables: SparkTables, *, buckets: int | None = None, work_dir: str | None = None
) -> SparkValidation:
    """Validate the tables against the contract on Spark, quarantining bad rows.

    Parameters
    ----------
    tables : SparkTables
        From :func:`anxin.spark.load_tables`.
    buckets : int, optional
        Enterprise-hash buckets (tasks); default about one per 12,500
        enterprises, at least two per core, as many for each task
        (:func:`even_buckets`).
    work_dir : str, optional
        Where to keep the outcome (Parquet files); a directory every
        executor reads and writes. Default: a temporary directory of the
        driver's (enough in local mode), removed when the driver exits
        (the DataFrames read from it lazily).

    Returns
    -------
    SparkValidation

    Raises
    ------
    ContractError
        If a table lacks a contract column, a required table has no rows or
        none of its rows is valid (the messages of :func:`anxin.validate`).
    """
    for name in tables.present():
        check_columns(name, _shown(tables, name), tables.columns(name))
    spark = tables.spark
    local = _local_pieces(tables)
    n_buckets = _buckets(tables, buckets, local)
    root = _work_root(spark, work_dir)
    scattered = str(Path(root) / "scattered")
    written = _scatter(tables, n_buckets, scattered, local)
    periods = written.loc[written["period"].notna(), ["period"]]
    last = last_period_of(periods.astype({"period": "string"}))
    flagged = written[written["int_with_nulls"].notna()]
    int_with_nulls = {
        str(t): sorted(set(part["int_with_nulls"]))
        for t, part in flagged.groupby("table")
    }
    written = written[written["bucket"].notna()]
    rows_in = {n: 0 for n in tables.present()}
    for table, rows in written.groupby("table")["rows"].sum().items():
        rows_in[str(table)] = int(rows)
    for name in REQUIRED_TABLES:
        if rows_in[name] == 0:
            raise no_rows_error(name, _shown(tables, name))
    config = get_config()
    task = _ValidateBucket(
        {n: arrow_of(tables.frames[n].schema) for n in tables.present()},
        scattered,
        root,
        last,
        config.today,
        config.period_floor,
    )

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return task(batches)

    hit = sorted({int(b) for b in written["bucket"]})
    ids = numbers(spark, n_buckets).where(F.col("id").isin(hit))
    counts = collect(ids.mapInArrow(run, _COUNTS))
    shutil.rmtree(scattered, ignore_errors=True)
    _check_counts(written, counts, root)
    sums = counts.groupby("table")[["valid", "rejected"]].sum()
    rows_valid = {n: int(sums["valid"].get(n, 0)) for n in tables.present()}
    payroll = counts[counts["table"] == "payroll"]
    out = SparkValidation(
        root=root,
        spark=spark,
        buckets=n_buckets,
        rows_in=rows_in,
        rows_valid=rows_valid,
        absent_tables=[n for n in TABLE_NAMES if n not in tables.frames],
        sources=dict(tables.sources),
        last_period=last,
        payroll_months=(payroll["first"].min(), payroll["last"].max()),
        schemas={n: tables.frames[n].schema for n in tables.present()},
        int_with_nulls=int_with_nulls,
    )
    for name in REQUIRED_TABLES:
        if rows_valid[name] == 0:
            counts = out.counts()
            top = (
                counts[counts["table"] == name]
                .sort_values("breaches", ascending=False, kind="stable")
                .head(3)
            )
            raise no_valid_rows_error(
                name,
                _shown(tables, name),
                rows_in[name],
                dict(zip(top["rule"], top["breaches"].astype(int), strict=True)),
            )
    logger.info(
        "validated on %d buckets: %d rows quarantined", n_buckets, out.n_quarantined
    )
    return out
