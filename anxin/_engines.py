"""The engines of ``anxin score``: this machine, or Apache Spark.

Both take :func:`anxin.score_month`'s arguments and return a result the
command line prints the same way. Spark is an optional extra: without
PySpark, asking for it is a usage error that names the install command,
raised before any data are read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from anxin.exceptions import InvalidParameterError

__all__ = ["ENGINES", "scorer"]

#: ``--engine`` choices; the first is the default.
ENGINES = ("local", "spark")


def scorer(
    engine: str, *, master: str | None = None, encoding: str | None = None
) -> Callable[..., Any]:
    """The scoring function of ``engine``, with :func:`anxin.score_month`'s call.

    Parameters
    ----------
    engine : {"local", "spark"}
    master : str, optional
        Spark master (``local[2]``, ``yarn``, ``spark://host:7077``); default
        the running session's (spark-submit), else ``local[*]``.
    encoding : str, optional
        CSV encoding: the local engine's only (Spark reads Parquet).

    Raises
    ------
    InvalidParameterError
        If ``engine`` is ``"spark"`` and PySpark is not installed, or an
        option of the other engine is given.
    """
    if engine == "local":
        if master is not None:
            raise InvalidParameterError(
                "--spark-master applies to --engine spark only. Drop it, or "
                "add --engine spark."
            )
        from anxin.scoring import score_month

        return score_month
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise InvalidParameterError(
            "--engine spark needs PySpark and Java 17: pip install "
            "'anxin[spark]'. Or score on this machine with --engine local."
        ) from exc
    if encoding is not None:
        raise InvalidParameterError(
            "--encoding applies to CSV exports, which --engine spark does not "
            "read (it reads Parquet and metastore tables). Drop --encoding."
        )
    return _SparkScorer(master)


class _SparkScorer:
    """:func:`anxin.spark.score` in a session on ``master``."""

    def __init__(self, master: str | None) -> None:
        self.master = master

    def __call__(
        self,
        data_dir: str | Path,
        out_dir: str | Path,
        *,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> Any:
        from anxin.spark import score, spark_session

        return score(data_dir, out_dir, spark=spark_session(self.master), **kwargs)
