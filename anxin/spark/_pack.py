"""Several tables in one Spark DataFrame, so one bucket holds them all.

Spark groups one DataFrame at a time (``cogroup`` takes two); a bucket of
enterprises needs all five contract tables. A :class:`Layout` packs rows of
several *kinds* (tables, or the parts of a result) into one DataFrame: a
``_kind`` column says what a row is, and each kind's columns sit in shared
*slots* by type (the payroll's third double and the tax's third double share
a slot), so a row carries little more than its own values. Types are kept
exactly: a slot has its columns' Spark type.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from anxin.spark._compat import arrow_schema

__all__ = ["BUCKET", "KIND", "Layout", "quoted"]

BUCKET = "_bucket"
KIND = "_kind"


def quoted(name: str) -> Column:
    """A column by its exact name (dots, spaces and backticks included)."""
    return F.col("`" + name.replace("`", "``") + "`")


def _slot_name(dtype: T.DataType, i: int) -> str:
    return f"_{re.sub(r'[^0-9a-zA-Z]+', '_', dtype.simpleString())}_{i}"


@dataclasses.dataclass(frozen=True)
class Layout:
    """How rows of several kinds share one DataFrame's columns.

    Attributes
    ----------
    kinds : tuple of str
        Kind names; a row's ``_kind`` is the position of its kind here.
    schemas : dict
        Kind -> its own columns (Spark ``StructType``).
    slots : dict
        Kind -> the slot of each of its columns, in order.
    slot_types : dict
        Slot -> its Spark type (slots in their order in the DataFrame).
    """

    kinds: tuple[str, ...]
    schemas: dict[str, T.StructType]
    slots: dict[str, list[str]]
    slot_types: dict[str, T.DataType]

    @classmethod
    def of(cls, schemas: Mapping[str, T.StructType]) -> Layout:
        """A layout for these kinds (in this order)."""
        slot_types: dict[str, T.DataType] = {}
        slots: dict[str, list[str]] = {}
        for kind, schema in schemas.items():
            used: dict[str, int] = {}
            slots[kind] = []
            for field in schema.fields:
                key = field.dataType.simpleString()
                i = used.get(key, 0)
                used[key] = i + 1
                name = _slot_name(field.dataType, i)
                slot_types.setdefault(name, field.dataType)
                slots[kind].append(name)
        return cls(tuple(schemas), dict(schemas), slots, slot_types)

    def schema(self) -> T.StructType:
        """The packed DataFrame's schema: bucket, kind, then the slots."""
        fields = [
            T.StructField(BUCKET, T.IntegerType(), True),
            T.StructField(KIND, T.IntegerType(), True),
        ]
        fields += [T.StructField(s, t, True) for s, t in self.slot_types.items()]
        return T.StructType(fields)

    def pack(self, kind: str, df: DataFrame, bucket: Column) -> DataFrame:
        """Rows of ``df`` (which has ``kind``'s columns) in the packed layout."""
        mine = dict(zip(self.slots[kind], self.schemas[kind].fieldNames(), strict=True))
        columns = [
            bucket.cast("int").alias(BUCKET),
            F.lit(self.kinds.index(kind)).cast("int").alias(KIND),
        ]
        for slot, dtype in self.slot_types.items():
            value = quoted(mine[slot]) if slot in mine else F.lit(None)
            columns.append(value.cast(dtype).alias(slot))
        return df.select(*columns)

    def unpack(self, df: DataFrame, kind: str) -> DataFrame:
        """The rows of ``kind`` with their own column names (driver side)."""
        names = self.schemas[kind].fieldNames()
        return df.where(F.col(KIND) == self.kinds.index(kind)).select(
            *[F.col(s).alias(n) for s, n in zip(self.slots[kind], names, strict=True)]
        )

    # -- executor side -------------------------------------------------------
    def split(self, table: pa.Table) -> dict[str, pa.Table]:
        """A packed Arrow batch -> kind -> its rows with their own names.

        Every kind is there, with no rows when the batch has none.
        """
        kinds = table.column(KIND)
        out = {}
        for i, kind in enumerate(self.kinds):
            rows = table.filter(pc.equal(kinds, i)) if len(table) else table
            names = self.schemas[kind].fieldNames()
            out[kind] = pa.table(
                [rows.column(s) for s in self.slots[kind]], names=names
            )
        return out

    def join(self, parts: Mapping[str, pa.Table], bucket: int) -> pa.Table:
        """kind -> Arrow rows (own names and types) -> one packed Arrow table."""
        target = arrow_schema(self.schema())
        pieces = []
        for kind, rows in parts.items():
            n = rows.num_rows
            if n == 0:
                continue
            names = self.schemas[kind].fieldNames()
            mine = dict(zip(self.slots[kind], names, strict=True))
            arrays = [
                pa.array([bucket] * n, pa.int32()),
                pa.array([self.kinds.index(kind)] * n, pa.int32()),
            ]
            for field in list(target)[2:]:
                if field.name in mine:
                    arrays.append(rows.column(mine[field.name]).cast(field.type))
                else:
                    arrays.append(pa.nulls(n, field.type))
            pieces.append(pa.Table.from_arrays(arrays, schema=target))
        if not pieces:
            return target.empty_table()
        return pa.concat_tables(pieces)
