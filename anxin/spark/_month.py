"""The month's files from a Spark run: the layout one machine writes.

``scores.parquet`` is a directory here, partitioned by region (executors
write it); ``summary.json``, ``drift.csv``, ``quarantine.csv`` and
``quarantine/NAME.csv`` are written by the driver with the code and formats
of :mod:`anxin.scoring`. Only small things reach the driver: counts, the
drift bins, the quarantine, the top-ranked rows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from anxin._version import __version__
from anxin.drift import drift_summary
from anxin.levels import LevelPolicy
from anxin.model import ArrearsModel
from anxin.schemas import LEVELS
from anxin.spark._compat import arrow_schema, collect, quiet
from anxin.spark.validation import SparkValidation
from anxin.validation import QUARANTINE_COLUMNS

__all__ = [
    "TALLY",
    "quantile_ranks",
    "read_scores",
    "summary",
    "tally",
    "write_csv",
    "write_quarantine",
]


def read_scores(path: str | Path, *, flagged: bool = False) -> pd.DataFrame:
    """A month's ``scores.parquet`` (a file, or a Spark run's directory) as pandas.

    The region comes back as text (a partition directory's name would read
    as a number), rows in rank order. With ``flagged`` only the enterprises
    with a warning level (not ``none``) are read: what opening cases needs.
    """
    import pyarrow.dataset as ds

    target = Path(path)
    where = (ds.field("risk_level") != "none") if flagged else None
    if target.is_file():
        return pd.read_parquet(target, filters=where)
    part = ds.partitioning(pa.schema([("region", pa.string())]), flavor="hive")
    dataset = ds.dataset(target, format="parquet", partitioning=part)
    frame = dataset.to_table(filter=where).to_pandas()
    return frame.sort_values("rank", ignore_index=True)


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            _fsync(path)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """``frame`` as one machine's CSV file, on disk before the month commits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    _fsync(path)


def _pandas_dtypes(source: str) -> dict[str, str]:
    """Column -> pandas dtype recorded in a Parquet source written by pandas.

    ``pandas.read_parquet`` restores them (an ``Int64`` column prints ``-1``
    where a plain read prints ``-1.0``); Spark does not read them.
    """
    import pyarrow.dataset as ds

    path = Path(source)
    if not path.exists():  # a metastore table, or a remote path
        return {}
    try:
        schema = ds.dataset(path, format="parquet").schema
    except (OSError, pa.ArrowInvalid):
        return {}
    meta = schema.pandas_metadata or {}
    return {
        str(c["name"]): str(c["numpy_type"])
        for c in meta.get("columns", [])
        if c.get("name") is not None and str(c.get("numpy_type", ""))[:1].isupper()
    }


def write_quarantine(tmp: Path, validation: SparkValidation) -> None:
    """``quarantine.csv`` and ``quarantine/NAME.csv`` as one machine writes them."""
    breaches = collect(validation.quarantine)
    if breaches.empty:
        breaches = pd.DataFrame(columns=QUARANTINE_COLUMNS)
    write_csv(tmp / "quarantine.csv", breaches)
    for name in validation.rows_in:
        if validation.rows_in[name] == validation.rows_valid[name]:
            continue
        rejected = validation.rejected(name)
        dtypes = _pandas_dtypes(validation.sources[name])
        floats = validation.int_with_nulls.get(name, [])
        for column in set(floats) - set(dtypes):  # as the whole table reads
            rejected = rejected.withColumn(column, F.col(column).cast("double"))
        frame = collect(rejected)
        for column, dtype in dtypes.items():
            if column in frame.columns:
                frame[column] = frame[column].astype(pd.api.types.pandas_dtype(dtype))
        write_csv(tmp / "quarantine" / f"{name}.csv", frame)


#: Per bucket, what the summary needs of its finished rows: a row per
#: region and level (``count``, ``score_sum``), and the score at each
#: asked-for rank (``rank``, ``risk_score``).
TALLY = T.StructType(
    [
        T.StructField("kind", T.StringType()),  # "level" or "rank"
        T.StructField("region", T.StringType()),
        T.StructField("risk_level", T.StringType()),
        T.StructField("count", T.LongType()),
        T.StructField("score_sum", T.DoubleType()),
        T.StructField("rank", T.LongType()),
        T.StructField("risk_score", T.DoubleType()),
    ]
)

_QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


def quantile_ranks(n: int) -> tuple[int, ...]:
    """The ranks whose scores give the summary's quantiles of ``n`` scores."""
    at = [q * (n - 1) for q in _QUANTILES.values()]
    lows = {n - int(np.floor(h)) for h in at}
    highs = {max(1, n - int(np.floor(h)) - 1) for h in at}
    return tuple(sorted(lows | highs)) if n else ()


def tally(frame: pd.DataFrame, ranks: tuple[int, ...]) -> pa.RecordBatch:
    """:data:`TALLY` rows of one bucket's finished rows."""
    levels = frame.groupby(
        [frame["region"].astype(object), frame["risk_level"].astype(object)],
        dropna=False,
        observed=True,
    )["risk_score"].agg(["size", "sum"])
    at = frame[frame["rank"].isin(ranks)]
    n, m = len(levels), len(at)
    keys = [
        [None if pd.isna(v) else str(v) for v in levels.index.get_level_values(i)]
        for i in (0, 1)
    ]
    columns = {
        "kind": ["level"] * n + ["rank"] * m,
        "region": [*keys[0], *[None] * m],
        "risk_level": [*keys[1], *[None] * m],
        "count": [*levels["size"], *[None] * m],
        "score_sum": [*levels["sum"], *[None] * m],
        "rank": [None] * n + at["rank"].tolist(),
        "risk_score": [None] * n + at["risk_score"].tolist(),
    }
    return pa.RecordBatch.from_pydict(columns, schema=arrow_schema(TALLY))


def _quantiles(values: dict[int, float], n: int) -> dict[str, float | None]:
    """Score quantiles as pandas' ``quantile`` (linear), from the scores at
    :func:`quantile_ranks`."""
    if n == 0:
        return {"p50": None, "p95": None, "p99": None}
    out: dict[str, float | None] = {}
    for key, q in _QUANTILES.items():
        h = q * (n - 1)
        lo = int(np.floor(h))
        a = values[n - lo]
        b = values[max(1, n - lo - 1)] if lo + 1 < n else a
        out[key] = float(np.quantile(np.array([a, b]), h - lo))
    return out


def summary(
    model: ArrearsModel,
    month: str,
    tallied: pd.DataFrame,
    drift: pd.DataFrame,
    validation: SparkValidation,
    policy: LevelPolicy,
) -> dict[str, Any]:
    """The content of ``summary.json`` (``seconds`` and ``timings`` come
    last); ``tallied``: the finish tasks' :data:`TALLY` rows."""
    counts = tallied[tallied["kind"] == "level"]
    by_region = (
        counts.pivot_table(
            index="region", columns="risk_level", values="count", aggfunc="sum"
        )
        .reindex(columns=list(LEVELS), fill_value=0)
        .fillna(0)
        .sort_index()
        if len(counts)
        else pd.DataFrame(columns=list(LEVELS))
    )
    levels = {
        lvl: int(counts.loc[counts["risk_level"] == lvl, "count"].sum())
        for lvl in LEVELS
    }
    n = int(sum(levels.values()))
    alert_share = (n - levels["none"]) / n if n else 0.0
    mean = counts["score_sum"].sum() / n if n else None
    at = tallied[tallied["kind"] == "rank"]
    values = dict(zip(at["rank"].astype(int), at["risk_score"], strict=True))
    is_score = drift["feature"] == "risk_score"
    report = validation.summary()
    return {
        "as_of": month,
        "model_name": model.name,
        "model_version": str(model.version),
        "anxin_version": __version__,
        "engine": "spark",
        "scored": n,
        "levels": levels,
        "levels_by_region": {
            str(r): {k: int(v) for k, v in row.items()}
            for r, row in by_region.iterrows()
        },
        "policy": policy.to_dict(),
        "quarantine": {
            "rows": validation.n_quarantined,
            "by_table": report["rows_quarantined"],
            "by_rule": report["breaches_by_rule"],
        },
        "drift": {
            **drift_summary(
                drift,
                alert_share=alert_share,
                reference_share=model.reference.alert_share,
            ),
            "psi_max_feature": float(drift.loc[~is_score, "psi"].max()),
        },
        "score": {
            "mean": None if mean is None else float(mean),
            **_quantiles(values, n),
        },
        "seconds": None,
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    text = json.dumps(payload, ensure_ascii=False, indent=2)
    path.write_text(text, "utf-8")
    _fsync(path)


def write_scores(scores: DataFrame, target: Path) -> None:
    """The scores as Parquet partitioned by region, each region in rank order."""
    with quiet():
        (
            scores.repartition("region")
            .sortWithinPartitions("rank")
            .write.mode("error")
            .partitionBy("region")
            .parquet(str(target))
        )
    _fsync_tree(target)
