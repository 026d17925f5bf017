"""Periods of any cadence: months, quarters, years, or dates.

The contract tables are monthly, but a prepared frame may come from a bureau
that reports by quarter or by year, or that stamps rows with dates.
:func:`parse_periods` reads a period column into integer positions on one
cadence (its ``freq``), so that horizons, gaps and splits count in that
cadence: with yearly data, ``horizon=1`` is a year ahead.

======  ===========  =======================  ===========================
freq    cadence      written as               position
======  ===========  =======================  ===========================
``M``   monthly      ``2024-03``              ``year * 12 + month - 1``
``Q``   quarterly    ``2024Q1``               ``year * 4 + quarter - 1``
``Y``   yearly       ``2024``                 ``year``
======  ===========  =======================  ===========================

Text periods are recognised by their shape (``2024-03``, ``2024Q1`` or
``2024-Q1``, ``2024``; whole-number years such as ``2014.0`` read as years).
Dates (``2024-03-31``, or a datetime column) are placed in the period that
holds them; their cadence is ``freq`` when given, else inferred from the usual
distance between one entity's dates (12 months: yearly, 3: quarterly, 1:
monthly) and reported as inferred. Anything else -- a month 13, a mix of
months and years, a day-by-day series -- is an error that names the column
and shows a value.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from anxin._params import check_param, shown
from anxin.exceptions import ContractError

__all__ = [
    "FREQS",
    "Periods",
    "default_horizon",
    "parse_periods",
    "period_position",
    "period_text",
    "unit",
]

#: The cadences, by ``freq`` code.
FREQS = {"M": "monthly", "Q": "quarterly", "Y": "yearly"}
#: Periods per year of each cadence.
PER_YEAR = {"M": 12, "Q": 4, "Y": 1}
#: How many months each period spans.
MONTHS = {"M": 1, "Q": 3, "Y": 12}

_SHAPES = {
    "M": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "Q": re.compile(r"^(\d{4})-?[Qq]([1-4])$"),
    "Y": re.compile(r"^(\d{4})(?:\.0+)?$"),
}
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T].*)?$|^\d{4}/\d{1,2}/\d{1,2}$")
_HINT = (
    "Write months as YYYY-MM, quarters as YYYYQn, years as YYYY, or dates as "
    "YYYY-MM-DD (with freq='M', 'Q' or 'Y' to say how they are grouped)."
)


@dataclasses.dataclass(frozen=True)
class Periods:
    """A period column read on one cadence.

    Attributes
    ----------
    position : ndarray of int64
        Each row's period as an integer (consecutive periods differ by 1).
    freq : {"M", "Q", "Y"}
    source : str
        How the column was read: ``"text"``, ``"numbers"``, ``"dates"``
        or ``"periods"`` (a pandas Period column).
    inferred : bool
        Whether the cadence of dates was inferred rather than given.
    """

    position: np.ndarray
    freq: str
    source: str
    inferred: bool = False

    def text(self) -> np.ndarray:
        """Each row's period in its canonical text (``2024-03``, ``2024Q1``,
        ``2024``)."""
        return period_text(self.position, self.freq)

    def describe(self) -> str:
        """One line saying how the column was read, for logs and the card."""
        how = "inferred from the dates" if self.inferred else "as written"
        return f"{FREQS[self.freq]} periods ({self.source}, {how})"


def period_position(text: str, freq: str) -> int:
    """The position of one canonical period.

    Examples
    --------
    >>> period_position("2024Q2", "Q") - period_position("2023Q4", "Q")
    2
    >>> period_position("2024-03", "M") - period_position("2023-12", "M")
    3
    """
    match = _SHAPES[freq].match(str(text).strip())
    if match is None:
        raise ValueError(f"{text!r} is not a {FREQS[freq]} period")
    year = int(match.group(1))
    if freq == "Y":
        return year
    return year * PER_YEAR[freq] + int(match.group(2)) - 1


def period_text(position: np.ndarray | Sequence[int], freq: str) -> np.ndarray:
    """Canonical text of integer positions.

    Examples
    --------
    >>> period_text([8096, 8097], "Q").tolist()
    ['2024Q1', '2024Q2']
    >>> period_text([24290], "M").tolist(), period_text([2024], "Y").tolist()
    (['2024-03'], ['2024'])
    """
    pos = np.asarray(position, dtype=np.int64)
    if pos.size == 0:
        return np.array([], dtype=object)
    distinct, inverse = np.unique(pos, return_inverse=True)
    if freq == "Y":
        names = [f"{p:04d}" for p in distinct]
    elif freq == "Q":
        names = [f"{p // 4:04d}Q{p % 4 + 1}" for p in distinct]
    else:
        names = [f"{p // 12:04d}-{p % 12 + 1:02d}" for p in distinct]
    return np.array(names, dtype=object)[inverse.reshape(pos.shape)]


def default_horizon(freq: str | None) -> int:
    """Three months in the cadence, at least one period (3, 1, 1).

    Examples
    --------
    >>> [default_horizon(f) for f in ("M", "Q", "Y", None)]
    [3, 1, 1, 1]
    """
    return max(1, 3 // MONTHS[freq]) if freq else 1


def unit(freq: str | None, n: int) -> str:
    """``n`` periods in words.

    Examples
    --------
    >>> unit("M", 3), unit("Y", 1), unit("Q", 2)
    ('3 months', '1 year', '2 quarters')
    """
    word = {"M": "month", "Q": "quarter", "Y": "year"}.get(freq or "", "period")
    return f"{n} {word}{'' if n == 1 else 's'}"


def parse_periods(
    values: pd.Series | Sequence[Any],
    *,
    freq: str | None = None,
    column: str = "period",
    entities: pd.Series | None = None,
) -> Periods:
    """Read a period column on one cadence.

    Parameters
    ----------
    values : Series or sequence
        Text periods, whole-number years, dates or pandas Periods.
    freq : {"M", "Q", "Y"}, optional
        The cadence. Text periods carry theirs (a ``freq`` that disagrees is
        an error); dates are grouped by it, or by the inferred one.
    column : str, default "period"
        The column's name, for messages.
    entities : Series, optional
        Each row's entity, to infer the cadence of dates from the distance
        between one entity's dates.

    Returns
    -------
    Periods

    Raises
    ------
    ContractError
        If a value is missing, malformed, or the column mixes cadences, or
        the cadence of dates cannot be told.

    Examples
    --------
    >>> parse_periods(["2014", "2015.0"]).text().tolist()
    ['2014', '2015']
    >>> p = parse_periods(pd.to_datetime(["2020-12-31", "2021-12-31"]),
    ...     entities=pd.Series(["a", "a"]))
    >>> p.freq, p.inferred, p.text().tolist()
    ('Y', True, ['2020', '2021'])
    >>> parse_periods(["2014-13"], column="fyear")
    Traceback (most recent call last):
    ...
    anxin.exceptions.ContractError: column 'fyear': 1 value(s) are not periods, e.g. '2014-13'. Write months as YYYY-MM, quarters as YYYYQn, years as YYYY, or dates as YYYY-MM-DD (with freq='M', 'Q' or 'Y' to say how they are grouped).
    """  # noqa: E501
    check_param(
        "freq", freq, "parse_periods", "one of 'M', 'Q', 'Y' or None",
        freq is None or freq in FREQS,
    )  # fmt: skip
    series = pd.Series(values).reset_index(drop=True)
    _no_missing(series, column)
    if isinstance(series.dtype, pd.PeriodDtype):
        return _from_pandas_periods(series, freq, column)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return _from_dates(series, freq, column, entities)
    if pd.api.types.is_bool_dtype(series.dtype):
        _fail(column, series.astype("str"), len(series))
    if pd.api.types.is_numeric_dtype(series.dtype):
        return _from_numbers(series, freq, column)
    return _from_text(series.astype("str").str.strip(), freq, column, entities)


def _fail(column: str, bad: pd.Series, count: int, hint: str = _HINT) -> None:
    example = bad.iloc[0]
    example = example.item() if isinstance(example, np.generic) else example
    raise ContractError(
        f"column {column!r}: {count} value(s) are not periods, e.g. "
        f"{shown(example)}. {hint}",
        column=column,
    )


def _no_missing(series: pd.Series, column: str) -> None:
    missing = series.isna()
    if missing.any():
        raise ContractError(
            f"column {column!r}: {int(missing.sum())} row(s) have no period "
            f"(first at row {int(np.flatnonzero(missing)[0])}). Every row of a "
            "panel needs its period; drop those rows, or pass period=None for "
            "a snapshot without a time column.",
            column=column,
        )


def _check_freq(found: str, freq: str | None, column: str, example: Any) -> None:
    if freq is not None and freq != found:
        raise ContractError(
            f"column {column!r} holds {FREQS[found]} periods (e.g. "
            f"{shown(example)}), but freq={freq!r} ({FREQS[freq]}) was given. "
            f"Pass freq={found!r}, or leave freq out for text periods.",
            column=column,
        )


def _from_numbers(series: pd.Series, freq: str | None, column: str) -> Periods:
    values = series.to_numpy(dtype=np.float64)
    whole = np.isfinite(values) & (values == np.round(values))
    whole &= (values >= 1000) & (values <= 9999)
    if not whole.all():
        hint = "Numbers are read as years (YYYY); write other periods as text."
        _fail(column, series[~whole], int((~whole).sum()), hint)
    _check_freq("Y", freq, column, series.iloc[0])
    return Periods(values.astype(np.int64), "Y", "numbers")


def _from_text(
    text: pd.Series, freq: str | None, column: str, entities: pd.Series | None
) -> Periods:
    distinct = pd.unique(text)
    kinds: dict[str, list[str]] = {}
    bad = []
    for value in distinct:
        kind = next((f for f, rx in _SHAPES.items() if rx.match(value)), None)
        if kind is None and _DATE.match(value):
            kind = "date"
        if kind is None:
            bad.append(value)
        else:
            kinds.setdefault(kind, []).append(value)
    if bad:
        _fail(column, pd.Series(bad), int(text.isin(bad).sum()))
    if len(kinds) > 1:
        examples = ", ".join(
            f"{FREQS.get(k, 'dates')} {v[0]!r}" for k, v in kinds.items()
        )
        raise ContractError(
            f"column {column!r} mixes cadences ({examples}). Use one way of "
            f"writing periods. {_HINT}",
            column=column,
        )
    ((kind, found),) = kinds.items()
    if kind == "date":
        try:
            dates = pd.to_datetime(text, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise ContractError(
                f"column {column!r}: not every date can be read ({exc}). {_HINT}",
                column=column,
            ) from exc
        return dataclasses.replace(
            _from_dates(dates, freq, column, entities), source="dates"
        )
    _check_freq(kind, freq, column, found[0])
    lookup = {value: period_position(value, kind) for value in distinct}
    return Periods(text.map(lookup).to_numpy(dtype=np.int64), kind, "text")


def _from_pandas_periods(series: pd.Series, freq: str | None, column: str) -> Periods:
    freqstr = str(series.dtype.freq.freqstr)  # type: ignore[union-attr]
    code = freqstr[:1].upper()
    code = "Y" if code == "A" else code
    if code not in FREQS:
        raise ContractError(
            f"column {column!r} holds periods of frequency {freqstr!r}; "
            "anxin reads monthly, quarterly or yearly periods.",
            column=column,
        )
    _check_freq(code, freq, column, series.iloc[0])
    year = series.dt.year.to_numpy(dtype=np.int64)
    if code == "Y":
        pos = year
    elif code == "Q":
        pos = year * 4 + series.dt.quarter.to_numpy(dtype=np.int64) - 1
    else:
        pos = year * 12 + series.dt.month.to_numpy(dtype=np.int64) - 1
    return Periods(pos, code, "periods")


def _from_dates(
    dates: pd.Series, freq: str | None, column: str, entities: pd.Series | None
) -> Periods:
    months = (
        dates.dt.year.to_numpy(dtype=np.int64) * 12
        + dates.dt.month.to_numpy(dtype=np.int64)
        - 1
    )
    inferred = freq is None
    if freq is None:
        freq = _infer_freq(dates, months, column, entities)
    return Periods(months // MONTHS[freq], freq, "dates", inferred)


def _infer_freq(
    dates: pd.Series, months: np.ndarray, column: str, entities: pd.Series | None
) -> str:
    """The cadence whose length is the median distance between one entity's
    consecutive dates (in months)."""
    gaps = np.array([], dtype=np.int64)
    if entities is not None:
        frame = pd.DataFrame({"e": np.asarray(entities), "m": months, "d": dates})
        twice = frame.drop_duplicates(["e", "d"]).duplicated(["e", "m"])
        if twice.any():
            row = frame.loc[twice[twice].index[0]]
            raise ContractError(
                f"column {column!r}: entity {row['e']!r} has two dates in one "
                f"month (e.g. {row['d']:%Y-%m-%d}); anxin reads monthly, "
                "quarterly or yearly data. Pass freq='M', 'Q' or 'Y' to group "
                "the dates, with one row per entity and period.",
                column=column,
            )
        frame = frame[["e", "m"]].drop_duplicates().sort_values(["e", "m"])
        step = frame["m"].diff().to_numpy()
        same = frame["e"].to_numpy()[1:] == frame["e"].to_numpy()[:-1]
        gaps = step[1:][same]
    if gaps.size == 0:
        distinct = np.unique(months)
        gaps = np.diff(distinct)
    if gaps.size == 0:
        raise ContractError(
            f"column {column!r}: every date falls in one month, so its cadence "
            "cannot be told. Pass freq='M', 'Q' or 'Y', or period=None for a "
            "snapshot.",
            column=column,
        )
    median = float(np.median(gaps))
    for code in ("M", "Q", "Y"):
        if abs(median - MONTHS[code]) <= 0.25 * MONTHS[code]:
            return code
    raise ContractError(
        f"column {column!r}: consecutive dates of an entity are a median "
        f"{median:g} months apart, which is not a month, a quarter or a year. "
        "Pass freq='M', 'Q' or 'Y' to say how to group the dates.",
        column=column,
    )
