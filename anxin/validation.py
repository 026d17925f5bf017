"""Validation that loses nothing: valid rows pass, bad rows are quarantined.

Table-level breaches (a missing required table or column, no valid rows in a
required table) raise :class:`~anxin.exceptions.ContractError`. Row-level
breaches never stop a batch: pandera's lazy validation collects them, the rows
are moved to a quarantine with the rule each broke, and the report keeps both
sides so that ``valid rows + quarantined rows == input rows`` for every table.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pyarrow.compute as pc
from pandera.errors import SchemaErrors

from anxin.config import get_config
from anxin.exceptions import ContractError
from anxin.schemas import (
    PERIOD_PATTERN,
    REQUIRED_TABLES,
    SCHEMAS,
    TABLE_NAMES,
    arrow_text,
)
from anxin.tables import Tables

__all__ = ["QUARANTINE_COLUMNS", "RULE_DESCRIPTIONS", "ValidationReport", "validate"]

logger = logging.getLogger(__name__)

#: Columns of :attr:`ValidationReport.quarantine`, one row per breach.
QUARANTINE_COLUMNS = ["table", "source_row", "enterprise_id", "column", "value", "rule"]

#: Rule code -> what it means and how to fix it.
RULE_DESCRIPTIONS: dict[str, str] = {
    "wrong_type": "value cannot be read as the column's type; fix the value",
    "missing_value": "required value is empty; fill it in or drop the row at source",
    "greater_than_or_equal_to": "value is below the allowed minimum (negative?)",
    "greater_than": "value must be strictly positive",
    "isin": "value is not one of the allowed codes",
    "str_matches": "value does not have the required form",
    "uscc_check_character": "not a valid 统一社会信用代码 (18 characters, check "
    "character per GB 32100-2015)",
    "duplicate_key": "key already appeared in an earlier row (the first is kept)",
    "period_format": "period is not a month written YYYY-MM",
    "period_not_in_future": "period is after the current month",
    "known_enterprise": "enterprise_id is not among the valid enterprises",
    "established_not_after_last_period": "established after the last period in "
    "the data",
}


def _rule_code(check: str) -> str:
    name = check.split("(", 1)[0]
    if name in ("coerce_dtype", "dtype"):
        return "wrong_type"
    if name == "not_nullable":
        return "missing_value"
    if name in ("field_uniqueness", "multiple_fields_uniqueness"):
        return "duplicate_key"
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
        table as given; in a CSV file that is line ``source_row + 1``),
        ``enterprise_id``, ``column``, ``value``, ``rule``.
    quarantined_rows : dict
        Table -> the quarantined input rows, unchanged, with ``source_row``.
    rows_in, rows_valid : dict
        Table -> row counts.
    extra_columns : dict
        Table -> columns not in the contract (kept, never used).
    absent_tables : list
        Optional tables that were not supplied.
    """

    tables: Tables
    quarantine: pd.DataFrame
    quarantined_rows: dict[str, pd.DataFrame]
    rows_in: dict[str, int]
    rows_valid: dict[str, int]
    extra_columns: dict[str, list[str]]
    absent_tables: list[str]

    @property
    def n_quarantined(self) -> int:
        """Number of quarantined rows over all tables."""
        return sum(len(f) for f in self.quarantined_rows.values())

    def counts(self) -> pd.DataFrame:
        """Breaches and distinct rows per table and rule."""
        q = self.quarantine
        if q.empty:
            return pd.DataFrame(columns=["table", "rule", "breaches", "rows"])
        out = (
            q.groupby(["table", "rule"], sort=True)
            .agg(breaches=("source_row", "size"), rows=("source_row", "nunique"))
            .reset_index()
        )
        return out

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (row counts, quarantine counts, extras)."""
        return {
            "rows_in": self.rows_in,
            "rows_valid": self.rows_valid,
            "rows_quarantined": {t: len(f) for t, f in self.quarantined_rows.items()},
            "breaches_by_rule": [
                {
                    k: (int(v) if isinstance(v, int) or hasattr(v, "item") else v)
                    for k, v in rec.items()
                }
                for rec in self.counts().to_dict("records")
            ],
            "extra_columns": self.extra_columns,
            "absent_tables": self.absent_tables,
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
        """Write each table's quarantined input rows to ``directory/NAME.csv``."""
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        out = {}
        for name, frame in self.quarantined_rows.items():
            if frame.empty:
                continue
            target = root / f"{name}.csv"
            tmp = target.with_name(f".{target.name}.tmp")
            frame.to_csv(tmp, index=False, encoding="utf-8")
            tmp.replace(target)
            out[name] = target
        return out


def _missing_column_error(
    table: str, source: str, column: str, found: list[str], model: Any
) -> ContractError:
    field = model.to_schema().columns[column]
    if column == "period":
        fix = "Rename the month column to 'period' (YYYY-MM)."
    else:
        fix = (
            f"Add the column '{column}' ({field.description}) or rename the "
            "column that holds it."
        )
    return ContractError(
        f"{source}: column '{column}' is missing. Columns found: {found}. {fix}",
        table=table,
        column=column,
    )


def _schema_for(
    name: str, known_ids: pd.Series | None, last_period: str | None
) -> pa.DataFrameSchema:
    schema = copy.deepcopy(SCHEMAS[name].to_schema())
    schema.report_duplicates = "exclude_first"
    if known_ids is not None and "enterprise_id" in schema.columns:
        ids = arrow_text(known_ids)
        column = schema.columns["enterprise_id"]

        def known(s: pd.Series) -> pd.Series:
            hit = pc.fill_null(pc.is_in(arrow_text(s), value_set=ids), False)
            return pd.Series(hit.to_numpy(zero_copy_only=False), index=s.index)

        schema = schema.update_column(
            "enterprise_id",
            checks=[*column.checks, pa.Check(known, name="known_enterprise")],
        )
    if name == "enterprises" and last_period is not None:
        cutoff = pd.Period(last_period, freq="M").end_time
        column = schema.columns["established"]
        schema = schema.update_column(
            "established",
            checks=[
                *column.checks,
                pa.Check(
                    # values that failed coercion are reported as wrong_type
                    lambda s: ~(pd.to_datetime(s, errors="coerce") > cutoff),
                    name="established_not_after_last_period",
                ),
            ],
        )
    return schema


def _validate_table(
    name: str,
    raw: pd.DataFrame,
    source: str,
    known_ids: pd.Series | None,
    last_period: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return (valid, breaches, quarantined raw rows) for one table."""
    model = SCHEMAS[name]
    expected = list(model.to_schema().columns)
    found = [str(c) for c in raw.columns]
    for column in expected:
        if column not in raw.columns:
            raise _missing_column_error(name, source, column, found, model)
    frame = raw.reset_index(drop=True)
    schema = _schema_for(name, known_ids, last_period)
    breaches: list[pd.DataFrame] = []
    bad: set[int] = set()
    # Pass 1: types only. A value that cannot be coerced ("twelve" in a count)
    # would leave its column uncoerced and make every check fail on the whole
    # column, so such rows are quarantined before the rules run.
    types_only = schema.update_columns(
        {column: {"checks": []} for column in schema.columns}
    )
    types_only.unique = None
    try:
        types_only.validate(frame, lazy=True)
    except SchemaErrors as err:
        fc = err.failure_cases
        fc = fc[fc["index"].notna()]
        if not fc.empty:
            fc = fc.assign(index=fc["index"].astype("int64"))
            breaches.append(fc)
            bad.update(int(i) for i in fc["index"].unique())
    candidate = frame.drop(index=sorted(bad)) if bad else frame
    # Pass 2: every rule, lazily, on rows with the right types.
    for _ in range(3):  # removing rows can't create new breaches, but be safe
        try:
            valid = schema.validate(candidate, lazy=True)
            break
        except SchemaErrors as err:
            fc = err.failure_cases
            table_level = fc[fc["index"].isna()]
            if not table_level.empty:
                first = table_level.iloc[0]
                raise ContractError(
                    f"{source}: column '{first['column']}' breaks the contract as "
                    f"a whole ({first['check']}: {first['failure_case']}). "
                    "Check the export of this table.",
                    table=name,
                    column=first["column"],
                ) from err
            fc = fc.assign(index=fc["index"].astype("int64"))
            breaches.append(fc)
            bad.update(int(i) for i in fc["index"].unique())
            candidate = frame.drop(index=sorted(bad))
    else:  # pragma: no cover - defensive
        raise ContractError(f"{source}: validation did not converge.", table=name)

    quarantined = frame.loc[sorted(bad)].copy()
    quarantined.insert(0, "source_row", quarantined.index + 1)
    report = _breach_report(name, frame, breaches)
    return valid.reset_index(drop=True), report, quarantined.reset_index(drop=True)


def _breach_report(
    name: str, frame: pd.DataFrame, breaches: list[pd.DataFrame]
) -> pd.DataFrame:
    """pandera's failure cases as :data:`QUARANTINE_COLUMNS`, one row a breach."""
    if not breaches:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    fc = pd.concat(breaches, ignore_index=True)
    ids = frame.get("enterprise_id")
    report = pd.DataFrame(
        {
            "table": name,
            "source_row": fc["index"].to_numpy() + 1,
            "enterprise_id": (
                ids.reindex(fc["index"]).astype("string").to_numpy()
                if ids is not None
                else None
            ),
            "column": fc["column"].astype("string").to_numpy(),
            "value": fc["failure_case"].map(_as_text).to_numpy(),
            "rule": fc["check"].astype(str).map(_rule_code).to_numpy(),
        }
    )
    return report.drop_duplicates().sort_values(
        ["source_row", "column", "rule"], kind="stable"
    )


def _as_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


def _last_period(payroll: pd.DataFrame) -> str | None:
    if "period" not in payroll.columns:
        return None
    text = payroll["period"].astype("string")
    ok = text.str.fullmatch(PERIOD_PATTERN.pattern).fillna(False)
    ok &= (text <= get_config().today).fillna(False)
    return None if not ok.any() else str(text[ok].max())


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
        If a required column is missing, or a required table has no valid row.

    Examples
    --------
    >>> from anxin import synth
    >>> report = validate(synth(n_enterprises=50, n_months=6, seed=1).tables)
    >>> report.n_quarantined
    0
    """
    valid: dict[str, pd.DataFrame | None] = {}
    reports: list[pd.DataFrame] = []
    quarantined: dict[str, pd.DataFrame] = {}
    rows_in: dict[str, int] = {}
    rows_valid: dict[str, int] = {}
    extra: dict[str, list[str]] = {}
    absent: list[str] = []
    known_ids: pd.Series | None = None
    last_period = _last_period(tables.payroll)
    for name in TABLE_NAMES:
        raw = tables[name]
        if raw is None:
            if name in REQUIRED_TABLES:
                raise ContractError(
                    f"Required table {name!r} is missing. Supply {name}.csv or "
                    f"{name}.parquet.",
                    table=name,
                )
            absent.append(name)
            valid[name] = None
            continue
        source = tables.sources.get(name, name)
        source = Path(source).name if name in tables.sources else name
        good, report, bad_rows = _validate_table(
            name, raw, source, known_ids, last_period
        )
        if name == "enterprises":
            known_ids = good["enterprise_id"]
        expected = set(SCHEMAS[name].to_schema().columns)
        extras = [str(c) for c in raw.columns if c not in expected]
        if extras:
            extra[name] = extras
            logger.warning("%s: extra columns kept but not used: %s", source, extras)
        if good.empty and name in REQUIRED_TABLES and len(raw):
            top = report["rule"].value_counts().head(3).to_dict()
            raise ContractError(
                f"{source}: none of its {len(raw)} rows is valid (most common "
                f"breaches: {top}). Fix the export; see docs/data-contract.md.",
                table=name,
            )
        valid[name] = good
        reports.append(report)
        quarantined[name] = bad_rows
        rows_in[name] = len(raw)
        rows_valid[name] = len(good)
        if len(bad_rows):
            logger.warning(
                "%s: %d of %d rows quarantined", source, len(bad_rows), len(raw)
            )
    quarantine = (
        pd.concat([r for r in reports if not r.empty], ignore_index=True)
        if any(not r.empty for r in reports)
        else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    )
    out = Tables(
        enterprises=valid["enterprises"],  # type: ignore[arg-type]
        payroll=valid["payroll"],  # type: ignore[arg-type]
        tax=valid["tax"],
        signals=valid["signals"],
        events=valid["events"],
        sources=dict(tables.sources),
    )
    return ValidationReport(
        tables=out,
        quarantine=quarantine,
        quarantined_rows=quarantined,
        rows_in=rows_in,
        rows_valid=rows_valid,
        extra_columns=extra,
        absent_tables=absent,
    )
