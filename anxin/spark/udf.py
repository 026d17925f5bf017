"""anxin's registered model as an MLflow Spark UDF, for teams that score that way.

:func:`pyfunc_udf` is :func:`mlflow.pyfunc.spark_udf` with what anxin's
pyfunc needs there:

* ``env_manager="local"``: the executors run the driver's environment, where
  anxin is installed (MLflow would otherwise try to rebuild the model's
  environment, whose ``anxin==...`` pin is not on a public index);
* an explicit ``result_type`` (:data:`RESULT_TYPE`): the pyfunc's output
  schema lists optional pass-through columns (``as_of``, ``period``) that
  MLflow would otherwise require in every answer.

Call it on a struct of the feature columns (the signature has optional
columns, so MLflow cannot pick them itself)::

    udf = anxin.spark.pyfunc_udf("models:/anxin-arrears@champion")
    scored = features.withColumn("p", udf(F.struct(*features.columns)))

Scores, levels under a threshold policy and reasons equal the pyfunc's on
pandas. ``rank`` and quota levels are computed within each Arrow batch the
UDF receives, not over the whole DataFrame: for global ranks and per-region
quotas use :func:`anxin.spark.score`.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

from anxin.spark.session import spark_session

__all__ = ["RESULT_TYPE", "pyfunc_udf"]

#: What the UDF returns: one struct per row (``reasons`` is a JSON list).
RESULT_TYPE = (
    "enterprise_id string, risk_score double, risk_level string, rank long, "
    "reasons string, reasons_zh string, reasons_en string"
)


def pyfunc_udf(
    model: str,
    *,
    spark: SparkSession | None = None,
    explain: str = "alerts",
    top_k: int = 3,
    tracking_uri: str | None = None,
) -> Any:
    """anxin's pyfunc as a Spark UDF returning a struct (:data:`RESULT_TYPE`).

    Parameters
    ----------
    model : str
        An MLflow model URI: ``models:/anxin-arrears@champion``,
        ``models:/NAME/VERSION``, ``runs:/RUN_ID/model``.
    spark : SparkSession, optional
        Default: the active session, else a local one.
    explain, top_k
        As for the pyfunc (``alerts``, ``all`` or ``none``; reasons per row).
    tracking_uri : str, optional
        The MLflow store holding ``model`` (default from configuration).

    Returns
    -------
    pyspark UserDefinedFunction
        Call it on ``F.struct(*columns)`` with ``enterprise_id`` and the
        model's features.
    """
    import mlflow.pyfunc

    from anxin.reasons import check_serve_params
    from anxin.tracking import use_tracking

    explain, top_k = check_serve_params({"explain": explain, "top_k": top_k})
    spark = spark or spark_session()
    with use_tracking(tracking_uri):
        return mlflow.pyfunc.spark_udf(
            spark,
            model,
            result_type=RESULT_TYPE,
            env_manager="local",
            params={"explain": explain, "top_k": top_k},
        )
