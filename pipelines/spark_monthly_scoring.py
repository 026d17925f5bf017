"""Scheduled monthly batch scoring on Apache Spark (全国规模月度批量预警).

The same job as ``monthly_scoring.py``, for extracts one machine cannot hold:
:func:`anxin.spark.score` validates the Parquet or metastore tables, builds
features, scores and explains every enterprise on the executors, and writes
``OUT/as_of=YYYY-MM/`` (scores partitioned by region) atomically; with a
``[cases]`` table the flagged enterprises open or escalate cases. Same
config file (``[score]``, ``[cases]``), JSON summary and exit codes (0 done,
1 failure, 2 bad config or data that break the contract): :mod:`anxin.jobs`
and ``docs/operations.md``; sizing in ``docs/scale.md``.

On a YARN cluster (client mode: the driver takes the month's lock and
renames the month into place, so ``out_dir`` must be on a file system the
driver and the executors share -- NFS, or HDFS mounted on every node)::

    spark-submit --master yarn --deploy-mode client \\
      --driver-memory 4g \\
      --num-executors 20 --executor-cores 4 --executor-memory 8g \\
      --conf spark.executor.memoryOverhead=4g \\
      --conf spark.sql.shuffle.partitions=800 \\
      --conf spark.pyspark.python=/srv/anxin/.venv/bin/python \\
      --conf spark.pyspark.driver.python=/srv/anxin/.venv/bin/python \\
      pipelines/spark_monthly_scoring.py --config /etc/anxin/anxin.toml \\
      --as-of 2026-06

Settings it needs:

* the executors run a Python with anxin and its ``spark`` extra installed
  (``spark.pyspark.python``: the same virtualenv path on every node, or ship
  one with ``--archives anxin-venv.tar.gz#venv`` and ``./venv/bin/python``);
  Java 17;
* ``spark.executor.memoryOverhead``: the pandas work of a bucket runs in the
  Python workers, outside the JVM heap -- about 0.7 GB per concurrent task
  at the default 12,500 enterprises per bucket (docs/scale.md);
* ``out_dir`` (the config's ``[score] out_dir``) on storage the driver
  and every executor share (NFS, or HDFS mounted on every node): the month is
  written there, and the buckets' intermediate files (about 5-6 GB per
  million enterprises) go through its hidden directory;
* anxin's session settings (UTC, Arrow, anxin's Python daemon) are set by
  :func:`anxin.spark.spark_session` when it creates the session here.

Locally, for a try (Spark's own ``local[*]`` when not under spark-submit)::

    python pipelines/spark_monthly_scoring.py --config anxin.toml --as-of 2026-06
"""

from __future__ import annotations

import logging
import sys

import anxin
import anxin.spark
from anxin import jobs

logger = logging.getLogger("pipelines.spark_monthly_scoring")


def score(config: jobs.ScoreJobConfig) -> jobs.Outcome:
    """Score the month on Spark, open cases; the job's summary and figures."""
    s = config.score
    if s.encoding is not None:
        raise anxin.InvalidParameterError(
            "[score] encoding is for CSV exports; the Spark job reads Parquet "
            "and metastore tables. Remove the key."
        )
    try:  # fail before starting on the data; say which config key to change
        model = anxin.load_model(s.model, tracking_uri=s.tracking_uri)
    except anxin.ModelNotFoundError as exc:
        raise anxin.ModelNotFoundError(
            f"{exc} Check [score] model in the config, or run "
            "pipelines/retrain.py to register a champion.",
        ) from exc
    logger.info(
        "scoring %s on Spark with %s v%s (data %s)",
        s.as_of or "the latest month",
        model.name,
        model.version,
        s.data_dir,
    )
    with jobs.report_drift(logger):
        result = anxin.spark.score(
            s.data_dir,
            s.out_dir,
            as_of=s.as_of,
            model=model,
            policy=s.policy,
            explain=s.explain,
            top_k=s.top_k,
            log=s.log,
            tracking_uri=s.tracking_uri,
        )
    jobs.log_month(result, logger)
    r = result.summary
    quarantined, drift = r["quarantine"]["rows"], r["drift"]
    cases = None
    if config.cases is not None:
        flagged = anxin.spark.read_scores(
            result.out_dir / "scores.parquet", flagged=True
        )
        with anxin.CaseStore(config.cases.resolved_url) as store:
            opened = store.open_from_scores(flagged, min_level=config.cases.min_level)
        cases = {k: getattr(opened, k) for k in ("opened", "escalated", "unchanged")}
        logger.info("cases: %s", cases)
    summary = {
        "job": "spark_score",
        "status": "ok",
        "as_of": r["as_of"],
        "out_dir": str(result.out_dir),
        "model": f"{r['model_name']}/{r['model_version']}",
        "scored": r["scored"],
        "levels": r["levels"],
        "quarantined_rows": quarantined,
        "drift_alerts": drift["alerts"],
        "psi_score": drift["psi_score"],
        "mlflow_run_id": result.run_id,
        "cases": cases,
        "seconds": r.get("seconds"),
    }
    tags = {"anxin_job": "spark_score", "anxin_scoring_run_id": result.run_id or ""}
    tags |= {k: summary[k] for k in ("as_of", "model", "out_dir")}
    metrics = {k: summary[k] for k in ("scored", "quarantined_rows", "psi_score")}
    metrics |= {f"level_{k}": v for k, v in r["levels"].items()}
    return jobs.Outcome(summary, tags=tags, metrics=metrics)


def main(argv: list[str] | None = None) -> int:
    """Run the job; return the exit code."""
    return jobs.main(
        "spark_score",
        score,
        jobs.ScoreJobConfig,
        argv,
        prog="spark_monthly_scoring.py",
        description="Score one month of wage-arrears risk (安薪云) on Apache "
        "Spark and write OUT/as_of=YYYY-MM/ atomically. Exit 0 ok, 1 failure, "
        "2 bad config or contract broken.",
        epilog="Example: spark-submit --master yarn pipelines/"
        "spark_monthly_scoring.py --config anxin.toml --as-of 2026-06",
        as_of_option=True,
    )


if __name__ == "__main__":
    sys.exit(main())
