"""Months as integers, and the Spring Festival calendar.

A month is held internally as ``year * 12 + month - 1`` (an int32 "month
index"), which makes lags and windows plain integer arithmetic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: 春节 (Chinese New Year) dates; Spring Festival falls in January or February.
SPRING_FESTIVAL = {
    2010: "2010-02-14", 2011: "2011-02-03", 2012: "2012-01-23", 2013: "2013-02-10",
    2014: "2014-01-31", 2015: "2015-02-19", 2016: "2016-02-08", 2017: "2017-01-28",
    2018: "2018-02-16", 2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12",
    2022: "2022-02-01", 2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29",
    2026: "2026-02-17", 2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13",
    2030: "2030-02-03", 2031: "2031-01-23", 2032: "2032-02-11", 2033: "2033-01-31",
    2034: "2034-02-19", 2035: "2035-02-08", 2036: "2036-01-28", 2037: "2037-02-15",
    2038: "2038-02-04", 2039: "2039-01-24", 2040: "2040-02-12",
}  # fmt: skip


def to_index(period: str) -> int:
    """``'2024-03'`` -> month index.

    Examples
    --------
    >>> to_index("2024-03") - to_index("2023-12")
    3
    """
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def to_period(index: int) -> str:
    """Month index -> ``'YYYY-MM'``.

    Examples
    --------
    >>> to_period(to_index("2024-03"))
    '2024-03'
    """
    year, month0 = divmod(int(index), 12)
    return f"{year:04d}-{month0 + 1:02d}"


def series_to_index(periods: pd.Series | pd.Index) -> np.ndarray:
    """Vectorised ``YYYY-MM`` -> int32 month index (periods must be valid).

    Each distinct period is parsed once; a categorical column is not hashed
    again.
    """
    series = pd.Series(periods)
    if isinstance(series.dtype, pd.CategoricalDtype):
        distinct = [str(p) for p in series.cat.categories]
        codes = np.asarray(series.cat.codes)
    else:
        arr = pa.Array.from_pandas(series.astype("str"))
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        encoded = pc.dictionary_encode(arr)
        distinct = encoded.dictionary.to_pylist()
        codes = encoded.indices.to_numpy(zero_copy_only=False)
    lookup = np.array([to_index(p) for p in distinct], dtype=np.int32)
    return lookup[codes] if len(lookup) else np.zeros(0, dtype=np.int32)


def index_to_periods(index: np.ndarray) -> np.ndarray:
    """Vectorised month index -> array of ``YYYY-MM`` strings."""
    index = np.asarray(index, dtype=np.int64)
    if index.size == 0:
        return np.array([], dtype=object)
    lo, hi = int(index.min()), int(index.max())
    table = np.array([to_period(i) for i in range(lo, hi + 1)], dtype=object)
    return table[index - lo]


def months_to_spring_festival(index: np.ndarray) -> np.ndarray:
    """Months from each month to the next Spring Festival month (0 = in it)."""
    index = np.asarray(index, dtype=np.int64)
    year = index // 12
    sf_month = np.array(
        [
            int(SPRING_FESTIVAL.get(int(y), f"{int(y)}-02")[5:7]) - 1
            for y in range(int(year.min(initial=2000)), int(year.max(initial=2000)) + 2)
        ]
    )
    base = int(year.min(initial=2000))
    this_year = year * 12 + sf_month[year - base]
    next_year = (year + 1) * 12 + sf_month[year + 1 - base]
    return np.where(index <= this_year, this_year - index, next_year - index)


def is_spring_festival_season(index: np.ndarray) -> np.ndarray:
    """Whether each month is within one month of the Spring Festival month."""
    to_next = months_to_spring_festival(index)
    since = months_to_spring_festival(np.asarray(index) - 1) + 1
    return (to_next <= 1) | (since <= 1)
