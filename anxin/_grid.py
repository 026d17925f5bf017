"""Dense (enterprise x month) grids: the machinery under features and labels.

The tables are scattered into dense month x enterprise grids (float64, NaN
where a month is missing) and every feature is whole-array arithmetic on views
of those grids shifted by whole months, with no per-enterprise Python code.
Enterprise codes and periods are hashed with pyarrow compute kernels, which
are several times faster than pandas' object-string hashing for millions of
rows.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anxin import _calendar
from anxin._params import check_param
from anxin.exceptions import ContractError, InvalidParameterError
from anxin.schemas import PERIOD_PATTERN
from anxin.tables import Tables

T = TypeVar("T")
R = TypeVar("R")

#: Months of history (before ``t``) a feature at ``t`` may use.
LOOKBACK = 12


#: Months of history (before ``t``) a feature at ``t`` may use.
LOOKBACK = 12


@dataclasses.dataclass
class Grid:
    """Dense (enterprise, month) layout of the window being computed.

    Column ``c`` of a grid is month ``m0 + c - pad``. The first ``pad``
    columns are padding (missing), so that looking up to ``LOOKBACK`` months
    back from every target month is a plain slice: 12 when the first target
    is the first month of data (training), none when the targets have a full
    year of data before them (scoring), which halves the grids.
    """

    ids: pa.Array  # sorted enterprise ids; position = enterprise code
    m0: int  # month index of the first real column
    n_months: int  # real columns
    targets: np.ndarray  # month indices to output, sorted
    # the enterprise code of each row of the enterprises table, and that
    # table's id column (its array): ids of other tables found in those rows
    # by anxin.validate map to codes without hashing (enterprise_codes)
    codes_of_rows: np.ndarray | None = None
    rows_source: Any = None

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def pad(self) -> int:
        return max(0, LOOKBACK - int(self.targets[0] - self.m0))

    @property
    def width(self) -> int:
        return self.pad + self.n_months

    def cols(self) -> np.ndarray:
        return self.targets - self.m0 + self.pad

    def view(self, x: np.ndarray, k: int) -> np.ndarray:
        """Values ``k`` months before each target month: shape (rows, targets)."""
        cols = self.cols() - k
        lo = int(cols[0])
        if cols.size == cols[-1] - lo + 1:  # contiguous: a view, no copy
            return x[:, lo : lo + cols.size]
        return x[:, cols]


def arrow_str(values: pd.Series) -> pa.Array:
    """A pandas text column as one contiguous pyarrow large_string array."""
    arr = pa.Array.from_pandas(values.astype("str"))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


#: id(pandas array) -> (weak reference, its Arrow data, distinct values, codes)
_CODES: dict[int, tuple[Any, Any, pa.Array, np.ndarray]] = {}


def remember_codes(values: pd.Series, distinct: pa.Array, codes: np.ndarray) -> None:
    """Remember the distinct values and codes of a text column.

    :func:`anxin.validate` hashes the key columns anyway; the features reuse
    its codes instead of hashing ten million rows again. The memory is tied
    to the column's array: a changed or new column is hashed afresh.
    """
    array = values.array
    key = id(array)
    if len(distinct) < 2**31:  # half the memory while the tables live
        codes = codes.astype(np.int32)
    try:
        ref = weakref.ref(array, lambda _: _CODES.pop(key, None))
    except TypeError:  # an array type without weak references: not cached
        return
    _CODES[key] = (ref, getattr(array, "_pa_array", None), distinct, codes)


def distinct_and_codes(values: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """A text column as its distinct values and one code per row."""
    array = values.array
    hit = _CODES.get(id(array))
    same = hit is not None and hit[0]() is array
    if same and hit[1] is getattr(array, "_pa_array", None):  # type: ignore[index]
        return hit[2], hit[3]  # type: ignore[index]
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = pa.array(values.cat.categories.astype("str"), pa.large_string())
        return cats, np.asarray(values.cat.codes, dtype=np.int64)
    enc = pc.dictionary_encode(arrow_str(values))
    codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return enc.dictionary, codes


#: id(a table's distinct ids) -> (weak reference to them, weak reference to the
#: enterprises' id array, its Arrow data, the enterprises row of each distinct
#: id or -1)
_ROWS: dict[int, tuple[Any, Any, Any, np.ndarray]] = {}


def remember_rows(distinct: pa.Array, enterprises: pd.Series, found: pa.Array) -> None:
    """Remember the row of ``enterprises`` that holds each of ``distinct``.

    :func:`anxin.validate` looks every table's distinct ids up among the
    enterprises anyway (the ``known_enterprise`` rule); the features reuse the
    rows instead of hashing a million ids again. The memory is tied to both
    arrays: another enterprises column, or other ids, are hashed afresh.
    """
    key, theirs = id(distinct), enterprises.array
    try:
        ref = weakref.ref(distinct, lambda _: _ROWS.pop(key, None))
        source = weakref.ref(theirs)
    except TypeError:  # an array type without weak references: not cached
        return
    rows = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    _ROWS[key] = (ref, source, getattr(theirs, "_pa_array", None), rows)


def _remembered_rows(distinct: pa.Array, grid: Grid) -> np.ndarray | None:
    hit = _ROWS.get(id(distinct))
    if hit is None or grid.codes_of_rows is None or hit[0]() is not distinct:
        return None
    source = grid.rows_source
    same = hit[1]() is source and hit[2] is getattr(source, "_pa_array", None)
    return hit[3] if same else None  # not if the ids were changed in place


def enterprise_codes(grid: Grid, values: pd.Series, table: str) -> np.ndarray:
    """Enterprise codes (positions in ``grid.ids``) of a column of ids."""
    if grid.codes_of_rows is not None and values.array is grid.rows_source:
        return grid.codes_of_rows  # the enterprises table itself
    distinct, codes = distinct_and_codes(values)
    rows = _remembered_rows(distinct, grid)
    if rows is not None and grid.codes_of_rows is not None:
        lookup = np.where(rows >= 0, grid.codes_of_rows[rows], -1)
        unknown = lookup < 0
    else:
        found = pc.index_in(distinct, value_set=grid.ids)
        unknown = _nulls(found)
        lookup = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
    used = np.bincount(codes, minlength=len(distinct)) > 0
    if (unknown & used).any():
        missing = distinct.filter(pa.array(unknown & used))
        raise ContractError(
            f"{table}: enterprise_id {missing[0].as_py()!r} is not in enterprises. "
            "Run anxin.validate first and build features from report.tables.",
            table=table,
            column="enterprise_id",
        )
    return np.asarray(lookup, dtype=np.int64)[codes]


def _nulls(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False))


def period_index(periods: pd.Series) -> np.ndarray:
    """Month index (int64) of each ``YYYY-MM`` period; each distinct one parsed once."""
    distinct, codes = distinct_and_codes(periods)
    lookup = np.array([_calendar.to_index(p) for p in distinct.to_pylist()], np.int64)
    return lookup[codes] if len(lookup) else np.zeros(0, dtype=np.int64)


def period_bounds(periods: pd.Series) -> tuple[str, str] | None:
    """The first and last month of a period column (None when empty)."""
    distinct, codes = distinct_and_codes(periods)
    used = distinct.filter(pa.array(np.bincount(codes, minlength=len(distinct)) > 0))
    if len(used) == 0:
        return None
    return str(pc.min(used).as_py()), str(pc.max(used).as_py())


def scatter(
    grid: Grid,
    frame: pd.DataFrame | None,
    columns: Sequence[str],
    table: str,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Place a monthly table's columns on the grid; return (values, present)."""
    shape = (grid.n, grid.width)
    present = np.zeros(shape, dtype=bool)
    out = {c: np.full(shape, np.nan) for c in columns}
    if frame is None or frame.empty:
        return out, present
    month = period_index(frame["period"])
    col = month - grid.m0 + grid.pad
    keep = (col >= grid.pad) & (col < grid.width)
    every = bool(keep.all())
    codes = enterprise_codes(grid, frame["enterprise_id"], table)
    flat = (codes if every else codes[keep]) * grid.width + col[keep]
    present.ravel()[flat] = True
    for c in columns:
        values = pd.to_numeric(frame[c]).to_numpy(dtype=np.float64, na_value=np.nan)
        out[c].ravel()[flat] = values if every else values[keep]
    return out, present


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(num / den, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


class Counts:
    """Months with data in trailing windows, from one integer cumulative sum.

    Integer sums are exact, so a window's count at ``t`` does not depend on
    where the grid starts. Shared by every series with the same missingness.
    """

    def __init__(self, g: Grid, ok: np.ndarray) -> None:
        self.g = g
        self.ok_now = g.view(ok, 0)
        cs = np.zeros((ok.shape[0], ok.shape[1] + 1), dtype=np.int16)
        np.cumsum(ok, axis=1, dtype=np.int16, out=cs[:, 1:])
        self._cs = cs
        self._cache: dict[int, np.ndarray] = {}

    def __call__(self, w: int) -> np.ndarray:
        if w not in self._cache:
            g = self.g
            # cs[c + 1] - cs[c + 1 - w] counts columns c-w+1 .. c
            self._cache[w] = (g.view(self._cs, -1) - g.view(self._cs, w - 1)).astype(
                np.float64
            )
        return self._cache[w]


class Win:
    """Windowed sums of one grid series at the target months.

    Integer-valued series (counts, flags, headcount) use an exact cumulative
    sum. Real-valued series keep a running sum over ``k = 0 .. w-1`` months
    back, snapshotting the requested window lengths, so the value at ``t``
    is the same arithmetic whatever the grid's first month: scoring one
    month gives the full panel's values bit for bit.
    """

    def __init__(
        self,
        g: Grid,
        x: np.ndarray,
        lengths: Sequence[int],
        *,
        counts: Counts | None = None,
        integer: bool = False,
    ) -> None:
        self.g = g
        self.now = g.view(x, 0)
        x0 = np.nan_to_num(x, nan=0.0)
        self.counts = counts if counts is not None else Counts(g, ~np.isnan(x))
        self.now0 = g.view(x0, 0)
        self.s: dict[int, np.ndarray] = {}
        wanted = sorted(set(lengths))
        if integer:
            cs = np.zeros((x0.shape[0], x0.shape[1] + 1))
            np.cumsum(x0, axis=1, out=cs[:, 1:])
            for w in wanted:
                self.s[w] = g.view(cs, -1) - g.view(cs, w - 1)
            return
        total = self.now0.copy()
        for k in range(1, wanted[-1]):
            if k in wanted:
                self.s[k] = total.copy()
            total += g.view(x0, k)
        self.s[wanted[-1]] = total

    def sum(self, w: int) -> np.ndarray:
        """Sum over ``t-w+1 .. t``; missing when no month has data."""
        out = self.s[w].copy()
        out[self.counts(w) == 0] = np.nan
        return out

    def count(self, w: int) -> np.ndarray:
        """Months with data in ``t-w+1 .. t``."""
        return self.counts(w)

    def mean(self, w: int) -> np.ndarray:
        return safe_ratio(self.s[w], self.counts(w))

    def mean_before(self, w: int) -> np.ndarray:
        """Mean over the ``w`` months before ``t`` (``t-w .. t-1``)."""
        return safe_ratio(
            self.s[w + 1] - self.now0, self.counts(w + 1) - self.counts.ok_now
        )

    def mean_between(self, near: int, far: int) -> np.ndarray:
        """Mean over ``t-far+1 .. t-near``; (3, 6) is the 3 months before the
        last 3."""
        return safe_ratio(
            self.s[far] - self.s[near], self.counts(far) - self.counts(near)
        )

    def std(self, w: int, squares: Win) -> np.ndarray:
        mean = self.mean(w)
        var = safe_ratio(squares.s[w], self.counts(w)) - mean * mean
        out = np.sqrt(np.maximum(var, 0.0))
        out[self.counts(w) < 2] = np.nan
        return out


def chg(g: Grid, x: np.ndarray, k: int) -> np.ndarray:
    """Relative change against ``k`` months earlier; NaN when either is missing."""
    now, then = g.view(x, 0), g.view(x, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (now - then) / np.abs(then)
    zero = then == 0  # from zero: +100% if it rose, 0% if it stayed at zero
    out[zero] = np.where(now[zero] > 0, 1.0, np.where(now[zero] == 0, 0.0, np.nan))
    return np.clip(out, -1.0, 10.0)


def rolling_max(g: Grid, x: np.ndarray, w: int) -> np.ndarray:
    out = g.view(x, 0).copy()
    for k in range(1, w):
        np.fmax(out, g.view(x, k), out=out)
    return out


def streak(g: Grid, flag: np.ndarray, active_now: np.ndarray) -> np.ndarray:
    """Consecutive months up to ``t`` where ``flag`` holds (at most 13)."""
    run = g.view(flag, 0).copy()
    out = run.astype(np.float64)
    for k in range(1, LOOKBACK + 1):
        run &= g.view(flag, k)
        out += run
    out[~active_now] = np.nan
    return out


def since(g: Grid, flag: np.ndarray) -> np.ndarray:
    """Months since ``flag`` last held, within the lookback; NaN if never."""
    out = np.full(g.view(flag, 0).shape, np.nan)
    for k in range(LOOKBACK, -1, -1):
        out[g.view(flag, k)] = k
    return out


def step_change(x: np.ndarray) -> np.ndarray:
    """Month-on-month relative change over the whole grid (first column NaN)."""
    out = np.full_like(x, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 1:] = (x[:, 1:] - x[:, :-1]) / np.maximum(np.abs(x[:, :-1]), 1.0)
    return np.clip(out, -1.0, 10.0)


def lag_ratio(x: np.ndarray) -> np.ndarray:
    """x[t] / x[t-1] over the whole grid (first column NaN)."""
    out = np.full_like(x, np.nan)
    out[:, 1:] = safe_ratio(x[:, 1:], x[:, :-1])
    return out


def parse_months(value: str | Sequence[str] | None) -> list[int] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    out = []
    for item in items:
        ok = isinstance(item, str) and bool(PERIOD_PATTERN.fullmatch(item))
        check_param(
            "as_of", item, "build_features", "a month 'YYYY-MM' (or a list)", ok
        )
        out.append(_calendar.to_index(item))
    check_param(
        "as_of", value, "build_features", "a month or a non-empty list", bool(out)
    )
    return sorted(set(out))


def window(
    tables: Tables,
    as_of: str | Sequence[str] | None,
    bounds: tuple[str, str] | None = None,
) -> Grid:
    """The grid of ``as_of`` (every month when None).

    ``bounds`` are the first and last payroll months of the whole extract
    when ``tables`` hold only some of its enterprises (one bucket of a
    cluster run): the grid then starts where the whole extract's would.
    """
    column = tables.enterprises["enterprise_id"]
    unsorted = arrow_str(column)
    order = pc.sort_indices(unsorted)
    ids = unsorted.take(order)
    codes_of_rows = np.empty(len(ids), dtype=np.int64)
    codes_of_rows[order.to_numpy()] = np.arange(len(ids))
    if len(pc.unique(ids)) != len(ids):
        raise ContractError(
            "enterprises: enterprise_id is not unique. Run anxin.validate first "
            "and build features from report.tables.",
            table="enterprises",
            column="enterprise_id",
        )
    if bounds is None:
        bounds = period_bounds(tables.payroll["period"])
    if bounds is None:
        raise ContractError("payroll: no rows to build features from.", table="payroll")
    lo, hi = (_calendar.to_index(p) for p in bounds)
    targets = parse_months(as_of)
    if targets is None:
        return Grid(
            ids, lo, hi - lo + 1, np.arange(lo, hi + 1), codes_of_rows, column.array
        )
    outside = [t for t in targets if not lo <= t <= hi]
    if outside:
        raise InvalidParameterError(
            f"The 'as_of' parameter of build_features must be a month with "
            f"payroll data ({_calendar.to_period(lo)} to {_calendar.to_period(hi)}). "
            f"Got {_calendar.to_period(outside[0])!r} instead.",
            parameter="as_of",
            value=_calendar.to_period(outside[0]),
        )
    start = max(lo, targets[0] - LOOKBACK)
    return Grid(
        ids,
        start,
        targets[-1] - start + 1,
        np.asarray(targets),
        codes_of_rows,
        column.array,
    )


def event_months(tables: Tables, g: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    events = tables.events
    if events is None or events.empty:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    code = enterprise_codes(g, events["enterprise_id"], "events")
    month = period_index(events["period"])
    workers = pd.to_numeric(events["workers_affected"]).to_numpy(dtype=np.float64)
    return code, month, workers


def map_jobs(fn: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R]:
    """``map`` over threads; numpy and pyarrow release the GIL in their loops."""
    if jobs <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(fn, items))
