"""A national training set on Spark, small enough for one machine's LightGBM.

:func:`training_frame` builds features and labels for every month of an
extract on Spark -- each bucket of enterprises by :mod:`anxin.features` and
:mod:`anxin.labels`, exactly as one machine would -- and keeps every
positive but only a seeded share of the negatives, each kept negative
weighted ``1 / negatives`` so that the weighted rows stand for the full
population. Which negative is kept depends on its enterprise, month and the
seed only (not on buckets, partitions or executors), so a rerun gives the
same frame. Months from ``keep_from`` on are kept whole (weight 1): give
the first validation month there and the out-of-time evaluation and the
calibration see every row.

The frame goes to :func:`anxin.train` with ``weight="weight"``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from anxin._params import check_int, check_month, check_param
from anxin.schemas import TABLE_NAMES
from anxin.spark._compat import collect
from anxin.spark.features import FeatureBucket, Sampling, feature_schema, run_buckets
from anxin.spark.session import spark_session
from anxin.spark.tables import SparkTables, load_tables
from anxin.spark.validation import validate

__all__ = ["training_frame"]

logger = logging.getLogger(__name__)


# long: one documented entry point; checks, then the steps in order
def training_frame(
    source: str | Path | dict[str, str] | SparkTables,
    *,
    horizon: int = 3,
    negatives: float = 0.1,
    keep_from: str | None = None,
    start: str | None = None,
    end: str | None = None,
    seed: int = 0,
    buckets: int | None = None,
    work_dir: str | Path | None = None,
    spark: SparkSession | None = None,
) -> pd.DataFrame:
    """Labelled feature rows for a range of months, negatives down-sampled.

    Parameters
    ----------
    source : str, Path, mapping or SparkTables
        As for :func:`anxin.spark.score`.
    horizon : int, default 3
        Months ahead of the labels (1-12), as for :func:`anxin.train`.
    negatives : float, default 0.1
        Share of negative rows kept, in (0, 1]; each kept negative weighs
        ``1 / negatives``. Positives are all kept with weight 1.
    keep_from : str, optional
        Month ``YYYY-MM`` from which every row is kept (weight 1): the first
        validation month, so that evaluation and calibration see every row.
    start, end : str, optional
        First and last month ``YYYY-MM`` of the rows; default all the months
        with a known label.
    seed : int, default 0
        Seeds which negatives are kept.
    buckets : int, optional
        Enterprise-hash buckets; default about one per 12,500 enterprises
        (:func:`anxin.spark.validation.even_buckets`).
    work_dir : str or Path, optional
        Where the buckets' intermediate files are kept while the frame is
        built (deleted after): a directory every executor reads and writes
        (on a cluster, shared storage). Default: a temporary directory of
        the driver's, enough in local mode.
    spark : SparkSession, optional
        Default: the active session, else a local one.

    Returns
    -------
    DataFrame
        The columns of :func:`anxin.build_features`, then ``label`` (int8)
        and ``weight`` (float64), sorted by enterprise and month.

    Raises
    ------
    InvalidParameterError
        If a parameter is out of range.
    ContractError
        If the data break the contract at table level.

    Examples
    --------
    Training on a national extract (not run here: it needs a Spark session):

    >>> import anxin, anxin.spark
    >>> frame = anxin.spark.training_frame(  # doctest: +SKIP
    ...     "warehouse/anxin/", horizon=3, negatives=0.05, keep_from="2025-10")
    >>> result = anxin.train(frame, weight="weight", horizon=3)  # doctest: +SKIP
    """
    owner = "anxin.spark.training_frame"
    check_int("horizon", horizon, owner, 1, 12)
    ok = isinstance(negatives, int | float) and 0 < negatives <= 1
    check_param("negatives", negatives, owner, "a number in (0, 1]", ok)
    for name, month in (("keep_from", keep_from), ("start", start), ("end", end)):
        if month is not None:
            check_month(name, month, owner)
    check_int("seed", seed, owner, 0)
    t0 = time.perf_counter()
    spark = spark or spark_session()
    tables = (
        source if isinstance(source, SparkTables) else load_tables(source, spark=spark)
    )
    if work_dir is None:
        work = Path(tempfile.mkdtemp(prefix="anxin-spark-"))
    else:
        work = Path(work_dir) / f"validated-{time.time_ns()}"
    try:
        validation = validate(tables, buckets=buckets, work_dir=str(work))
        population = validation.population()
        sampling = Sampling(
            horizon, population.last_period, float(negatives), keep_from, seed
        )
        task = FeatureBucket(
            validation.root,
            tuple(n for n in TABLE_NAMES if n in validation.rows_in),
            None,
            population,
            feature_schema(labelled=True),
            sampling=sampling,
        )
        rows = run_buckets(validation, task)
        if start is not None:
            rows = rows.where(F.col("period") >= start)
        if end is not None:
            rows = rows.where(F.col("period") <= end)
        frame = collect(rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    frame = frame.sort_values(["enterprise_id", "period"], ignore_index=True)
    frame["label"] = frame["label"].astype("int8")
    logger.info(
        "training frame: %d rows (%d positive) in %.1f s, negatives kept at %g",
        len(frame),
        int(frame["label"].sum()),
        time.perf_counter() - t0,
        negatives,
    )
    return frame
