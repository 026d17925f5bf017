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

from anxin._params import check_param

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


def as_datetime(now: _dt.datetime | str | None) -> _dt.datetime:
    """``now`` as a naive local datetime; ``None`` is the current second.

    Examples
    --------
    >>> as_datetime("2026-07-01 09:00")
    datetime.datetime(2026, 7, 1, 9, 0)
    """
    if now is None:
        return _dt.datetime.now().replace(microsecond=0)
    if isinstance(now, str):
        text = now
        try:
            now = _dt.datetime.fromisoformat(text)
        except ValueError:
            now = None
        check_param(
            "now",
            text,
            "the case store",
            "an ISO datetime such as '2026-07-01 09:00'",
            now is not None,
        )
    if isinstance(now, pd.Timestamp):
        now = now.to_pydatetime()
    check_param(
        "now", now, "the case store", "a datetime", isinstance(now, _dt.datetime)
    )
    assert isinstance(now, _dt.datetime)
    if now.tzinfo is not None:
        now = now.astimezone().replace(tzinfo=None)
    return now


def check_by(by: Any, owner: str) -> str:
    """Whoever acts, stripped; refused when missing or empty (留痕).

    Examples
    --------
    >>> check_by(" 张三 ", "move")
    '张三'
    """
    ok = isinstance(by, str) and by.strip() != ""
    check_param(
        "by",
        by,
        owner,
        "the non-empty name of the person or service acting (留痕: every "
        "change names its actor), e.g. by='张三'",
        ok,
    )
    return str(by).strip()


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
