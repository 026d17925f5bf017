"""The session anxin starts, and where pandas 3 meets PySpark (anxin.spark._compat)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from anxin.spark._compat import arrow_schema, collect, create, frame_to_arrow
from anxin.spark.features import feature_schema


def test_the_session_runs_this_python_in_utc(spark: Any) -> None:
    conf = spark.sparkContext.getConf()
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.python.daemon.module") == "anxin.spark._daemon"
    assert os.environ["PYSPARK_PYTHON"] == sys.executable


def test_importing_anxin_leaves_spark_local_ip_alone() -> None:
    # pandera would set SPARK_LOCAL_IP=127.0.0.1 (and warn) when PySpark is
    # there, and warn again when it builds the first schema
    code = (
        "import os, warnings\n"
        "warnings.simplefilter('error', FutureWarning)\n"
        "import anxin.validation, anxin.cases.scores\n"
        "from anxin.synthetic import synth\n"
        "from anxin.config import config_context\n"
        "with config_context(today='2026-11'):\n"
        "    anxin.validation.validate(synth(50, 3, seed=0).tables)\n"
        "print(os.environ.get('SPARK_LOCAL_IP'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "SPARK_LOCAL_IP"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None"


def test_pandas3_frames_round_trip_through_arrow(spark: Any) -> None:
    frame = pd.DataFrame(
        {
            "text": pd.array(["a", None, "c"], dtype="str"),
            "category": pd.Categorical(["x", None, "x"]),
            "when": pd.to_datetime(["2020-01-01", None, "2021-05-06"]).as_unit("us"),
            "count": pd.array([1, None, 3], dtype="Int64"),
            "share": np.array([0.5, np.nan, 1.5], dtype=np.float32),
        }
    )
    schema = pa.schema(
        [
            ("text", pa.string()),
            ("category", pa.string()),
            ("when", pa.timestamp("us")),
            ("count", pa.int64()),
            ("share", pa.float32()),
        ]
    )
    back = collect(create(spark, frame_to_arrow(frame, schema)))
    assert back["text"].dtype == "str" and back["text"].isna().tolist()[1]
    assert back["category"].tolist()[0] == "x" and pd.isna(back["category"][1])
    assert back["when"].dtype == "datetime64[us]" and pd.isna(back["when"][1])
    assert back["share"].dtype == np.float32 and np.isnan(back["share"][1])
    assert back["count"].tolist()[0] == 1


def test_feature_rows_keep_float32_exactly() -> None:
    schema = arrow_schema(feature_schema())
    assert schema.field("headcount").type == pa.float32()
    assert schema.field("region").type == pa.string()
