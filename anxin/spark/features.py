"""Features on Spark: each bucket's enterprises by :mod:`anxin.features`.

A bucket's task reads every valid row of its enterprises from the files its
validation task wrote (:mod:`anxin.spark.validation`); what their features need
from the others -- the extract's payroll months and the peer means of each
industry and region -- comes from :meth:`SparkValidation.population`, summed
exactly over all buckets. Each row therefore equals the row
:func:`anxin.build_features` gives for the whole extract on one machine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from anxin._peers import Population
from anxin.catalogue import CATALOGUE
from anxin.features import build_features_part
from anxin.labels import build_labels
from anxin.schemas import TABLE_NAMES
from anxin.spark._buckets import each_number, numbers, read_part
from anxin.spark._bundle import ModelFiles
from anxin.spark._compat import arrow_schema, arrow_to_frame, frame_to_arrow
from anxin.spark.validation import SparkValidation, contract_schema
from anxin.tables import Tables

__all__ = ["build_features", "feature_schema"]


def feature_schema(*, scored: bool = False, labelled: bool = False) -> T.StructType:
    """Columns of the feature rows, in :func:`anxin.build_features` order."""
    fields = [
        T.StructField("enterprise_id", T.StringType()),
        T.StructField("period", T.StringType()),
    ]
    for name, feature in CATALOGUE.items():
        kind = T.StringType() if feature.kind == "categorical" else T.FloatType()
        fields.append(T.StructField(name, kind))
    if scored:
        fields.append(T.StructField("risk_score", T.DoubleType()))
    if labelled:
        fields += [
            T.StructField("label", T.ByteType()),
            T.StructField("weight", T.DoubleType()),
        ]
    return T.StructType(fields)


@dataclasses.dataclass(frozen=True)
class Sampling:
    """Negative down-sampling of a training frame (see :mod:`anxin.spark.training`)."""

    horizon: int
    events_through: str
    negatives: float  # share of negatives kept
    keep_from: str | None  # months from here are kept whole
    seed: int


def keep_negative(
    ids: pd.Series, periods: pd.Series, share: float, seed: int
) -> np.ndarray:
    """Whether a negative row is kept: a seeded hash of its key, not its bucket."""
    key = ids.astype("str") + "|" + periods.astype("str") + f"|{seed}"
    hashed = pd.util.hash_pandas_object(key, index=False).to_numpy(np.uint64)
    return (hashed >> np.uint64(11)).astype(np.float64) / 2.0**53 < share


@dataclasses.dataclass(frozen=True)
class FeatureBucket:
    """What one bucket's task runs: features, and a score or labels."""

    root: str
    present: tuple[str, ...]
    as_of: str | None
    population: Population
    schema: T.StructType
    model: ModelFiles | None = None
    sampling: Sampling | None = None

    def tables(self, bucket: int) -> Tables:
        """The bucket's valid rows, as one machine's validated tables."""
        frames: dict[str, Any] = dict.fromkeys(TABLE_NAMES)
        for name in self.present:
            schema = arrow_schema(contract_schema(name))
            part = read_part(
                self.root, f"valid/{name}", bucket, schema, for_spark=False
            )
            frames[name] = arrow_to_frame(part)
        return Tables(**frames)

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return each_number(batches, self.bucket)

    def bucket(self, bucket: int) -> pa.Table:
        """Features (and a score or labels) of one bucket's enterprises."""
        target = arrow_schema(self.schema)
        frame = self.frame(bucket)
        return target.empty_table() if frame is None else frame_to_arrow(frame, target)

    def frame(self, bucket: int) -> pd.DataFrame | None:
        """:meth:`bucket` as pandas; None if the bucket has no rows to give."""
        tables = self.tables(bucket)
        periods = tables.payroll["period"]
        if self.as_of is not None and not (periods == self.as_of).any():
            return None  # none of these enterprises is active
        if tables.payroll.empty:
            return None
        frame = build_features_part(
            tables, as_of=self.as_of, population=self.population, n_jobs=1
        )
        if self.model is not None:
            frame["risk_score"] = self.model.load().predict_proba(frame, n_jobs=1)
        if self.sampling is not None:
            frame = self._sample(tables, frame)
        return frame

    def _sample(self, tables: Tables, frame: pd.DataFrame) -> pd.DataFrame:
        s = self.sampling
        assert s is not None
        labels = build_labels(
            tables, horizon=s.horizon, events_through=s.events_through
        )
        frame["label"] = labels["label"].to_numpy()
        frame = frame[frame["label"].notna()].reset_index(drop=True)
        positive = (frame["label"] == 1).to_numpy()
        whole = (
            (frame["period"] >= s.keep_from).to_numpy()
            if s.keep_from is not None
            else np.zeros(len(frame), dtype=bool)
        )
        drawn = keep_negative(
            frame["enterprise_id"], frame["period"], s.negatives, s.seed
        )
        keep = positive | whole | drawn
        frame = frame[keep].reset_index(drop=True)
        sampled = ~(positive[keep] | whole[keep])
        frame["weight"] = np.where(sampled, 1.0 / s.negatives, 1.0)
        frame["label"] = frame["label"].astype("int8")
        return frame


def run_buckets(validation: SparkValidation, task: FeatureBucket) -> DataFrame:
    """``task`` over every bucket of the validation's valid rows."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return task(batches)

    ids = numbers(validation.spark, validation.buckets)
    return ids.mapInArrow(run, task.schema)


def build_features(
    validation: SparkValidation, *, as_of: str | None = None
) -> DataFrame:
    """The feature panel on Spark (one month with ``as_of``, else every month).

    Parameters
    ----------
    validation : SparkValidation
        From :func:`anxin.spark.validate`.
    as_of : str, optional
        Month ``YYYY-MM``; default every month (a training panel).

    Returns
    -------
    DataFrame
        The columns of :func:`anxin.build_features` (``industry`` and
        ``region`` as text), one row per enterprise and month with a payroll
        row; each row equal to one machine's.
    """
    present = tuple(n for n in TABLE_NAMES if n in validation.rows_in)
    task = FeatureBucket(
        validation.root, present, as_of, validation.population(), feature_schema()
    )
    return run_buckets(validation, task)
