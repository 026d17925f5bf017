"""Where pandas meets Spark: every conversion in one place.

PySpark 4 converts between Spark and pandas itself in ``toPandas``,
``createDataFrame(pandas)`` and pandas UDFs, and warns that it "does not yet
fully support pandas >= 3.0.0". anxin does not use those conversions for its
own data: Spark hands Arrow to the executors (``applyInArrow`` /
``mapInArrow``) and back to the driver (``toArrow``), and this module turns
Arrow into pandas exactly as :func:`pandas.read_parquet` does on one machine
(pandas 3 ``str`` columns, ``datetime64[us]``, NaN for missing numbers), and
pandas into Arrow with the exact types Spark declared. What PySpark's own
conversions do with pandas 3 (found here, tested in ``tests/spark``):

* ``toPandas()`` and ``createDataFrame(pandas)`` raise PySpark's
  ``FutureWarning`` on every call, and PySpark's internals trigger pandas'
  own deprecation warnings (``Series.values`` on tz-aware timestamps, the
  ``copy`` keyword); :func:`quiet` silences exactly those, nothing else;
* ``createDataFrame`` of a pandas categorical drops the category (a plain
  string column) and of a tz-aware timestamp needs the session time zone:
  anxin sends Arrow with its own types instead (:func:`frame_to_arrow`);
* a pandas UDF (``mlflow.pyfunc.spark_udf``) receives pandas 3 ``str``
  columns, and must return columns Arrow can type: a ``str`` or categorical
  result column is fine, an ``object`` column of dicts is not (anxin's
  pyfunc returns reasons as JSON text).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

__all__ = [
    "arrow_schema",
    "arrow_to_frame",
    "collect",
    "create",
    "frame_to_arrow",
    "quiet",
    "quiet_logs",
    "spark_type",
]

#: Messages PySpark's pandas paths cause under pandas 3 (see module doc).
_NOISE = (
    r"PySpark does not yet fully support pandas >= 3",
    r"Series\.values returning an ndarray that drops timezone",
    r"The copy keyword is deprecated",
)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence PySpark's pandas-3 warnings (only those)."""
    with warnings.catch_warnings():
        for message in _NOISE:
            warnings.filterwarnings("ignore", message=message)
        yield


def quiet_logs() -> None:
    """In an executor's Python worker: anxin's per-bucket logs are noise."""
    logging.getLogger("anxin").setLevel(logging.ERROR)


def spark_type(dtype: Any) -> T.DataType:
    """The Spark type of a contract (pandas) dtype."""
    text = str(dtype).lower()
    if "datetime" in text:
        return T.TimestampNTZType()
    if "float32" in text:
        return T.FloatType()
    if "float" in text:
        return T.DoubleType()
    if "int" in text:
        return T.LongType()
    if "bool" in text:
        return T.BooleanType()
    return T.StringType()


def _arrow_type(dtype: T.DataType) -> pa.DataType:
    from pyspark.sql.pandas.types import to_arrow_type

    return to_arrow_type(dtype, timezone="UTC")


def arrow_schema(schema: T.StructType) -> pa.Schema:
    """The Arrow schema Spark uses for ``schema`` (time zone UTC)."""
    return pa.schema([(f.name, _arrow_type(f.dataType)) for f in schema.fields])


def arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow from Spark as pandas, as :func:`pandas.read_parquet` reads it.

    Large strings become strings (pandas 3 ``str`` either way) and Spark's
    schema metadata is dropped, so a bucket's frames have the dtypes one
    machine's loaded tables have. Spark's timestamps arrive as UTC instants
    (``timestamp[us, tz=UTC]``); the session runs in UTC, so they become the
    naive timestamps one machine reads.
    """
    fields = []
    for f in table.schema:
        t = f.type
        if pa.types.is_large_string(t):
            t = pa.string()
        elif pa.types.is_timestamp(t) and t.tz is not None:
            t = pa.timestamp(t.unit)
        fields.append(pa.field(f.name, t))
    table = table.replace_schema_metadata(None).cast(pa.schema(fields))
    return table.to_pandas()


def _is_text(values: pd.Series) -> bool:
    """pandas text Arrow can take as it is (``str``, or categories of text)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return isinstance(values.cat.categories.dtype, pd.StringDtype)
    return isinstance(values.dtype, pd.StringDtype)


def _column(values: pd.Series, target: pa.DataType) -> pa.Array:
    is_string = pa.types.is_string(target) or pa.types.is_large_string(target)
    if is_string and _is_text(values):  # no Python object per value
        return pa.array(values, from_pandas=True).cast(target)
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("object").where(values.notna(), None)
    if pa.types.is_string(target) or pa.types.is_large_string(target):
        text = values.astype("object").where(values.notna(), None)
        return pa.array(text.map(lambda v: v if v is None else str(v)), target)
    if pa.types.is_timestamp(target):
        stamps = pd.to_datetime(values)
        if target.tz is not None and stamps.dt.tz is None:
            stamps = stamps.dt.tz_localize("UTC")
        return pa.array(stamps, pa.timestamp("ns", target.tz)).cast(target)
    if pa.types.is_floating(target):
        numbers = pd.to_numeric(values).to_numpy(dtype=np.float64, na_value=np.nan)
        return pa.array(numbers, type=pa.float64(), from_pandas=True).cast(target)
    if pa.types.is_integer(target):
        return pa.array(values.astype("Int64"), type=pa.int64()).cast(target)
    return pa.array(values.tolist(), type=target)


def frame_to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """pandas as Arrow with exactly ``schema`` (what Spark was promised).

    Categoricals and pandas 3 ``str`` become strings, timestamps get the
    schema's unit and zone, NaN in a number column is null, lists of dicts
    become lists of structs.
    """
    arrays = [_column(frame[f.name], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def create(spark: SparkSession, frame: pd.DataFrame | pa.Table) -> DataFrame:
    """A Spark DataFrame from pandas or Arrow, through Arrow (no pandas path)."""
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame)
    table = table.replace_schema_metadata(None)
    with quiet():
        return spark.createDataFrame(table)


def collect(df: DataFrame) -> pd.DataFrame:
    """A (small) Spark DataFrame on the driver as pandas, through Arrow."""
    with quiet():
        table = df.toArrow()
    return arrow_to_frame(table)
