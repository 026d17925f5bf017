"""PySpark's worker daemon with anxin already imported.

Spark forks one Python worker per task slot from a daemon process. A fresh
worker would import pandas, pyarrow, pandera, LightGBM and anxin (2-3 s)
before its first bucket; forked from this daemon it starts with them
loaded. Set by :func:`anxin.spark.spark_session` (``spark.python.daemon.module``).
"""

from __future__ import annotations

from pyspark.daemon import manager

import anxin.features
import anxin.labels
import anxin.model
import anxin.reasons
import anxin.spark.features
import anxin.spark.scoring
import anxin.validation  # noqa: F401

if __name__ == "__main__":
    manager()
