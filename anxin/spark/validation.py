"""The contract on Spark: every bucket of enterprises validated by
:func:`anxin.validation.validate_part`, the same code one machine runs.

Rows are sent to buckets by a hash of their enterprise code, so every row of
an enterprise -- its enterprises row and all its monthly rows -- is in one
bucket: that shuffle is the join the cross-table rules need
(``known_enterprise``, ``period_not_before_established``), and the repeated
keys of ``duplicate_key`` meet there too. The one figure a bucket cannot
know, the extract's last payroll month (``established_not_after_last_period``),
is computed once by Spark and handed to every bucket. Rules, rule codes,
report columns and messages are therefore one machine's; ``source_row`` is
the row's place in its table as read (see :mod:`anxin.spark.tables`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from anxin._contract_errors import check_columns, no_rows_error, no_valid_rows_error
from anxin._peers import Population
from anxin.config import config_context, get_config
from anxin.features import peer_totals
from anxin.schemas import REQUIRED_TABLES, SCHEMAS, TABLE_NAMES
from anxin.spark._compat import arrow_schema as arrow_of
from anxin.spark._compat import (
    arrow_to_frame,
    collect,
    frame_to_arrow,
    quiet_logs,
    spark_type,
)
from anxin.spark._pack import BUCKET, KIND, Layout, quoted
from anxin.spark.tables import SOURCE_ROW, SparkTables, bucket_of
from anxin.tables import Tables
from anxin.validation import QUARANTINE_COLUMNS, last_period_of, validate_part

__all__ = ["SparkValidation", "validate"]

logger = logging.getLogger(__name__)

#: Enterprises per bucket when the number of buckets is not given: 1 M
#: enterprises in 80 buckets took 485 s in local[2], in 20 buckets 1,014 s,
#: with half the memory per Python worker (benchmarks/README.md).
ENTERPRISES_PER_BUCKET = 12_500

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


@dataclasses.dataclass(frozen=True)
class _ValidateBucket:
    """What one bucket's task runs (shipped to the executors)."""

    inputs: Layout
    outputs: Layout
    present: tuple[str, ...]
    last_period: str | None
    today: str
    period_floor: str
    peers: bool

    def __call__(self, key: tuple[Any, ...], table: pa.Table) -> pa.Table:
        quiet_logs()
        bucket = int(key[0].as_py())
        parts = self.inputs.split(table)
        frames: dict[str, pd.DataFrame | None] = dict.fromkeys(TABLE_NAMES)
        rows: dict[str, pa.Table] = {}
        for name in self.present:
            rows[name] = parts[name].sort_by(SOURCE_ROW)
            frames[name] = arrow_to_frame(rows[name].drop_columns([SOURCE_ROW]))
        with config_context(today=self.today, period_floor=self.period_floor):
            report = validate_part(Tables(**frames), last_period=self.last_period)  # type: ignore[arg-type]
        out: dict[str, pa.Table] = {}
        quarantine = report.quarantine.copy()
        for name in self.present:
            order = rows[name].column(SOURCE_ROW).to_numpy()
            valid = report.tables[name]
            assert valid is not None
            schema = self.outputs.schemas[f"valid:{name}"]
            out[f"valid:{name}"] = frame_to_arrow(
                valid[schema.fieldNames()], arrow_of(schema)
            )
            local = report.quarantined_rows[name]["source_row"].to_numpy(np.int64)
            out[f"rejected:{name}"] = rows[name].take(pa.array(local - 1))
            mine = (quarantine["table"] == name).to_numpy()
            if mine.any():
                at = quarantine.loc[mine, "source_row"].to_numpy(np.int64) - 1
                quarantine.loc[mine, "source_row"] = order[at]
        out["quarantine"] = frame_to_arrow(
            quarantine[QUARANTINE_COLUMNS], arrow_of(QUARANTINE_SCHEMA)
        )
        payroll, firms = report.tables.payroll, report.tables.enterprises
        if self.peers and len(payroll) and len(firms):
            out["peers"] = frame_to_arrow(
                peer_totals(report.tables), arrow_of(PEERS_SCHEMA)
            )
        return self.outputs.join(out, bucket)


@dataclasses.dataclass
class SparkValidation:
    """What :func:`validate` found, kept on Spark.

    Attributes
    ----------
    packed : DataFrame
        Every bucket's outcome (valid rows, breaches, quarantined rows, peer
        sums) in one DataFrame laid out by ``layout``; read the parts with
        :meth:`valid`, :attr:`quarantine`, :meth:`rejected`.
    layout : Layout
    buckets : int
    rows_in, rows_valid : dict
        Table -> row counts over the whole extract.
    absent_tables : list
    sources : dict
    last_period : str or None
        The extract's last well-formed payroll month (as given).
    """

    packed: DataFrame
    layout: Layout
    buckets: int
    rows_in: dict[str, int]
    rows_valid: dict[str, int]
    absent_tables: list[str]
    sources: dict[str, str]
    last_period: str | None

    @property
    def n_quarantined(self) -> int:
        """Rows quarantined over all tables."""
        return sum(self.rows_in[t] - self.rows_valid[t] for t in self.rows_in)

    def valid(self, name: str) -> DataFrame:
        """The valid rows of a table (contract columns and types) with ``_bucket``."""
        return self._with_bucket(f"valid:{name}")

    def _with_bucket(self, kind: str) -> DataFrame:
        slots = self.layout.slots[kind]
        names = self.layout.schemas[kind].fieldNames()
        return self.packed.where(F.col(KIND) == self.layout.kinds.index(kind)).select(
            F.col(BUCKET),
            *[F.col(s).alias(n) for s, n in zip(slots, names, strict=True)],
        )

    @property
    def quarantine(self) -> DataFrame:
        """One row per breach (:data:`anxin.validation.QUARANTINE_COLUMNS`), in
        one machine's order: table, then row, column and rule."""
        order = F.create_map(
            *[x for i, n in enumerate(TABLE_NAMES) for x in (F.lit(n), F.lit(i))]
        )
        return self.layout.unpack(self.packed, "quarantine").orderBy(
            order[F.col("table")],
            F.col("source_row").asc_nulls_last(),
            F.col("column").asc_nulls_last(),
            F.col("rule").asc_nulls_last(),
        )

    def rejected(self, name: str) -> DataFrame:
        """A table's quarantined rows as read, with ``source_row``, in order."""
        part = self.layout.unpack(self.packed, f"rejected:{name}")
        columns = [c for c in part.columns if c != SOURCE_ROW]
        return part.select(
            F.col(SOURCE_ROW).alias("source_row"), *[quoted(c) for c in columns]
        ).orderBy("source_row")

    def counts(self) -> pd.DataFrame:
        """Breaches and distinct rows per table and rule (as one machine's)."""
        q = self.layout.unpack(self.packed, "quarantine")
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
        payroll = self._with_bucket("valid:payroll")
        bounds = payroll.agg(F.min("period"), F.max("period")).collect()[0]
        peers = collect(
            self.layout.unpack(self.packed, "peers")
            .groupBy("industry", "region", "period", "k")
            .agg(F.sum("total").alias("total"), F.sum("count").alias("count"))
        )
        return Population(str(bounds[0]), str(bounds[1]), peers)


def _shown(tables: SparkTables, name: str) -> str:
    """A table's source as one machine names it (the file name of a path)."""
    where = tables.sources[name]
    return where.rstrip("/").rsplit("/", 1)[-1] if "/" in where else where


def _buckets(tables: SparkTables, buckets: int | None) -> int:
    if buckets is not None:
        return int(buckets)
    n = tables.rows.get("enterprises") or tables.frames["enterprises"].count()
    cores = tables.spark.sparkContext.defaultParallelism
    return max(2 * cores, math.ceil(n / ENTERPRISES_PER_BUCKET))


def _layouts(tables: SparkTables) -> tuple[Layout, Layout]:
    inputs = Layout.of({n: tables.frames[n].schema for n in tables.present()})
    kinds: dict[str, T.StructType] = {}
    for name in tables.present():
        kinds[f"valid:{name}"] = contract_schema(name)
    kinds["quarantine"] = QUARANTINE_SCHEMA
    for name in tables.present():
        kinds[f"rejected:{name}"] = tables.frames[name].schema
    kinds["peers"] = PEERS_SCHEMA
    return inputs, Layout.of(kinds)


def validate(
    tables: SparkTables, *, buckets: int | None = None, work_dir: str | None = None
) -> SparkValidation:
    """Validate the tables against the contract on Spark, quarantining bad rows.

    Parameters
    ----------
    tables : SparkTables
        From :func:`anxin.spark.load_tables`.
    buckets : int, optional
        Enterprise-hash buckets (tasks); default one per 12,500 enterprises,
        at least two per core.
    work_dir : str, optional
        Where to keep the outcome (Parquet); default: Spark's cache.

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
    periods = collect(tables.frames["payroll"].select("period").distinct())
    last = last_period_of(periods)
    n_buckets = _buckets(tables, buckets)
    inputs, outputs = _layouts(tables)
    packed_in = None
    for name in tables.present():
        df = tables.frames[name]
        part = inputs.pack(name, df, bucket_of(n_buckets))
        packed_in = part if packed_in is None else packed_in.unionByName(part)
    assert packed_in is not None
    config = get_config()
    task = _ValidateBucket(
        inputs, outputs, tables.present(), last, config.today, config.period_floor, True
    )

    def run(key: tuple[Any, ...], table: pa.Table) -> pa.Table:
        return task(key, table)

    grouped = packed_in.repartition(n_buckets, BUCKET).groupBy(BUCKET)
    result = grouped.applyInArrow(run, outputs.schema())
    if work_dir is not None:
        result.write.mode("overwrite").parquet(work_dir)
        result = spark.read.parquet(work_dir)
    else:
        result = result.persist(StorageLevel.MEMORY_AND_DISK)
    by_kind = {int(r[0]): int(r[1]) for r in result.groupBy(KIND).count().collect()}
    rows_valid = {
        n: int(by_kind.get(outputs.kinds.index(f"valid:{n}"), 0))
        for n in tables.present()
    }
    rows_in = {
        n: rows_valid[n] + int(by_kind.get(outputs.kinds.index(f"rejected:{n}"), 0))
        for n in tables.present()
    }
    for name in REQUIRED_TABLES:
        if rows_in[name] == 0:
            raise no_rows_error(name, _shown(tables, name))
    out = SparkValidation(
        packed=result,
        layout=outputs,
        buckets=n_buckets,
        rows_in=rows_in,
        rows_valid=rows_valid,
        absent_tables=[n for n in TABLE_NAMES if n not in tables.frames],
        sources=dict(tables.sources),
        last_period=last,
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
