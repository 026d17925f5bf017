"""The messages of the table-level contract errors (one place for both engines).

A missing column, a required table without rows, a required table none of
whose rows is valid: :func:`anxin.validate` raises these for a data
directory, :mod:`anxin.spark` for a cluster's tables, with the same words.
"""

from __future__ import annotations

from typing import Any

from anxin.exceptions import ContractError
from anxin.schemas import SCHEMAS

__all__ = ["check_columns", "no_rows_error", "no_valid_rows_error"]


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


def check_columns(name: str, source: str, found: list[str]) -> None:
    """Raise the ContractError naming the first contract column not ``found``."""
    for column in SCHEMAS[name].to_schema().columns:
        if column not in found:
            raise _missing_column_error(name, source, column, found, SCHEMAS[name])


def no_rows_error(name: str, source: str) -> ContractError:
    """The error for a required table without rows."""
    return ContractError(
        f"{source}: no data rows (only a header). The {name} table is "
        "required and may not be empty; export it again with its rows.",
        table=name,
    )


def no_valid_rows_error(
    name: str, source: str, n_in: int, top: dict[Any, int]
) -> ContractError:
    """The error for a required table none of whose rows is valid."""
    return ContractError(
        f"{source}: none of its {n_in} rows is valid (most common "
        f"breaches: {top}). Fix the export; see docs/data-contract.md.",
        table=name,
    )
