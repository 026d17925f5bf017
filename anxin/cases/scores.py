"""Scores as the case store reads them: files, the contract, reasons cells.

A scores frame must satisfy :class:`anxin.schemas.Scores`; a frame that does
not is refused with a :class:`~anxin.exceptions.ContractError` naming the
columns and the fix, before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anxin._pandera import errors as pa_errors
from anxin.cases._values import jsonable
from anxin.cases.limits import SCORES_TEXT_LIMITS, invalid_text, shown, text_problem
from anxin.exceptions import ContractError
from anxin.schemas import Scores

__all__ = ["check_text", "read_scores", "reasons_cell", "validate_scores"]


def read_scores(path: str | Path) -> pd.DataFrame:
    """Read a scores file: ``.parquet``, ``.csv``, or a directory holding one.

    CSV is read as text (codes keep leading zeros); the contract coerces the
    numbers and ``reasons`` may be JSON text.

    Raises
    ------
    ContractError
        If the file is missing, unreadable or of another type.
    """
    source = Path(path)
    if source.is_dir():
        found = [
            p for p in (source / "scores.parquet", source / "scores.csv") if p.is_file()
        ]
        if not found:
            raise ContractError(
                f"{source}: no scores.parquet or scores.csv in this directory. "
                "Pass the scores file itself, or the directory `anxin score` "
                "wrote.",
                table="scores",
            )
        source = found[0]
    if not source.is_file():
        raise ContractError(
            f"{source}: scores file not found. Pass a .parquet or .csv file "
            "written by `anxin score` (or its output directory).",
            table="scores",
        )
    suffix = source.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(source)
        if suffix == ".csv":
            return pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""])
    except Exception as exc:  # pyarrow and the csv parser raise many types
        raise ContractError(
            f"{source.name}: cannot be read ({exc}). Check that the file is "
            "complete, or write the scores again.",
            table="scores",
        ) from exc
    raise ContractError(
        f"{source.name}: unsupported file type {suffix!r}. Use .parquet or .csv.",
        table="scores",
    )


def validate_scores(scores: Any) -> pd.DataFrame:
    """The scores frame, validated (and coerced) against the contract.

    Raises
    ------
    ContractError
        Naming every broken column and the fix; nothing has been written.
    """
    if not isinstance(scores, pd.DataFrame):
        raise ContractError(
            f"scores must be a pandas DataFrame; got {type(scores).__name__}. "
            "Read the scores file with pandas.read_parquet first.",
            table="scores",
        )
    try:
        return Scores.validate(scores, lazy=True)
    except pa_errors.SchemaErrors as exc:
        raise _scores_error(exc, scores) from exc
    except pa_errors.SchemaError as exc:
        raise ContractError(
            f"scores: {exc}. Fix the frame to match anxin.schemas.Scores; no case "
            "was opened or changed.",
            table="scores",
        ) from exc


def _scores_error(exc: pa_errors.SchemaErrors, scores: pd.DataFrame) -> ContractError:
    problems = []
    first_column: str | None = None
    key = Scores.to_schema().unique or []
    for (column, check), group in exc.failure_cases.groupby(
        ["column", "check"], sort=False, dropna=False
    ):
        check_name = str(check)
        if check_name == "column_in_dataframe":
            for missing in group["failure_case"]:
                first_column = first_column or str(missing)
                problems.append(f"column {str(missing)!r} is missing")
            continue
        if check_name == "multiple_fields_uniqueness":
            if column == key[0]:  # reported once per key column; say it once
                rows = group["index"].nunique()
                problems.append(
                    f"columns {', '.join(repr(k) for k in key)} repeat in {rows} "
                    "rows; keep one row per enterprise and month"
                )
                first_column = first_column or str(column)
            continue
        first_column = first_column or str(column)
        examples = [repr(v) for v in group["failure_case"].head(3)]
        problems.append(
            f"column {str(column)!r} fails {check_name} in {len(group)} row(s) "
            f"(e.g. {', '.join(examples)})"
        )
    return ContractError(
        "scores: " + "; ".join(problems) + f". Columns found: {list(scores.columns)}. "
        "Fix these columns to match the scores contract (anxin.schemas.Scores, "
        "docs/data-contract.md) or re-create the file with `anxin score`; "
        "no case was opened or changed.",
        table="scores",
        column=first_column,
    )


def check_text(scores: pd.DataFrame) -> None:
    """Refuse text the case store cannot keep alike on SQLite and PostgreSQL.

    Each column of :data:`~anxin.cases.limits.SCORES_TEXT_LIMITS` must fit
    its column in the store and hold no control characters.

    Raises
    ------
    ContractError
        Naming the first offending column, row and value; nothing has been
        written.
    """
    for column, max_length in SCORES_TEXT_LIMITS.items():
        if column not in scores.columns:
            continue
        bad = invalid_text(scores[column], max_length=max_length)
        if not bad.any():
            continue
        first = int(np.flatnonzero(bad.to_numpy())[0])
        index, value = scores.index[first], scores[column].iloc[first]
        why = text_problem(str(value), max_length=max_length)
        raise ContractError(
            f"scores: column {column!r} at index {index} holds {shown(value)} "
            f"({why}); {int(bad.sum())} row(s) break this. The case store keeps "
            f"at most {max_length} characters of UTF-8 text without control "
            "characters there: fix these values in the scores, or re-create the "
            "file with `anxin score`; no case was opened or changed.",
            table="scores",
            column=column,
        )


def reasons_cell(value: Any, row: object) -> list[Any]:
    """Normalise a ``reasons`` cell: a list (or array) of dicts, or empty.

    ``row`` (the frame's index label) names the cell in errors.

    Examples
    --------
    >>> reasons_cell('[{"feature": "x"}]', 0), reasons_cell(None, 1)
    ([{'feature': 'x'}], [])
    """
    if value is None:
        return []
    if isinstance(value, str):
        if not value.strip():
            return []
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ContractError(
                f"scores: column 'reasons' at index {row} is text but not JSON "
                f"({exc}). Write reasons as a JSON list of objects with keys "
                "group, contribution, feature, value, text_zh, text_en, or "
                "leave the cell empty.",
                table="scores",
                column="reasons",
            ) from exc
    if isinstance(value, Mapping):
        return [jsonable(value)]
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if pd.isna(value):
        return []
    return [jsonable(value)]
