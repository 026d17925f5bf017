"""The contract's pandera models, evaluated on Arrow data, row by row.

:func:`check_table` reads a model's columns, types, nullability, checks and
unique keys (the single definition in :mod:`anxin.schemas`) and applies them
to an Arrow table with pyarrow compute kernels, text rules on distinct values
(:mod:`anxin._checks`). Every value-level problem is a row-level breach:

* a value that cannot be read as its column's type (``twelve``, ``2020-13-45``,
  a number beyond int64) is ``wrong_type``, and its row gets no further checks
  (pandera's lazy validation does the same in two passes);
* an empty required value is ``missing_value``;
* a broken check is reported under the check's rule code.

Nothing here raises for bad values; only a model that declares a check
without an Arrow implementation raises (a bug, found by the tests).
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anxin._checks import RULES, arrow_text
from anxin._grid import remember_codes
from anxin._params import available_cores

__all__ = [
    "QUARANTINE_COLUMNS",
    "Breach",
    "Checked",
    "Encoded",
    "breach_report",
    "check_ok",
    "check_table",
    "duplicate_rows",
    "flags",
    "pandas_column",
    "to_arrow",
    "valid_frame",
]

#: Date and time layouts accepted for date columns, tried in order.
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
)
#: Whole numbers that surely fit int64 (up to 18 digits).
_INT = r"^-?[0-9]{1,18}$"
_FLOAT = r"(?i)^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?|inf|infinity|nan)$"


@dataclasses.dataclass
class Breach:
    """Rows of one table that break one rule in one column."""

    rows: np.ndarray  # row positions (int64)
    column: str | None
    rule: str
    values: list[str | None]  # the offending values as text


@dataclasses.dataclass
class Checked:
    """A table after :func:`check_table`."""

    #: column -> values in the contract's Arrow type (null where unreadable)
    columns: dict[str, pa.Array]
    #: rows with a value that could not be read (no further checks)
    type_bad: np.ndarray
    breaches: list[Breach]
    #: text column -> its values dictionary-encoded (hashed once, shared by
    #: every check, the cross-table rules and the duplicate keys)
    encoded: dict[str, Encoded] = dataclasses.field(default_factory=dict)


def _dictionary(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The dictionary of a dictionary array (shared by all chunks)."""
    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 0:
            return pa.array([], values.type.value_type)
        return values.chunk(0).dictionary
    return values.dictionary


@dataclasses.dataclass
class Encoded:
    """A text column as its distinct values and one code per row."""

    distinct: pa.Array  # the distinct values (string)
    codes: np.ndarray  # per row: position in ``distinct``; len(distinct) = null

    @classmethod
    def of(cls, values: pa.Array | pa.ChunkedArray) -> Encoded:
        """Encode ``values`` (a dictionary array is used as it is)."""
        enc = values if pa.types.is_dictionary(values.type) else None
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.unify_dictionaries() if enc.num_chunks > 1 else enc
        if (
            enc is None
            or _dictionary(enc).null_count
            or (len(pc.unique(_dictionary(enc))) != len(_dictionary(enc)))
        ):
            enc = pc.dictionary_encode(arrow_text(values))
        distinct = _dictionary(enc).cast(pa.string())
        chunks = enc.chunks if isinstance(enc, pa.ChunkedArray) else [enc]
        codes = [
            c.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False)
            for c in chunks
        ]
        joined = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
        return cls(distinct, joined.astype(np.int64, copy=False))

    def per_row(self, flags: np.ndarray, null: bool) -> np.ndarray:
        """Per-distinct flags -> per-row flags (``null`` for missing values)."""
        return np.append(np.asarray(flags, dtype=bool), null)[self.codes]


def _kind(dtype: Any) -> str:
    text = str(dtype).lower()
    if "datetime" in text:
        return "date"
    if "float" in text:
        return "float"
    if "int" in text:
        return "int"
    return "text"


def _text(values: pa.Array) -> pa.Array:
    """Text as written, without surrounding blanks or a leading ``+``."""
    trimmed = pc.utf8_trim_whitespace(arrow_text(values))
    return pc.replace_substring_regex(trimmed, r"^\+", "")


def _numeric(values: pa.Array, target: pa.DataType, regex: str) -> pa.Array:
    """Text -> numbers; unreadable values become null (found by the caller)."""
    text = _text(values)
    try:
        return pc.cast(text, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    readable = pc.fill_null(pc.match_substring_regex(text, regex), True)
    out = pc.cast(
        pc.if_else(readable, text, pa.scalar(None, pa.string())), pa.float64()
    )
    if pa.types.is_integer(target):
        return _to_int(out)
    return out


def _to_int(values: pa.Array) -> pa.Array:
    """Floats -> int64 where whole and in range; null elsewhere."""
    x = values.to_numpy(zero_copy_only=False).astype(np.float64)
    ok = np.isfinite(x) & (np.floor(x) == x) & (np.abs(x) < 2.0**63)
    whole = np.where(ok, x, 0).astype(np.int64)
    mask = ~ok | np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False))
    return pa.array(whole, mask=mask, type=pa.int64())


def _parse_int(values: pa.Array) -> pa.Array:
    if pa.types.is_integer(values.type):
        return values.cast(pa.int64())
    if pa.types.is_floating(values.type) or pa.types.is_decimal(values.type):
        return _to_int(values.cast(pa.float64()))
    if pa.types.is_boolean(values.type):
        return values.cast(pa.int64())
    text = _text(values)
    try:
        return pc.cast(text, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    readable = pc.fill_null(pc.match_substring_regex(text, _INT), True)
    return pc.cast(pc.if_else(readable, text, pa.scalar(None, pa.string())), pa.int64())


def _parse_float(values: pa.Array) -> pa.Array:
    t = values.type
    if any(
        f(t)
        for f in (
            pa.types.is_floating,
            pa.types.is_integer,
            pa.types.is_decimal,
            pa.types.is_boolean,
        )
    ):
        out = values.cast(pa.float64())
    else:
        out = _numeric(values, pa.float64(), _FLOAT)
    # NaN is missing, as in pandas
    return pc.if_else(pc.is_nan(out), pa.scalar(None, pa.float64()), out)


def _parse_date(values: pa.Array) -> pa.Array:
    if pa.types.is_timestamp(values.type):
        return values.cast(pa.timestamp("us", values.type.tz))
    if pa.types.is_date(values.type):
        return values.cast(pa.timestamp("us"))
    text = _text(values)
    out = pa.nulls(len(text), pa.timestamp("us"))
    for fmt in DATE_FORMATS:
        parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
        out = pc.coalesce(out, parsed)
    return out


_PARSERS = {
    "int": _parse_int,
    "float": _parse_float,
    "date": _parse_date,
    "text": lambda v: v if _is_text(v.type) else arrow_text(v),
}


def _is_text(t: pa.DataType) -> bool:
    """Text as it comes: (large) strings, or a dictionary of them (no copy)."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _parse(values: pa.Array, kind: str) -> pa.Array:
    if len(values) == 0:
        target = {"int": pa.int64(), "float": pa.float64()}.get(kind, pa.string())
        target = pa.timestamp("us") if kind == "date" else target
        return pa.array([], type=target)
    if pa.types.is_null(values.type):
        values = values.cast(pa.string())
    parsed: pa.Array = _PARSERS[kind](values)
    return parsed


def _mask(values: pa.Array | np.ndarray) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values.astype(bool)
    return np.asarray(pc.fill_null(values, True).to_numpy(zero_copy_only=False))


def check_ok(
    check: Any,
    values: pa.Array,
    kind: str,
    encoded: Encoded | None = None,
    trusted: pa.Array | None = None,
) -> np.ndarray | None:
    """Ok flags of one declared check (missing values are ok); None if all ok.

    Text rules run on the distinct values of ``encoded`` (computed here when
    not given), except those in ``trusted`` (values that already kept the
    same rules elsewhere, such as the valid enterprise codes). Comparisons
    first look at the column's minimum and maximum, so a clean column costs
    one pass.
    """
    stats = dict(check.statistics or {})
    name = check.name
    rule = RULES.get(name)
    if rule is not None and rule.text is not None:
        enc = encoded or Encoded.of(arrow_text(values))
        flags = np.ones(len(enc.distinct), dtype=bool)
        todo = np.arange(len(enc.distinct))
        if trusted is not None:
            todo = np.flatnonzero(~_mask(pc.is_in(enc.distinct, value_set=trusted)))
        if todo.size:
            distinct = pd.Series(
                enc.distinct.take(pa.array(todo)).to_pylist(), dtype="string"
            )
            flags[todo] = np.asarray(rule.text(distinct), dtype=bool)
        return None if flags.all() else enc.per_row(flags, null=True)
    if name == "isin":
        allowed = pa.array(list(stats["allowed_values"]))
        if encoded is not None:
            found = _mask(pc.is_in(encoded.distinct, value_set=allowed))
            return None if found.all() else encoded.per_row(found, null=True)
        return _mask(
            pc.or_kleene(pc.is_in(values, value_set=allowed), pc.is_null(values))
        )
    if rule is not None and rule.numeric is not None:
        result = rule.numeric(values, **stats)
        return None if result is None else _mask(result)
    compare = {
        "greater_than_or_equal_to": (pc.greater_equal, "min"),
        "greater_than": (pc.greater, "min"),
        "less_than_or_equal_to": (pc.less_equal, "max"),
        "less_than": (pc.less, "max"),
    }
    if name in compare:
        op, end = compare[name]
        bound = pa.scalar(stats.get("min_value", stats.get("max_value")))
        extreme = pc.min_max(values)[end]
        if not extreme.is_valid or op(extreme, bound).as_py():
            return None  # the column's extreme keeps the rule: all rows do
        return _mask(op(values, bound))
    raise NotImplementedError(
        f"The contract check {name!r} has no Arrow implementation; add it to "
        "anxin._checks."
    )


def _as_text(values: pa.Array, rows: np.ndarray) -> list[str | None]:
    taken = values.take(pa.array(rows, type=pa.int64())).to_pylist()
    return [None if v is None else str(v) for v in taken]


def _nulls(values: pa.Array) -> np.ndarray:
    if values.null_count == 0:
        return np.zeros(len(values), dtype=bool)
    return np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False))


def _unreadable(values: pa.Array, parsed: pa.Array, kind: str) -> np.ndarray | None:
    """Rows whose given value could not be read (None: there are none)."""
    if parsed.null_count == values.null_count:
        return None  # parsing made no value missing
    given = ~_nulls(values)
    if kind == "float":  # a NaN given as a value is missing, not unreadable
        if pa.types.is_floating(values.type):
            nan = pc.is_nan(values)
        else:
            nan = pc.match_substring_regex(_text(values), r"(?i)^[+-]?nan$")
        given &= ~_mask(pc.fill_null(nan, False))
    bad = given & _nulls(parsed)
    return bad if bad.any() else None


def _read_column(values: pa.Array, column: Any) -> tuple[pa.Array, Encoded | None]:
    kind = _kind(column.dtype)
    parsed = _parse(values, kind)
    encoded = Encoded.of(parsed) if kind == "text" else None
    return parsed, encoded


def _one_chunk(values: pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A column as one array when that is free; chunked otherwise (no copy)."""
    if values.num_chunks == 1:
        return values.chunk(0)
    return values if values.num_chunks else values.combine_chunks()


def check_table(
    table: pa.Table, schema: Any, trusted: dict[str, pa.Array] | None = None
) -> Checked:
    """Parse and check every contract column of ``table`` against ``schema``.

    ``schema`` is a pandera ``DataFrameSchema`` (``Model.to_schema()``);
    every column it declares must be in ``table``. ``trusted`` maps a text
    column to values known to keep its text rules. Columns are read on
    threads (pyarrow's kernels release the GIL).
    """
    trusted = trusted or {}
    n = table.num_rows
    names = list(schema.columns)
    given = {c: _one_chunk(table.column(c)) for c in names}
    with ThreadPoolExecutor(max_workers=available_cores()) as pool:
        read = dict(
            zip(
                names,
                pool.map(lambda c: _read_column(given[c], schema.columns[c]), names),
                strict=True,
            )
        )
    columns = {c: read[c][0] for c in names}
    encoded = {c: read[c][1] for c in names if read[c][1] is not None}
    type_bad = np.zeros(n, dtype=bool)
    breaches: list[Breach] = []
    for name, column in schema.columns.items():
        bad = _unreadable(given[name], columns[name], _kind(column.dtype))
        if bad is not None:
            rows = np.flatnonzero(bad)
            values = given[name]
            breaches.append(Breach(rows, name, "wrong_type", _as_text(values, rows)))
            type_bad |= bad
    for name, column in schema.columns.items():
        breaches += _column_breaches(
            name, column, columns[name], encoded.get(name), type_bad, trusted.get(name)
        )
    return Checked(
        columns=columns, type_bad=type_bad, breaches=breaches, encoded=encoded
    )


def _column_breaches(
    name: str,
    column: Any,
    parsed: pa.Array,
    encoded: Encoded | None,
    type_bad: np.ndarray,
    trusted: pa.Array | None = None,
) -> list[Breach]:
    """Missing values and broken checks of one column (readable rows only)."""
    out: list[Breach] = []
    if not len(parsed):
        return out
    if not column.nullable and parsed.null_count:
        missing = _nulls(parsed) & ~type_bad
        rows = np.flatnonzero(missing)
        if rows.size:
            out.append(Breach(rows, name, "missing_value", [None] * rows.size))
    kind = _kind(column.dtype)
    for check in column.checks:
        ok = check_ok(check, parsed, kind, encoded, trusted)
        if ok is None:
            continue
        rows = np.flatnonzero(~ok & ~type_bad)
        if rows.size:
            code = RULES[check.name].code if check.name in RULES else check.name
            out.append(Breach(rows, name, code, _as_text(parsed, rows)))
    return out


def duplicate_rows(keys: list[Encoded], candidates: np.ndarray) -> np.ndarray:
    """Rows (among ``candidates``) whose key repeats an earlier row's key.

    The first row with each key is kept; later ones are duplicates.
    """
    n = len(candidates)
    if n == 0:
        return np.zeros(0, dtype=bool)
    combined = np.zeros(n, dtype=np.int64)
    space = 1
    for enc in keys:
        combined = combined * (len(enc.distinct) + 1) + enc.codes
        space *= len(enc.distinct) + 1
    rows = np.flatnonzero(candidates)
    key = combined[rows]
    cheap = space <= 8 * max(n, 1_000_000)  # a count per possible key
    if cheap and np.bincount(key, minlength=space).max(initial=0) <= 1:
        return np.zeros(n, dtype=bool)
    order = np.argsort(key, kind="stable")
    repeat = np.zeros(rows.size, dtype=bool)
    repeat[order[1:]] = key[order[1:]] == key[order[:-1]]
    dup = np.zeros(n, dtype=bool)
    dup[rows[repeat]] = True
    return dup


#: Columns of :attr:`ValidationReport.quarantine`, one row per breach.
QUARANTINE_COLUMNS = [
    "table",
    "source_row",
    "source_line",
    "enterprise_id",
    "column",
    "value",
    "rule",
]


def to_arrow(frame: pd.DataFrame, columns: list[str]) -> pa.Table:
    arrays = []
    for c in columns:
        col = frame[c]
        try:
            arrays.append(pa.Array.from_pandas(col))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            # mixed Python objects: read them as text
            arrays.append(pa.Array.from_pandas(col.astype("string")))
    return pa.table(arrays, names=columns)


def flags(values: pa.Array, *, null: bool = False) -> np.ndarray:
    return np.asarray(pc.fill_null(values, null).to_numpy(zero_copy_only=False))


def breach_report(
    name: str, breaches: list[Breach], ids: pa.Array | None, lines: np.ndarray | None
) -> pd.DataFrame:
    """Breaches as :data:`QUARANTINE_COLUMNS`, sorted by row, column and rule."""
    if not breaches:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    rows = np.concatenate([b.rows for b in breaches])
    id_text = (
        arrow_text(ids).take(pa.array(rows)).to_pylist() if ids is not None else None
    )
    report = pd.DataFrame(
        {
            "table": name,
            "source_row": rows + 1,
            "source_line": lines[rows] if lines is not None else pd.NA,
            "enterprise_id": id_text,
            "column": [b.column for b in breaches for _ in b.rows],
            "value": [v for b in breaches for v in b.values],
            "rule": [b.rule for b in breaches for _ in b.rows],
        }
    )
    report["source_line"] = report["source_line"].astype("Int64")
    return report.drop_duplicates().sort_values(
        ["source_row", "column", "rule"], kind="stable", ignore_index=True
    )


def pandas_column(values: pa.Array, dtype: Any) -> pd.Series:
    """Arrow values as a pandas column of the contract's dtype."""
    text = str(dtype)
    if "datetime" in text:
        return pd.Series(values.cast(pa.timestamp("ns")).to_pandas(), copy=False)
    if text == "Int64":
        return pd.Series(
            values.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get),
            copy=False,
        )
    if "int" in text:
        return pd.Series(values.to_numpy(zero_copy_only=False), copy=False)
    if "float" in text:
        filled = pc.fill_null(values, np.nan)
        return pd.Series(filled.to_numpy(zero_copy_only=False), copy=False)
    return pd.Series(values.to_pandas(), copy=False).astype("str")


def _same_dtype(column: pd.Series, dtype: Any) -> bool:
    """Whether a raw column already has the contract's dtype (reuse it as is)."""
    text = str(dtype)
    have = str(column.dtype)
    if "datetime" in text or "string" in text or text == "str":
        return have == "str" and "datetime" not in text
    return have == text


#: Key columns whose codes are handed on: hashed once here, reused by the
#: features (a province's payroll repeats each code 13 times).
KEYS = ("enterprise_id", "period")


def valid_frame(
    raw: pd.DataFrame,
    columns: dict[str, pa.Array],
    schema: Any,
    good: np.ndarray,
    encoded: dict[str, Encoded],
) -> pd.DataFrame:
    """The good rows, contract columns in their contract types, extras as given.

    A raw column that already has its contract type is reused without a copy
    when every row is good. The codes of ``enterprise_id`` and ``period`` are
    remembered for the features (:func:`anxin._grid.remember_codes`).
    """
    keep = np.flatnonzero(good)
    every = keep.size == len(raw)
    out = raw.copy(deep=False) if every else raw.iloc[keep].reset_index(drop=True)
    take = None if every else pa.array(keep)
    for name, column in schema.columns.items():
        if _same_dtype(raw[name], column.dtype):
            continue  # the filtered raw column is already right
        values = columns[name] if take is None else columns[name].take(take)
        out[name] = pandas_column(values, column.dtype).array
    for name in KEYS:
        if name in encoded:
            enc = encoded[name]
            remember_codes(
                out[name], enc.distinct, enc.codes if every else enc.codes[keep]
            )
    return out
