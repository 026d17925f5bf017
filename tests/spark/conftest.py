"""One local Spark session for the Spark tests, a tiny model and dirty data.

Without Java (or PySpark) the tests skip with the reason; in CI
(``ANXIN_REQUIRE_SPARK=1``, set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import anxin
from anxin.config import config_context

TODAY = "2026-11"
AS_OF = "2026-06"


def _missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (pip install 'anxin[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return (
            "Java is not installed (Spark needs Java 17: "
            "apt-get install openjdk-17-jre-headless)"
        )
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """A local[2] session shared by every Spark test."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("ANXIN_REQUIRE_SPARK") == "1":
            pytest.fail(f"ANXIN_REQUIRE_SPARK=1 but {reason}")
        pytest.skip(reason)
    from anxin.spark import spark_session

    session = spark_session(
        "local[2]",
        config={
            "spark.sql.shuffle.partitions": "4",
            "spark.default.parallelism": "2",
            "spark.driver.memory": "1g",
        },
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model bundle (few rounds: these tests check equality, not skill)."""
    path = tmp_path_factory.mktemp("spark-model")
    with config_context(today=TODAY, home=str(path / "home")):
        world = anxin.synth(n_enterprises=1200, n_months=30, seed=4)
        result = anxin.train(
            anxin.validate(world.tables).tables, log=False, seed=0, num_boost_round=30
        )
    result.model.save(path / "model")
    return path / "model"


@pytest.fixture(scope="session")
def dirty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with every kind of row-level breach, as Parquet."""
    path = tmp_path_factory.mktemp("spark-data")
    with config_context(today=TODAY):
        anxin.synth(n_enterprises=600, n_months=14, seed=7, dirty=True).tables.write(
            path
        )
    return path
