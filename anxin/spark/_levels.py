"""Global ranks and warning levels on Spark, exactly as one machine gives them.

One machine ranks every enterprise by score (ties: the lower enterprise
code first) and, under quotas, gives each level to the top share of the
month -- or of each region. Here the same order is a distributed sort
(:func:`anxin.spark.tables.row_numbers` numbers it without gathering it in
one place), a region's place is a window over the region, and the level
comes from :meth:`anxin.levels.LevelPolicy.quota_codes` -- the function one
machine uses -- applied to those places: global ranks, not per-partition
approximations.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from anxin.levels import LevelPolicy
from anxin.spark.tables import row_numbers

__all__ = ["POSITION", "SIZE", "ranked"]

#: 0-based place of a score in its quota group, and the group's size.
POSITION = "_position"
SIZE = "_size"


def ranked(
    scored: DataFrame, policy: LevelPolicy, *, keep: tuple[str, ...] = ()
) -> DataFrame:
    """``enterprise_id``, ``rank`` and (for quotas) each score's place.

    ``scored`` has ``enterprise_id``, ``region`` and ``risk_score``; the
    columns in ``keep`` are carried along.
    """
    order = [F.desc("risk_score"), F.asc("enterprise_id")]
    base = scored.select("enterprise_id", "region", "risk_score", *keep)
    out = row_numbers(base.orderBy(*order), "rank")
    if policy.kind != "quota":
        return out.select(
            "enterprise_id",
            *keep,
            "rank",
            F.lit(None).cast("long").alias(POSITION),
            F.lit(None).cast("long").alias(SIZE),
        )
    if policy.by == "region":
        group = Window.partitionBy("region")
        out = out.withColumn(
            POSITION, F.row_number().over(group.orderBy(*order)) - 1
        ).withColumn(SIZE, F.count(F.lit(1)).over(group))
    else:
        n = out.count()
        out = out.withColumn(POSITION, F.col("rank") - 1).withColumn(SIZE, F.lit(n))
    return out.select(
        "enterprise_id",
        *keep,
        "rank",
        F.col(POSITION).cast("long"),
        F.col(SIZE).cast("long"),
    )
