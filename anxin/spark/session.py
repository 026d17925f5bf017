"""A Spark session set up for anxin (or the one already running).

``spark-submit`` and notebooks start their own session: anxin uses it as it
is. Elsewhere (a laptop, the tests, ``anxin score --engine spark`` without
spark-submit) :func:`spark_session` starts a local one with what anxin needs:
the workers run this Python (``PYSPARK_PYTHON``), times are UTC, Arrow is on.
"""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

__all__ = ["SESSION_CONFIG", "spark_session"]

# set when spark-submit started this Python (its --master is then the master)
_GATEWAY = "PYSPARK_GATEWAY_PORT"
#: Settings anxin's local sessions get (a cluster's own settings win there).
SESSION_CONFIG = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    # no _SUCCESS files in the month's directory
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    # workers forked with anxin imported (anxin.spark._daemon)
    "spark.python.daemon.module": "anxin.spark._daemon",
}


def spark_session(
    master: str | None = None, *, config: dict[str, str] | None = None
) -> SparkSession:
    """The active Spark session, or a new local one set up for anxin.

    Parameters
    ----------
    master : str, optional
        ``local[2]``, ``yarn``, ... Default: the active session, else
        spark-submit's ``--master``, else ``local[*]``.
    config : dict, optional
        More Spark settings for a new session.

    Returns
    -------
    SparkSession
    """
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("anxin")
    if master is not None or _GATEWAY not in os.environ:
        builder = builder.master(master or "local[*]")  # spark-submit's wins
    for key, value in {**SESSION_CONFIG, **(config or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
