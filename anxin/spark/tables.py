"""Contract tables on Spark: from Parquet paths, partitioned datasets or the
metastore, each row numbered as it was read.

:func:`load_tables` gives a :class:`SparkTables`: one Spark DataFrame per
table, as given (validation comes next), with ``_source_row``, the 1-based
row of the table as read. For Parquet that is the row's place in its file
(files in path order), which is what one machine reports for the same file,
so quarantine reports match line for line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from anxin.exceptions import ContractError
from anxin.schemas import REQUIRED_TABLES, TABLE_NAMES
from anxin.spark.session import spark_session

__all__ = [
    "BUCKET",
    "SOURCE_ROW",
    "SparkTables",
    "load_tables",
    "quoted",
    "row_numbers",
]

#: Column with each row's 1-based place in its table as read.
SOURCE_ROW = "_source_row"
#: Column with a row's enterprise-hash bucket (:mod:`anxin.spark._buckets`).
BUCKET = "_bucket"
_ID_BITS = 33  # monotonically_increasing_id: partition << 33 | row in partition


@dataclasses.dataclass
class SparkTables:
    """The contract tables of one extract, as Spark DataFrames.

    Attributes
    ----------
    frames : dict
        Table name -> its rows as given, with ``_source_row``; optional
        tables that are absent are missing from the dict.
    sources : dict
        Table name -> where it was read from (a path or a metastore table).
    """

    frames: dict[str, DataFrame]
    sources: dict[str, str]
    rows: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def spark(self) -> SparkSession:
        return self.frames["payroll"].sparkSession

    def __getitem__(self, name: str) -> DataFrame | None:
        if name not in TABLE_NAMES:
            raise KeyError(f"No table {name!r}; tables are {list(TABLE_NAMES)}.")
        return self.frames.get(name)

    def present(self) -> tuple[str, ...]:
        """Names of the tables given, in contract order."""
        return tuple(n for n in TABLE_NAMES if n in self.frames)

    def columns(self, name: str) -> list[str]:
        """The table's columns as given (without ``_source_row``)."""
        return [c for c in self.frames[name].columns if c != SOURCE_ROW]


def quoted(name: str) -> Column:
    """A column by its exact name (dots, spaces and backticks included)."""
    return F.col("`" + name.replace("`", "``") + "`")


def row_numbers(df: DataFrame, column: str) -> DataFrame:
    """``df`` with ``column`` = 1-based place of each row in ``df``'s order.

    Global and exact, without moving the rows to one partition: each
    partition's rows are counted, and a row's number is the count of the
    partitions before it plus its place in its own. ``df`` is persisted so
    both passes see the same rows in the same order.
    """
    tagged = df.withColumn("_mid", F.monotonically_increasing_id()).persist()
    part = F.shiftright(F.col("_mid"), _ID_BITS)
    counts = sorted(
        (int(r[0]), int(r[1]))
        for r in tagged.groupBy(part.alias("p")).count().collect()
    )
    offsets: list[Column] = []
    total = 0
    for p, n in counts:
        offsets += [F.lit(p), F.lit(total)]
        total += n
    offset = F.create_map(*offsets)[part] if offsets else F.lit(0)
    local = F.col("_mid").bitwiseAND(F.lit((1 << _ID_BITS) - 1))
    return tagged.withColumn(column, offset + local + 1).drop("_mid")


def _numbered(df: DataFrame) -> tuple[DataFrame, int | None]:
    """Rows numbered by file (in path order) and place in the file; the count."""
    try:
        meta = df.select(
            "*",
            F.col("_metadata.file_path").alias("_file"),
            F.col("_metadata.row_index").alias("_row"),
        )
    except AnalysisException:  # not a file source: the order Spark reads
        return row_numbers(df, SOURCE_ROW), None
    if len(df.inputFiles()) == 1:  # one file: its row index is the row
        numbered = meta.withColumn(SOURCE_ROW, F.col("_row") + 1)
        return numbered.drop("_file", "_row"), None
    files = sorted(
        (r["_file"], int(r["count"])) for r in meta.groupBy("_file").count().collect()
    )
    pairs: list[Column] = []
    total = 0
    for path, n in files:
        pairs += [F.lit(path), F.lit(total)]
        total += n
    start = F.create_map(*pairs)[F.col("_file")] if pairs else F.lit(0)
    numbered = meta.withColumn(SOURCE_ROW, start + F.col("_row") + 1)
    return numbered.drop("_file", "_row"), total


def _read(spark: SparkSession, name: str, where: str) -> DataFrame:
    is_path = "/" in where or "\\" in where or where.endswith(".parquet")
    try:
        if is_path:
            return spark.read.parquet(where)
        return spark.table(where)
    except AnalysisException as exc:
        raise ContractError(
            f"{where}: cannot be read as the {name} table "
            f"({str(exc).splitlines()[0]}). "
            "Give a Parquet file or directory, or a metastore table (db.table).",
            table=name,
        ) from exc


def _in_directory(root: Path) -> dict[str, str]:
    """Table -> path of each table found in a data directory."""
    if not root.is_dir():
        raise ContractError(
            f"{root}: not a directory. Pass the directory that holds "
            "enterprises.parquet, payroll.parquet, ... (files or directories).",
        )
    found: dict[str, str] = {}
    for name in TABLE_NAMES:
        candidates = [root / f"{name}.parquet", root / name]
        hits = [p for p in candidates if p.exists()]
        if (root / f"{name}.csv").is_file() and not hits:
            raise ContractError(
                f"{root / (name + '.csv')}: the Spark engine reads Parquet and "
                "metastore tables, not CSV exports. Score this directory with "
                "--engine local, or write the table as Parquet.",
                table=name,
            )
        if len(hits) > 1:
            raise ContractError(
                f"{root}: table {name!r} has both {hits[0].name} and "
                f"{hits[1].name}. Keep one of them.",
                table=name,
            )
        if hits:
            found[name] = str(hits[0].resolve())
    return found


def load_tables(
    source: str | Path | Mapping[str, str], *, spark: SparkSession | None = None
) -> SparkTables:
    """Read the contract tables for Spark.

    Parameters
    ----------
    source : str, Path or mapping
        A data directory (``NAME.parquet``, a file or a partitioned
        directory, or ``NAME/``, for each table), or a mapping of table name
        -> Parquet path (any file system Spark reads) or metastore table
        (``db.payroll``).
    spark : SparkSession, optional
        Default: :func:`anxin.spark.spark_session`.

    Returns
    -------
    SparkTables

    Raises
    ------
    ContractError
        If a required table is missing, a table is given twice or as CSV,
        or a source cannot be read.
    """
    spark = spark or spark_session()
    if isinstance(source, Mapping):
        where = {str(k): str(v) for k, v in source.items()}
        unknown = sorted(set(where) - set(TABLE_NAMES))
        if unknown:
            raise ContractError(
                f"Unknown table(s) {unknown}; tables are {list(TABLE_NAMES)}."
            )
    else:
        where = _in_directory(Path(source))
    for name in REQUIRED_TABLES:
        if name not in where:
            raise ContractError(
                f"{source}: required table {name!r} not found (looked for "
                f"{name}.parquet and {name}/).",
                table=name,
            )
    frames, rows = {}, {}
    for name in TABLE_NAMES:
        if name in where:
            frames[name], count = _numbered(_read(spark, name, where[name]))
            if count is not None:
                rows[name] = count
    return SparkTables(frames=frames, sources=where, rows=rows)
