"""The contract's own checks, each defined once for both validation engines.

A check is a *rule*: a function from a column's values to "ok" flags. The
pandera models in :mod:`anxin.schemas` name these rules declaratively
(``Field(period_format=())``); pandera runs them on pandas data, and
:mod:`anxin._arrow_contract` runs the very same rule functions on Arrow data
when :func:`anxin.validate` checks a month of tables. Text rules see each
distinct value once: a province's payroll has 10+ million rows but about a
million codes and a dozen months.

A rule returns ``True`` where the value keeps the rule; missing values never
reach a rule (nullability is its own rule).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anxin import _uscc
from anxin._pandera import extensions
from anxin.config import get_config

__all__ = ["RULES", "Rule", "arrow_text", "by_distinct"]

#: A month written ``YYYY-MM`` with ASCII digits, the whole string.
MONTH_REGEX = r"[0-9]{4}-(0[1-9]|1[0-2])"


@dataclasses.dataclass(frozen=True)
class Rule:
    """A named contract rule.

    Attributes
    ----------
    name : str
        The check's name in the pandera models.
    code : str
        The rule code in the quarantine report (usually ``name``).
    text : Callable or None
        For text columns: distinct values (a pandas ``string`` Series) -> ok
        flags; statistics come as keyword arguments.
    numeric : Callable or None
        For numeric columns: an Arrow array -> Arrow booleans (nulls = ok),
        or None when every value keeps the rule.
    """

    name: str
    code: str
    text: Callable[..., np.ndarray] | None = None
    numeric: Callable[..., pa.Array | None] | None = None


#: Check name -> its rule, for every check the contract declares.
RULES: dict[str, Rule] = {}


def arrow_text(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """A text column as one Arrow string array (nulls kept)."""
    if isinstance(values, pd.Series):
        arr: Any = pa.Array.from_pandas(values.astype("string"))
    else:
        arr = values
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    return arr


def by_distinct(
    values: pa.Array, rule: Callable[[pd.Series], np.ndarray]
) -> np.ndarray:
    """Apply a text ``rule`` to the distinct values only; ok flags per row.

    Missing values are reported as not ok (callers mask them out).
    """
    encoded = pc.dictionary_encode(values)
    distinct = pd.Series(encoded.dictionary.to_pylist(), dtype="string")
    ok = np.append(np.asarray(rule(distinct), dtype=bool), False)  # last: null
    codes = encoded.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False)
    return np.asarray(ok[codes])


def _register_text(name: str, code: str | None = None) -> Any:
    """Declare a text rule: a pandera check method plus the shared rule."""

    def decorate(fn: Callable[[pd.Series], np.ndarray]) -> Any:
        RULES[name] = Rule(name, code or name, text=fn)

        def pandas_check(series: pd.Series) -> pd.Series:
            ok = by_distinct(arrow_text(series), fn)
            return pd.Series(ok | series.isna().to_numpy(), index=series.index)

        pandas_check.__name__ = name
        pandas_check.__doc__ = fn.__doc__
        extensions.register_check_method()(pandas_check)
        return fn

    return decorate


def _fullmatch(values: pd.Series, regex: str) -> np.ndarray:
    return values.str.fullmatch(regex).fillna(False).to_numpy(bool)


@_register_text("uscc_check_character")
def uscc_check_character(values: pd.Series) -> np.ndarray:
    """A valid 统一社会信用代码 (18 characters, GB 32100-2015 check character)."""
    return _uscc.valid_mask(values)


@_register_text("region_code")
def region_code(values: pd.Series) -> np.ndarray:
    """A 6-digit administrative division code (ASCII digits only)."""
    return _fullmatch(values, "[0-9]{6}")


@_register_text("period_format")
def period_format(values: pd.Series) -> np.ndarray:
    """A month written ``YYYY-MM`` (ASCII digits, nothing before or after)."""
    return _fullmatch(values, MONTH_REGEX)


@_register_text("period_not_in_future")
def period_not_in_future(values: pd.Series) -> np.ndarray:
    """Not after the current month (``ANXIN_TODAY``)."""
    # malformed periods are reported by period_format; don't report twice
    month = _fullmatch(values, MONTH_REGEX)
    return ~(month & (values > get_config().today).fillna(False).to_numpy(bool))


@_register_text("period_not_before_floor")
def period_not_before_floor(values: pd.Series) -> np.ndarray:
    """Not before the earliest month the contract accepts (``ANXIN_PERIOD_FLOOR``)."""
    month = _fullmatch(values, MONTH_REGEX)
    return ~(month & (values < get_config().period_floor).fillna(False).to_numpy(bool))


def _finite_pandas(series: pd.Series) -> pd.Series:
    """A finite number: not ``inf``, ``-inf`` (``Infinity``, ``1e400``)."""
    values = pd.to_numeric(series, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    return pd.Series(~np.isinf(values), index=series.index)


def _finite_arrow(values: pa.Array) -> pa.Array | None:
    if not pa.types.is_floating(values.type):
        return None
    extremes = pc.min_max(values)
    low, high = extremes["min"].as_py(), extremes["max"].as_py()
    if low is None or (np.isfinite(low) and np.isfinite(high)):
        return None
    return pc.invert(pc.is_inf(values))


_finite_pandas.__name__ = "finite"
extensions.register_check_method()(_finite_pandas)
RULES["finite"] = Rule("finite", "not_finite", numeric=_finite_arrow)


def _date_not_before_pandas(series: pd.Series, min_value: str) -> pd.Series:
    """Not before ``min_value`` (a date)."""
    return pd.Series(~(series < pd.Timestamp(min_value)), index=series.index)


def _date_not_before_arrow(values: pa.Array, min_value: str) -> pa.Array | None:
    floor = pa.scalar(pd.Timestamp(min_value).date(), pa.date32())
    dates = values.cast(pa.date32())
    low = pc.min(dates)
    if not low.is_valid or pc.greater_equal(low, floor).as_py():
        return None
    return pc.greater_equal(dates, floor)


_date_not_before_pandas.__name__ = "date_not_before"
extensions.register_check_method(statistics=["min_value"])(_date_not_before_pandas)
RULES["date_not_before"] = Rule(
    "date_not_before", "date_out_of_range", numeric=_date_not_before_arrow
)
