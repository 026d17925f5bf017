"""The registered pyfunc in mlflow.pyfunc.spark_udf: the pyfunc's answers on pandas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

import anxin
import anxin.spark
from anxin.config import config_context
from anxin.exceptions import InvalidParameterError
from anxin.spark import pyfunc_udf
from anxin.tracking import log_model, register, use_tracking
from tests.spark.conftest import AS_OF, TODAY

MODEL = "models:/anxin-arrears/1"


@pytest.fixture(scope="module")
def registered(
    spark: Any,
    spark_model: Path,
    dirty_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, pd.DataFrame, Any]:
    """A store with the model registered; one month's features in pandas and Spark."""
    root = tmp_path_factory.mktemp("udf")
    uri = f"sqlite:///{root}/mlflow.db"
    with config_context(today=TODAY, home=str(root / "home")):
        model = anxin.load_model(str(spark_model))
        tables = anxin.validate(anxin.load_tables(dirty_dir)).tables
        features = anxin.build_features(tables, as_of=AS_OF)
        with use_tracking(uri):
            with mlflow.start_run():
                info = log_model(model, features)
            register(info.model_uri, "anxin-arrears", uri=uri)
        validation = anxin.spark.validate(
            anxin.spark.load_tables(dirty_dir, spark=spark)
        )
        on_spark = anxin.spark.build_features(validation, as_of=AS_OF)
    return uri, features, on_spark


def test_spark_udf_answers_as_the_pyfunc_does(
    registered: tuple[str, pd.DataFrame, Any],
) -> None:
    uri, features, on_spark = registered
    with use_tracking(uri):
        expected = mlflow.pyfunc.load_model(MODEL).predict(
            features, params={"explain": "all"}
        )
    udf = pyfunc_udf(MODEL, tracking_uri=uri, explain="all")
    got = (
        on_spark.withColumn("p", udf(F.struct(*on_spark.columns)))
        .select("p.*")
        .toPandas()
    )
    assert len(got) == len(expected) > 500
    both = expected.merge(got, on="enterprise_id", suffixes=("", "_udf"))
    assert len(both) == len(expected)
    gap = np.abs(both["risk_score"] - both["risk_score_udf"]).max()
    assert gap <= 1e-12
    for column in ("risk_level", "reasons_zh", "reasons_en"):
        assert both[column].tolist() == both[f"{column}_udf"].tolist(), column
    reasons = [json.loads(r) for r in both["reasons_udf"]]
    assert reasons == [json.loads(r) for r in both["reasons"]]
    assert sum(map(len, reasons)) > len(reasons)  # explain="all": reasons for all
    # ranks are within each batch the UDF receives (global ones: anxin.spark.score)
    assert got["rank"].min() == 1 and got["rank"].max() <= len(got)


def test_parameters_are_checked_before_spark(registered: Any) -> None:
    with pytest.raises(InvalidParameterError, match="'top_k' parameter"):
        pyfunc_udf(MODEL, tracking_uri=registered[0], top_k=0)
