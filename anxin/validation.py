"""Validation that loses nothing: valid rows pass, bad rows are quarantined.

Every value-level problem is a row-level breach: a value that cannot be read
(``twelve`` in a count, ``2020-13-45`` as a date), one out of range (a
negative wage, ``inf``, a period before 1990 or after this month, a date
before 1900), a broken code, a repeated key, an unknown enterprise. The row
is moved to the quarantine with the rule, the column, the value and the line
it came from, and the rest of the table is used. CSV lines that cannot be
split into the header's fields, or decoded, are quarantined the same way by
:func:`anxin.load_tables`. Only structural problems reject a table (a missing
table or column, an unreadable file, a required table with no rows), with a
:class:`~anxin.exceptions.ContractError` naming the file and the fix.

For every table ``rows in == rows valid + rows quarantined``.

The rules are the pandera models of :mod:`anxin.schemas`, evaluated on Arrow
data by :mod:`anxin._arrow_contract` (with the cross-table rules below); the
rule codes and their meaning are :data:`RULE_DESCRIPTIONS`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anxin._arrow_contract import (
    QUARANTINE_COLUMNS,
    Breach,
    Checked,
    breach_report,
    check_table,
    duplicate_rows,
    flags,
    to_arrow,
    valid_frame,
)
from anxin._checks import MONTH_REGEX, arrow_text
from anxin._contract_errors import check_columns, no_rows_error, no_valid_rows_error
from anxin._csv import raw_lines
from anxin._grid import remember_rows
from anxin._params import available_cores
from anxin.config import get_config
from anxin.exceptions import ContractError
from anxin.schemas import REQUIRED_TABLES, SCHEMAS, TABLE_NAMES
from anxin.tables import Provenance, Tables

__all__ = [
    "QUARANTINE_COLUMNS",
    "RULE_DESCRIPTIONS",
    "ValidationReport",
    "last_period_of",
    "validate",
    "validate_part",
]

logger = logging.getLogger(__name__)


#: Rule code -> what it means and how to fix it.
RULE_DESCRIPTIONS: dict[str, str] = {
    "wrong_type": "value cannot be read as the column's type; fix the value",
    "missing_value": "required value is empty; fill it in or drop the row at source",
    "not_finite": "number is infinite (inf, Infinity, 1e400); give a finite value",
    "greater_than_or_equal_to": "value is below the allowed minimum (negative?)",
    "greater_than": "value must be strictly positive",
    "isin": "value is not one of the allowed codes",
    "region_code": "not a 6-digit administrative division code (ASCII digits)",
    "uscc_check_character": "not a valid 统一社会信用代码 (18 characters, check "
    "character per GB 32100-2015)",
    "duplicate_key": "key already appeared in an earlier row (the first is kept)",
    "period_format": "period is not a month written YYYY-MM",
    "period_not_in_future": "period is after the current month",
    "period_not_before_floor": "period is before the earliest month accepted "
    "(ANXIN_PERIOD_FLOOR, 1990-01 by default); a typo in the year?",
    "date_out_of_range": "date is before 1900-01-01; a typo in the year?",
    "known_enterprise": "enterprise_id is not among the valid enterprises",
    "established_not_after_last_period": "established after the last period in "
    "the data",
    "period_not_before_established": "period is before the month the "
    "enterprise was established",
    "malformed_line": "CSV line cannot be split into the header's fields (an "
    "extra or missing comma, an unclosed quote); fix the line",
    "undecodable": "CSV line is neither UTF-8 nor GBK/GB18030; re-save it",
}

#: Cross-table rules: (rule, tables it applies to, what it compares).
CROSS_TABLE_RULES = {
    "known_enterprise": "payroll, tax, signals, events: `enterprise_id` exists "
    "among the valid rows of `enterprises`",
    "established_not_after_last_period": "enterprises: `established` is not "
    "after the last valid payroll period",
    "period_not_before_established": "payroll, tax, signals, events: `period` "
    "is not before the month the enterprise was established",
}


def _rule_code(check: str) -> str:
    name = check.split("(", 1)[0]
    if name in ("coerce_dtype", "dtype"):
        return "wrong_type"
    if name == "not_nullable":
        return "missing_value"
    if name in ("field_uniqueness", "multiple_fields_uniqueness"):
        return "duplicate_key"
    if name == "finite":
        return "not_finite"
    if name == "date_not_before":
        return "date_out_of_range"
    return name


@dataclasses.dataclass
class ValidationReport:
    """Outcome of :func:`validate`.

    Attributes
    ----------
    tables : Tables
        Valid rows only, with contract types (periods as ``YYYY-MM`` text).
    quarantine : DataFrame
        One row per breach: ``table``, ``source_row`` (1-based row of the
        table as read; empty for a CSV line that could not be read as a
        row), ``source_line`` (the line of a CSV file; empty for Parquet and
        in-memory tables), ``enterprise_id``, ``column``, ``value``, ``rule``.
    quarantined_rows : dict
        Table -> the quarantined rows as read, with ``source_row`` (and
        ``source_line`` for CSV). :meth:`write_quarantine` gives a CSV
        file's quarantined lines back byte for byte.
    rows_in, rows_valid : dict
        Table -> row counts (``rows_in`` counts every CSV data line).
    extra_columns : dict
        Table -> columns not in the contract (kept, never used).
    absent_tables : list
        Optional tables that were not supplied.
    bad_lines : dict
        Table -> CSV lines that could not be read as rows (``source_line``,
        ``problem``).
    recoded_lines : dict
        Table -> CSV lines decoded in another encoding than the rest of
        their file (read correctly, and reported).
    provenance : dict
        Table -> where a CSV table's rows came from.
    """

    tables: Tables
    quarantine: pd.DataFrame
    quarantined_rows: dict[str, pd.DataFrame]
    rows_in: dict[str, int]
    rows_valid: dict[str, int]
    extra_columns: dict[str, list[str]]
    absent_tables: list[str]
    bad_lines: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    recoded_lines: dict[str, int] = dataclasses.field(default_factory=dict)
    provenance: dict[str, Provenance] = dataclasses.field(default_factory=dict)

    @property
    def n_quarantined(self) -> int:
        """Number of quarantined rows (and unreadable CSV lines) over all tables."""
        return sum(self.rows_in[t] - self.rows_valid[t] for t in self.rows_in)

    def counts(self) -> pd.DataFrame:
        """Breaches and distinct rows per table and rule."""
        q = self.quarantine
        if q.empty:
            return pd.DataFrame(columns=["table", "rule", "breaches", "rows"])
        # a row is its line in a CSV file, else its position
        key = q["source_line"].astype("Int64").fillna(-q["source_row"].astype("Int64"))
        out = (
            q.assign(_row=key)
            .groupby(["table", "rule"], sort=True)
            .agg(breaches=("_row", "size"), rows=("_row", "nunique"))
            .reset_index()
        )
        return out

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (row counts, quarantine counts, extras)."""
        return {
            "rows_in": self.rows_in,
            "rows_valid": self.rows_valid,
            "rows_quarantined": {
                t: self.rows_in[t] - self.rows_valid[t] for t in self.rows_in
            },
            "breaches_by_rule": [
                {
                    k: (int(v) if isinstance(v, int) or hasattr(v, "item") else v)
                    for k, v in rec.items()
                }
                for rec in self.counts().to_dict("records")
            ],
            "extra_columns": self.extra_columns,
            "absent_tables": self.absent_tables,
            "recoded_lines": self.recoded_lines,
        }

    def write(self, path: str | Path) -> Path:
        """Write the report: ``.json`` (summary and breaches) or ``.csv`` (breaches).

        Quarantined rows themselves are written by :meth:`write_quarantine`.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        if target.suffix == ".json":
            payload = self.summary()
            payload["breaches"] = json.loads(
                self.quarantine.to_json(orient="records", force_ascii=False)
            )
            tmp.write_text(
                json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8"
            )
        else:
            self.quarantine.to_csv(tmp, index=False, encoding="utf-8")
        tmp.replace(target)
        return target

    def write_quarantine(self, directory: str | Path) -> dict[str, Path]:
        """Write each table's quarantined input rows to ``directory/NAME.csv``.

        For a CSV source the file is its header line and the quarantined
        lines exactly as they were (same bytes, same encoding); otherwise the
        rows as read, as UTF-8 CSV with ``source_row``.
        """
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        out = {}
        for name in self.quarantined_rows:
            if self.rows_in[name] == self.rows_valid[name]:
                continue
            target = root / f"{name}.csv"
            tmp = target.with_name(f".{target.name}.tmp")
            self.write_quarantined(name, tmp)
            tmp.replace(target)
            out[name] = target
        return out

    def write_quarantined(self, name: str, path: str | Path) -> None:
        """Write one table's quarantined rows to ``path`` (see write_quarantine)."""
        prov = self.provenance.get(name)
        if prov is None:
            self.quarantined_rows[name].to_csv(path, index=False, encoding="utf-8")
            return
        lines = sorted(
            {*self.quarantined_rows[name]["source_line"].tolist()}
            | {b.line for b in prov.bad_lines}
        )
        raw = raw_lines(prov.path, lines)
        with open(path, "wb") as fh:
            fh.write(prov.header)
            for line in lines:
                fh.write(raw[line])


@dataclasses.dataclass
class _Context:
    """What one table's rules need from the tables validated before it."""

    last_period: str | None
    known_ids: pa.Array | None = None  # valid enterprise ids
    known_column: pd.Series | None = None  # the same, as the clean table holds them
    established: pa.Array | None = None  # their establishment month (index)


def _cross_table(name: str, checked: Checked, ctx: _Context) -> list[Breach]:
    """Breaches of the rules that need another table (on readable rows)."""
    columns, ok = checked.columns, ~checked.type_bad
    out: list[Breach] = []

    def add(column: str, rule: str, bad: np.ndarray) -> None:
        rows = np.flatnonzero(bad & ok)
        if rows.size:
            values = columns[column].take(pa.array(rows)).to_pylist()
            out.append(Breach(rows, column, rule, [str(v) for v in values]))

    if name == "enterprises" and ctx.last_period is not None:
        month_end = pd.Period(ctx.last_period, freq="M").end_time
        late = pc.greater(
            columns["established"], pa.scalar(month_end, pa.timestamp("us"))
        )
        add("established", "established_not_after_last_period", flags(late))
    if name == "enterprises" or ctx.known_ids is None:
        return out
    # on distinct codes, mapped back to the rows
    ids = checked.encoded["enterprise_id"]
    pos = pc.index_in(ids.distinct, value_set=ctx.known_ids)
    if ctx.known_column is not None:  # the features reuse these rows
        remember_rows(ids.distinct, ctx.known_column, pos)
    known = flags(pc.is_valid(pos))
    add("enterprise_id", "known_enterprise", ~ids.per_row(known, null=True))
    if "period" in checked.encoded and ctx.established is not None:
        founded = ctx.established.take(pc.fill_null(pos, 0)).to_numpy(
            zero_copy_only=False
        )
        founded = np.where(known, founded, -1)  # unknown: never "too early"
        periods = checked.encoded["period"]
        month = _month_index(periods.distinct)
        row_month = np.append(month, -1)[periods.codes]
        row_founded = np.append(founded, -1)[ids.codes]
        early = (row_month >= 0) & (row_month < row_founded)
        add("period", "period_not_before_established", early)
    return out


def _month_index(text: pa.Array) -> np.ndarray:
    """``YYYY-MM`` -> months since year 0; -1 for anything else."""
    values = text.to_pylist()
    out = np.full(len(values), -1, dtype=np.int64)
    for i, v in enumerate(values):
        if v is not None and re.fullmatch(MONTH_REGEX, v):
            out[i] = int(v[:4]) * 12 + int(v[5:7]) - 1
    return out


def _validate_table(
    name: str, raw: pd.DataFrame, source: str, prov: Provenance | None, ctx: _Context
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(valid rows, breaches, quarantined rows as given) of one table."""
    schema = SCHEMAS[name].to_schema()
    expected = list(schema.columns)
    check_columns(name, source, [str(c) for c in raw.columns])
    # enterprise codes that are valid enterprises already kept the code rules
    trusted = {"enterprise_id": ctx.known_ids} if ctx.known_ids is not None else {}
    checked = check_table(to_arrow(raw, expected), schema, trusted)
    breaches = checked.breaches + _cross_table(name, checked, ctx)
    if schema.unique:
        keys = [checked.encoded[k] for k in schema.unique]
        dup = duplicate_rows(keys, ~checked.type_bad)
        for key in schema.unique:
            rows = np.flatnonzero(dup)
            if rows.size:
                values = checked.columns[key].take(pa.array(rows)).to_pylist()
                breaches.append(
                    Breach(rows, key, "duplicate_key", [str(v) for v in values])
                )
    bad = np.zeros(len(raw), dtype=bool)
    for b in breaches:
        bad[b.rows] = True
    lines = prov.lines if prov is not None else None
    report = breach_report(name, breaches, checked.columns.get("enterprise_id"), lines)
    quarantined = raw.iloc[np.flatnonzero(bad)].reset_index(drop=True)
    quarantined.insert(0, "source_row", np.flatnonzero(bad) + 1)
    if lines is not None:
        quarantined.insert(1, "source_line", lines[bad])
    valid = valid_frame(raw, checked.columns, schema, ~bad, checked.encoded)
    return valid, report, quarantined


def _bad_lines(name: str, prov: Provenance) -> tuple[pd.DataFrame, pd.DataFrame]:
    """CSV lines set aside by the reader: (breaches, quarantined rows)."""
    if not prov.bad_lines:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS), pd.DataFrame()
    report = pd.DataFrame(
        {
            "table": name,
            "source_row": pd.array([pd.NA] * len(prov.bad_lines), dtype="Int64"),
            "source_line": pd.array([b.line for b in prov.bad_lines], dtype="Int64"),
            "enterprise_id": None,
            "column": None,
            "value": [
                b.raw.decode("utf-8", "backslashreplace") for b in prov.bad_lines
            ],
            "rule": [b.rule for b in prov.bad_lines],
        }
    )
    rows = pd.DataFrame(
        {
            "source_line": [b.line for b in prov.bad_lines],
            "problem": [b.detail for b in prov.bad_lines],
        }
    )
    return report, rows


def last_period_of(payroll: pd.DataFrame) -> str | None:
    """The latest well-formed, not-future payroll month of the raw table."""
    if "period" not in payroll.columns or payroll.empty:
        return None
    periods = payroll["period"]
    if isinstance(periods.dtype, pd.CategoricalDtype):
        periods = pd.Series(periods.cat.remove_unused_categories().cat.categories)
    values = pa.Array.from_pandas(periods.astype("string"))
    text = pc.unique(arrow_text(values))  # a dozen months, not a million rows
    ok = pc.match_substring_regex(text, f"^{MONTH_REGEX}$")
    ok = pc.and_(ok, pc.less_equal(text, get_config().today))
    ok = pc.and_(ok, pc.greater_equal(text, get_config().period_floor))
    months = text.filter(pc.fill_null(ok, False))
    return None if len(months) == 0 else str(pc.max(months).as_py())


def _source_name(tables: Tables, name: str) -> str:
    return Path(tables.sources[name]).name if name in tables.sources else name


def _require_rows(
    name: str, source: str, raw: pd.DataFrame, prov: Provenance | None
) -> None:
    if name in REQUIRED_TABLES and len(raw) == 0 and not (prov and prov.bad_lines):
        raise no_rows_error(name, source)


def validate(tables: Tables) -> ValidationReport:
    """Validate the tables against the contract, quarantining bad rows.

    Parameters
    ----------
    tables : Tables
        Raw tables from :func:`anxin.load_tables` or built in memory.

    Returns
    -------
    ValidationReport
        Valid tables with contract types, and the quarantine.

    Raises
    ------
    ContractError
        If a required table or column is missing, a required table has no
        rows, or none of its rows is valid.

    Examples
    --------
    >>> from anxin import synth
    >>> report = validate(synth(n_enterprises=50, n_months=6, seed=1).tables)
    >>> report.n_quarantined
    0
    """
    for name in REQUIRED_TABLES:
        if tables[name] is None:
            raise ContractError(
                f"Required table {name!r} is missing. Supply {name}.csv or "
                f"{name}.parquet.",
                table=name,
            )
    ctx = _Context(last_period=last_period_of(tables.payroll))
    return _validate(tables, ctx, strict=True)


def validate_part(tables: Tables, *, last_period: str | None) -> ValidationReport:
    """:func:`validate` for some enterprises of an extract.

    ``tables`` hold every row of these enterprises (one bucket of a cluster
    run, :mod:`anxin.spark`; rows in their order in the extract) and
    ``last_period`` is the whole extract's (see :func:`last_period_of`), so
    every rule gives the verdicts :func:`validate` gives on the whole. No
    table-level error is raised: a bucket may lack rows of a table; the
    caller checks the whole extract's counts.
    """
    return _validate(tables, _Context(last_period=last_period), strict=False)


def _validate(tables: Tables, ctx: _Context, *, strict: bool) -> ValidationReport:
    parts = _Parts(absent=[n for n in TABLE_NAMES if tables[n] is None])
    first = _one_table(tables, "enterprises", ctx, strict)
    good = first.good
    ctx.known_ids = arrow_text(pa.Array.from_pandas(good["enterprise_id"]))
    ctx.known_column = good["enterprise_id"]
    est = pd.DatetimeIndex(good["established"])
    ctx.established = pa.array(est.year * 12 + est.month - 1, pa.int64())
    # the other tables only need the enterprises: check them side by side
    rest = [n for n in TABLE_NAMES[1:] if tables[n] is not None]
    with ThreadPoolExecutor(
        max_workers=max(1, min(len(rest), available_cores()))
    ) as pool:
        outcomes = [
            first,
            *pool.map(lambda n: _one_table(tables, n, ctx, strict), rest),
        ]
    for outcome in outcomes:
        parts.add(outcome)
    return parts.report(tables)


@dataclasses.dataclass
class _Outcome:
    """One table's validation, before it joins the report."""

    name: str
    source: str
    raw: pd.DataFrame
    good: pd.DataFrame
    report: pd.DataFrame
    bad_rows: pd.DataFrame
    lines_report: pd.DataFrame | None
    lines_rows: pd.DataFrame | None
    n_in: int
    prov: Provenance | None


def _one_table(tables: Tables, name: str, ctx: _Context, strict: bool) -> _Outcome:
    raw = tables[name]
    assert raw is not None
    source = _source_name(tables, name)
    prov = tables.provenance.get(name)
    if strict:
        _require_rows(name, source, raw, prov)
    good, report, bad_rows = _validate_table(name, raw, source, prov, ctx)
    lines_report, lines_rows = (
        _bad_lines(name, prov) if prov is not None else (None, None)
    )
    n_in = len(raw) + (len(prov.bad_lines) if prov is not None else 0)
    if strict and good.empty and name in REQUIRED_TABLES:
        top = report["rule"].value_counts().head(3).to_dict()
        raise no_valid_rows_error(name, source, n_in, top)
    return _Outcome(
        name, source, raw, good, report, bad_rows, lines_report, lines_rows, n_in, prov
    )


@dataclasses.dataclass
class _Parts:
    valid: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    reports: list[pd.DataFrame] = dataclasses.field(default_factory=list)
    quarantined: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    bad_lines: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    rows_in: dict[str, int] = dataclasses.field(default_factory=dict)
    rows_valid: dict[str, int] = dataclasses.field(default_factory=dict)
    extra: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    absent: list[str] = dataclasses.field(default_factory=list)
    recoded: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, o: _Outcome) -> None:
        name, source, prov = o.name, o.source, o.prov
        expected = set(SCHEMAS[name].to_schema().columns)
        extras = [str(c) for c in o.raw.columns if c not in expected]
        if extras:
            self.extra[name] = extras
            logger.warning("%s: extra columns kept but not used: %s", source, extras)
        self.valid[name] = o.good
        self.reports += [
            r for r in (o.lines_report, o.report) if r is not None and len(r)
        ]
        self.quarantined[name] = o.bad_rows
        if o.lines_rows is not None and len(o.lines_rows):
            self.bad_lines[name] = o.lines_rows
        if prov is not None and prov.recoded:
            self.recoded[name] = prov.recoded
            logger.warning(
                "%s: %d line(s) were not %s and were read as %s",
                source,
                prov.recoded,
                prov.encoding,
                "UTF-8" if prov.encoding != "utf-8" else "GB18030",
            )
        self.rows_in[name] = o.n_in
        self.rows_valid[name] = len(o.good)
        n_bad = o.n_in - len(o.good)
        if n_bad:
            logger.warning("%s: %d of %d rows quarantined", source, n_bad, o.n_in)

    def report(self, tables: Tables) -> ValidationReport:
        quarantine = (
            pd.concat(self.reports, ignore_index=True)
            if self.reports
            else pd.DataFrame(columns=QUARANTINE_COLUMNS)
        )
        out = Tables(
            enterprises=self.valid["enterprises"],
            payroll=self.valid["payroll"],
            tax=self.valid.get("tax"),
            signals=self.valid.get("signals"),
            events=self.valid.get("events"),
            sources=dict(tables.sources),
        )
        return ValidationReport(
            tables=out,
            quarantine=quarantine,
            quarantined_rows=self.quarantined,
            rows_in=self.rows_in,
            rows_valid=self.rows_valid,
            extra_columns=self.extra,
            absent_tables=self.absent,
            bad_lines=self.bad_lines,
            recoded_lines=self.recoded,
            provenance=dict(tables.provenance),
        )
