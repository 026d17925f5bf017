"""Values the case store takes in and gives out: times, actors, JSON, frames.

Times are naive local datetimes (the bureau's wall clock); an aware datetime
is converted to local time.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from anxin.cases.limits import check_name, check_time, refuse

__all__ = [
    "DATETIME_COLUMNS",
    "as_datetime",
    "check_by",
    "chunks",
    "jsonable",
    "load_json",
    "typed",
]

#: Columns read back as datetime64 wherever they appear in a frame.
DATETIME_COLUMNS: frozenset[str] = frozenset(
    {
        "at",
        "due_at",
        "created_at",
        "updated_at",
        "verified_at",
        "closed_at",
        "stage_started_at",
    }
)


def as_datetime(
    now: _dt.datetime | str | None,
    name: str = "now",
    owner: str = "the case store",
) -> _dt.datetime:
    """``now`` as a naive local datetime; ``None`` is the current second.

    Refused unless it is a datetime (or ISO text) within
    [:data:`~anxin.cases.limits.EARLIEST_TIME`,
    :data:`~anxin.cases.limits.LATEST_TIME`); ``name`` and ``owner`` name it
    in the message.

    Examples
    --------
    >>> as_datetime("2026-07-01 09:00")
    datetime.datetime(2026, 7, 1, 9, 0)
    >>> as_datetime("9999-12-31 23:00", "--now", "anxin cases move")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The '--now' parameter of anxin cases move must be a time from 1970-01-01 to before 2100-01-01. Got '9999-12-31 23:00' instead.
    """  # noqa: E501
    if now is None:
        return _dt.datetime.now().replace(microsecond=0)
    given = now
    if isinstance(now, str):
        try:
            now = _dt.datetime.fromisoformat(now)
        except ValueError:
            refuse(name, given, owner, "an ISO datetime such as '2026-07-01 09:00'")
    if isinstance(now, pd.Timestamp):
        now = now.to_pydatetime()
    if not isinstance(now, _dt.datetime) or now is pd.NaT:
        refuse(name, given, owner, "a datetime")
    # in range first: converting a time near year 1 or 9999 overflows
    check_time(name, now.replace(tzinfo=None), owner, given)
    if now.tzinfo is not None:
        now = now.astimezone().replace(tzinfo=None)
    return check_time(name, now, owner, given)


def check_by(by: Any, owner: str, name: str = "by") -> str:
    """Whoever acts, stripped; refused when missing or empty (留痕), or when
    it does not fit the ``actor`` column (see :func:`~anxin.cases.limits.check_name`).

    Examples
    --------
    >>> check_by(" 张三 ", "move")
    '张三'
    """
    text = by.strip() if isinstance(by, str) else ""
    if not text:
        refuse(
            name,
            by,
            owner,
            "the non-empty name of the person or service acting (留痕: every "
            "change names its actor), e.g. by='张三'",
        )
    return check_name(name, text, owner)


def jsonable(value: Any) -> Any:
    """Plain JSON types from numpy / pandas values (NaN -> None).

    Examples
    --------
    >>> jsonable({"n": np.int64(3), "x": float("nan"), "v": (1, 2)})
    {'n': 3, 'x': None, 'v': [1, 2]}
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, _dt.date | _dt.datetime | pd.Timestamp):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def load_json(value: Any) -> Any:
    """A JSON column's value: drivers return text or already-parsed objects."""
    if isinstance(value, str):
        return json.loads(value)
    return value


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Datetime columns as datetime64, the rest as pandas infers them."""
    for column in frame.columns:
        if column in DATETIME_COLUMNS:
            frame[column] = pd.to_datetime(frame[column])
    return frame


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``size`` (for ``IN (...)`` lists)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
