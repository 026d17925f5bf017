"""anxin on Apache Spark: the same contract, features, model and reasons for
tens of millions of enterprises (``pip install 'anxin[spark]'``, Java 17).

.. code-block:: python

    import anxin.spark

    result = anxin.spark.score("hdfs-mounted/data/", "scores/", as_of="2026-06",
                               model="models:/anxin-arrears@champion")

Every bucket of enterprises (rows grouped by a hash of the enterprise code,
handed between steps as files the tasks write and read,
:mod:`anxin.spark._buckets`) runs one machine's code:
:func:`anxin.validation.validate_part`,
:func:`anxin.features.build_features_part`, the model bundle and
:func:`anxin.reasons.attach_reasons`; what a bucket cannot know alone (the
extract's last month, peer means, global ranks and quotas, drift bins) is
computed across buckets exactly. See docs/scale.md.
"""

from __future__ import annotations

from anxin.spark._month import read_scores
from anxin.spark.features import build_features
from anxin.spark.scoring import SparkScoreResult, score
from anxin.spark.session import spark_session
from anxin.spark.tables import SparkTables, load_tables
from anxin.spark.training import training_frame
from anxin.spark.udf import RESULT_TYPE, pyfunc_udf
from anxin.spark.validation import SparkValidation, validate

__all__ = [
    "RESULT_TYPE",
    "SparkScoreResult",
    "SparkTables",
    "SparkValidation",
    "build_features",
    "load_tables",
    "pyfunc_udf",
    "read_scores",
    "score",
    "spark_session",
    "training_frame",
    "validate",
]
