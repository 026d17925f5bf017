"""``anxin.spark.score``: one month scored on Spark, written like
:func:`anxin.score_month`.

validate (rows scattered to enterprise-hash buckets, each bucket by one
machine's contract, :mod:`anxin.spark.validation`) -> features, scores and
drift bin counts (each bucket by :mod:`anxin.features` and the model bundle
shipped once per executor; the scored rows kept as the bucket's part) ->
global ranks and levels (:mod:`anxin.spark._levels`) -> reasons for the rows
the mode explains (:func:`anxin.reasons.attach_reasons`, per bucket) ->
``OUT_DIR/as_of=YYYY-MM/`` under the month's lock, written in a hidden
directory and swapped in with renames (:mod:`anxin.scoring`), then logged
to MLflow. Spark schedules the buckets' tasks and sorts what must be sorted
across them (ranks, the scores by region); the rows themselves move between
steps as the buckets' files (:mod:`anxin.spark._buckets`) in the month's
hidden directory, and go with it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from anxin._lock import month_lock
from anxin._params import check_month
from anxin.drift import drift_counts, drift_report_of_counts
from anxin.exceptions import ContractError
from anxin.levels import LevelPolicy
from anxin.prediction import PREDICT_COLUMNS, as_policy, load_model
from anxin.reasons import attach_reasons, check_explain
from anxin.schemas import LEVELS, TABLE_NAMES
from anxin.scoring import StepClock, begin_month, commit_month, log_scoring
from anxin.spark._buckets import (
    each_number,
    numbers,
    read_part,
    spark_parts,
    write_part,
)
from anxin.spark._bundle import ModelFiles, ship
from anxin.spark._compat import (
    arrow_schema,
    arrow_to_frame,
    collect,
    frame_to_arrow,
)
from anxin.spark._levels import POSITION, SIZE, ranked
from anxin.spark._month import (
    TALLY,
    quantile_ranks,
    tally,
    write_csv,
    write_json,
    write_quarantine,
    write_scores,
)
from anxin.spark._month import summary as month_summary
from anxin.spark.features import FeatureBucket, feature_schema
from anxin.spark.session import spark_session
from anxin.spark.tables import SparkTables, load_tables
from anxin.spark.validation import SparkValidation, validate

__all__ = ["SCORES_SCHEMA", "SparkScoreResult", "score"]

logger = logging.getLogger(__name__)

_REASON = T.StructType(
    [
        T.StructField("group", T.StringType()),
        T.StructField("group_zh", T.StringType()),
        T.StructField("group_en", T.StringType()),
        T.StructField("contribution", T.DoubleType()),
        T.StructField("feature", T.StringType()),
        T.StructField("value", T.DoubleType()),
        T.StructField("value_text", T.StringType()),
        T.StructField("text_zh", T.StringType()),
        T.StructField("text_en", T.StringType()),
    ]
)
#: Columns of the written scores (``region`` is the partition).
SCORES_SCHEMA = T.StructType(
    [
        T.StructField(c, T.LongType() if c == "rank" else T.DoubleType())
        if c in ("rank", "risk_score")
        else T.StructField(c, T.StringType())
        for c in PREDICT_COLUMNS
    ]
    + [
        T.StructField("reasons", T.ArrayType(_REASON)),
        T.StructField("reasons_zh", T.StringType()),
        T.StructField("reasons_en", T.StringType()),
    ]
)
#: What a scoring task writes for Spark to rank (``ranked`` parts).
_RANKED = T.StructType(
    [
        f
        for f in feature_schema(scored=True).fields
        if f.name in ("enterprise_id", "region", "risk_score")
    ]
)
#: Top-ranked rows kept on the driver for printing.
TOP_ROWS = 1000


@dataclasses.dataclass
class SparkScoreResult:
    """What :func:`score` did.

    Attributes
    ----------
    scores : DataFrame
        The :data:`TOP_ROWS` highest-ranked rows (pandas); the full scores
        are in ``out_dir / "scores.parquet"`` (:func:`read_scores`).
    summary : dict
        The content of ``summary.json``.
    drift : DataFrame
    validation : SparkValidation
    out_dir : Path
    run_id : str or None
    """

    scores: pd.DataFrame
    summary: dict[str, Any]
    drift: pd.DataFrame
    validation: SparkValidation
    out_dir: Path
    run_id: str | None = None


#: What each bucket's scoring task tells the driver: drift bin counts, and
#: (``feature`` empty) the rows it scored.
_COUNTS = T.StructType(
    [
        T.StructField("feature", T.StringType()),
        T.StructField("bin", T.LongType()),
        T.StructField("count", T.LongType()),
    ]
)


@dataclasses.dataclass(frozen=True)
class _ScoreBucket:
    """Features and scores of a bucket, written under ``root/scored``; the
    drift bin counts go back to the driver."""

    features: FeatureBucket
    model: ModelFiles
    root: str

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return each_number(batches, self.bucket)

    def bucket(self, bucket: int) -> pa.RecordBatch | None:
        frame = self.features.frame(bucket)
        if frame is None or frame.empty:
            return None
        target = arrow_schema(feature_schema(scored=True))
        scored = frame_to_arrow(frame, target)
        write_part(self.root, "scored", bucket, scored, for_spark=False)
        ranked_by = scored.select(_RANKED.fieldNames())
        write_part(self.root, "ranked", bucket, ranked_by)  # Spark ranks them
        score = frame["risk_score"].to_numpy()
        counts = drift_counts(self.model.load(), frame, score)
        names = [n for n, c in counts.items() for _ in range(len(c))] + [""]
        bins = [i for c in counts.values() for i in range(len(c))] + [0]
        values = np.concatenate([*counts.values(), np.array([len(frame)])])
        return pa.RecordBatch.from_pydict(
            {"feature": names, "bin": bins, "count": values},
            schema=arrow_schema(_COUNTS),
        )


@dataclasses.dataclass(frozen=True)
class _Finish:
    """Levels, predict columns and reasons of a bucket's scored rows, from
    its ``scored`` part and its ranks; written under ``root/finished``.
    Tells the driver its :data:`anxin.spark._month.TALLY` rows (counts by
    region and level, and the scores at ``ranks``) for ``summary.json``."""

    model: ModelFiles
    policy: LevelPolicy
    as_of: str
    explain: str
    top_k: int
    root: str
    ranks: tuple[int, ...]  # the summary wants their scores

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return each_number(batches, self.bucket)

    def bucket(self, bucket: int) -> pa.RecordBatch | None:
        schema = arrow_schema(feature_schema(scored=True))
        scored = read_part(self.root, "scored", bucket, schema, for_spark=False)
        if scored.num_rows == 0:
            return None
        ranks = ds.dataset(
            str(Path(self.root) / "ranks" / f"bucket={bucket}"), format="parquet"
        ).to_table()
        frame = arrow_to_frame(scored).merge(
            arrow_to_frame(ranks), on="enterprise_id", how="left", validate="1:1"
        )
        out = self.finish(self.model.load(), frame)
        target = arrow_schema(SCORES_SCHEMA)
        write_part(self.root, "finished", bucket, frame_to_arrow(out, target))
        return tally(out, self.ranks)

    def finish(self, model: Any, frame: pd.DataFrame) -> pd.DataFrame:
        score = frame["risk_score"].to_numpy(np.float64)
        if self.policy.kind == "quota":
            codes = self.policy.quota_codes(
                frame[POSITION].to_numpy(np.int64), frame[SIZE].to_numpy(np.int64)
            )
        else:
            codes = self.policy.codes(score)
        levels = pd.Categorical.from_codes(codes, pd.Index(list(LEVELS)))
        out = pd.DataFrame(
            {
                "enterprise_id": frame["enterprise_id"].array,
                "as_of": self.as_of,
                "risk_score": score,
                "risk_level": levels,
                "rank": frame["rank"].to_numpy(np.int64),
                "model_name": model.name,
                "model_version": str(model.version),
                "industry": frame["industry"].array,
                "region": frame["region"].array,
            }
        )
        return attach_reasons(
            model, frame, out, levels, self.explain, self.top_k, n_jobs=1
        )


def _over_buckets(
    spark: SparkSession,
    buckets: int,
    task: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]],
    schema: T.StructType = _COUNTS,
) -> pd.DataFrame:
    """``task`` on every bucket (a Spark task each); what they told the driver."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return task(batches)

    return collect(numbers(spark, buckets).mapInArrow(run, schema))


def _drift(counted: pd.DataFrame, model: Any, month: str) -> pd.DataFrame:
    bins = counted[counted["feature"] != ""]
    rows = bins.groupby(["feature", "bin"], as_index=False)["count"].sum()
    counts: dict[str, np.ndarray] = {}
    for name, part in rows.groupby("feature"):
        array = np.zeros(int(part["bin"].max()) + 1, dtype=np.int64)
        array[part["bin"].to_numpy(np.int64)] = part["count"].to_numpy(np.int64)
        counts[str(name)] = array
    return drift_report_of_counts(model, counts, as_of=month)


def _ranks(spark: SparkSession, root: Path, policy: LevelPolicy) -> None:
    """Global ranks (and quota places) of the scored rows, by bucket."""
    scored = spark_parts(spark, root, "ranked", _RANKED)
    ranks = ranked(scored, policy, keep=("bucket",))
    ranks.write.partitionBy("bucket").parquet(str(root / "ranks"))


# long: the steps of a scoring run, in order, as score_month reads them
def score(
    source: str | Path | Mapping[str, str] | SparkTables,
    out_dir: str | Path,
    *,
    as_of: str | None = None,
    model: Any = None,
    policy: LevelPolicy | Mapping[str, Any] | str | Path | None = None,
    explain: str = "alerts",
    top_k: int = 3,
    log: bool = True,
    tracking_uri: str | None = None,
    step: Callable[[str], None] | None = None,
    lock_timeout: float | None = None,
    buckets: int | None = None,
    spark: SparkSession | None = None,
) -> SparkScoreResult:
    """Score one month on Spark and write ``out_dir/as_of=YYYY-MM/`` atomically.

    Same steps, files and MLflow run as :func:`anxin.score_month`; the
    scores are Parquet partitioned by region (``scores.parquet/region=.../``).

    Parameters
    ----------
    source : str, Path, mapping or SparkTables
        A data directory of Parquet tables, a mapping of table -> Parquet
        path or metastore table, or tables from :func:`load_tables`.
    out_dir : str or Path
        Output root, on a file system the driver and executors share (the
        buckets' intermediate files are written under it too).
    as_of, model, policy, explain, top_k, log, tracking_uri, step, lock_timeout
        As for :func:`anxin.score_month`.
    buckets : int, optional
        Enterprise-hash buckets; default about one per 12,500 enterprises
        (:func:`anxin.spark.validation.even_buckets`).
    spark : SparkSession, optional
        Default: the active session, else a local one.

    Returns
    -------
    SparkScoreResult

    Raises
    ------
    ContractError
        If the data break the contract at table level (nothing is written).
    LockTimeoutError
        If another run of the month holds its lock past ``lock_timeout``.
    """
    if as_of is not None:
        check_month("as_of", as_of, "anxin.spark.score")
    check_explain(explain)
    say = StepClock(step)
    say("load model")
    m = load_model(model, tracking_uri=tracking_uri)
    active = as_policy(policy) or m.policy
    spark = spark or spark_session()
    root = Path(out_dir)
    with contextlib.ExitStack() as held:
        tmp: Path | None = None
        if as_of is not None:
            held.enter_context(month_lock(root, as_of, timeout=lock_timeout))
            tmp = begin_month(root, as_of)
        say("validate")
        tables = (
            source
            if isinstance(source, SparkTables)
            else load_tables(source, spark=spark)
        )
        # intermediate data live in the month's hidden directory (a killed
        # run's go with it on the next run), or beside it until the month
        # is known
        work = tmp / "_work" if tmp else root / f".anxin-work-{time.time_ns()}"
        held.callback(shutil.rmtree, work, ignore_errors=True)
        validation = validate(tables, buckets=buckets, work_dir=str(work))
        population = validation.population()
        month = as_of or population.last_period
        if tmp is None:
            held.enter_context(month_lock(root, month, timeout=lock_timeout))
            tmp = begin_month(root, month)
        say("features")
        files = ship(spark, m)
        present = tuple(n for n in TABLE_NAMES if n in validation.rows_in)
        features = FeatureBucket(
            validation.root, present, month, population, feature_schema(), files
        )
        parts = Path(validation.root)
        task = _ScoreBucket(features, files, str(parts))
        counted = _over_buckets(spark, validation.buckets, task)
        if not (counted["feature"] == "").any():
            raise ContractError(
                f"payroll: no valid rows for {month}, so there is nothing to score.",
                table="payroll",
            )
        say("drift")
        drift = _drift(counted, m, month)
        say("explain and write")
        _ranks(spark, parts, active)
        n = int(counted.loc[counted["feature"] == "", "count"].sum())
        ranks = quantile_ranks(n)
        finish = _Finish(files, active, month, explain, top_k, str(parts), ranks)
        tallied = _over_buckets(spark, validation.buckets, finish, TALLY)
        finished = spark_parts(spark, parts, "finished", SCORES_SCHEMA).drop("bucket")
        write_scores(finished, tmp / "scores.parquet")
        say("write summary")
        write_quarantine(tmp, validation)
        write_csv(tmp / "drift.csv", drift)
        summary = month_summary(m, month, tallied, drift, validation, active)
        top = collect(finished.where(F.col("rank") <= TOP_ROWS).orderBy("rank"))
        say("commit")
        summary["seconds"] = round(time.perf_counter() - say.t0, 2)
        summary["timings"] = dict(say.timings)
        write_json(tmp / "summary.json", summary)
        shutil.rmtree(work, ignore_errors=True)
        final = commit_month(root, month, tmp)
    result = SparkScoreResult(top, summary, drift, validation, final)
    if log:
        say("log")
        result.run_id = log_scoring(summary, drift, tracking_uri, engine="spark")
    logger.info(
        "scored %s on Spark: %d enterprises, %s",
        month,
        summary["scored"],
        summary["levels"],
    )
    return result
