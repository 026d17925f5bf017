"""Files the handling chain writes: spreadsheet-safe CSV, JSON, Parquet.

CSV exports are opened in Excel or WPS by the people who work the cases, and
a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or a carriage
return) is a formula there: a note reading ``=HYPERLINK("http://...?"&A1,
"详情")`` would run when the file is opened (CSV or formula injection). So
every **text** cell of a CSV export that starts with one of them gets a
leading apostrophe ``'``, which makes a spreadsheet show the cell as text
(the OWASP rule). A text cell that already starts with an apostrophe gets
one more, so the rule can be undone exactly: :func:`restored` removes one,
and :func:`anxin.cases.read_history` reads an export back unchanged.
Numbers stay numbers (only text cells are touched); JSON and Parquet keep
every value as it is.

Every file is written to a temporary name next to it and renamed, so a
reader never sees half a file. A path that is a directory, or that names no
CSV, JSON or Parquet file, is refused as bad input
(:class:`~anxin.exceptions.InvalidParameterError`, exit code 2); a file that
cannot be written (permission denied, disk full) raises
:class:`ExportError` (exit code 1).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from anxin.cases.limits import refuse, text_problem
from anxin.exceptions import AnxinError

__all__ = [
    "FORMULA_PREFIXES",
    "ExportError",
    "check_output",
    "neutralise",
    "neutralised",
    "restored",
    "write_atomically",
    "write_frame",
]

logger = logging.getLogger(__name__)

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = (*FORMULA_PREFIXES, "'")


class ExportError(AnxinError, OSError):
    """An export could not be written (permission denied, disk full, ...).
    An environment failure: exit code 1."""

    exit_code = 1


def neutralise(value: Any) -> Any:
    """A text cell made safe for spreadsheets; anything else unchanged.

    Examples
    --------
    >>> neutralise('=HYPERLINK("http://x", "详情")')
    '\\'=HYPERLINK("http://x", "详情")'
    >>> neutralise("-5 workers"), neutralise(-5), neutralise("现场核实")
    ("'-5 workers", -5, '现场核实')
    """
    if isinstance(value, str) and value.startswith(_ESCAPED):
        return "'" + value
    return value


def restored(value: Any) -> Any:
    """The value :func:`neutralise` was given.

    Examples
    --------
    >>> restored(neutralise("=1+1")), restored(neutralise("'quoted"))
    ('=1+1', "'quoted")
    """
    if isinstance(value, str) and value.startswith("'"):
        return value[1:]
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell passed through :func:`neutralise`.

    Only columns holding text (object or string dtype) are touched: numeric
    columns, dates and missing values stay as they are.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[column] = series.astype(object).map(neutralise)
    return out


def check_output(
    path: Any, owner: str, suffixes: Sequence[str], name: str = "path"
) -> Path:
    """Refuse an output path with another suffix, that is a directory, or that
    holds characters no file name can (NUL, control characters).

    Examples
    --------
    >>> check_output("out/outcomes.csv", "outcomes", [".csv"])
    PosixPath('out/outcomes.csv')
    >>> check_output("outcomes.xlsx", "outcomes", [".csv", ".json"])
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'path' parameter of outcomes must be a file name ending in .csv or .json. Got 'outcomes.xlsx' instead.
    """  # noqa: E501
    listed = suffixes[-1]
    if len(suffixes) > 1:
        listed = ", ".join(suffixes[:-1]) + f" or {listed}"
    expected = f"a file name ending in {listed}"
    text = str(path)
    why = text_problem(text, max_length=4096)
    if why:
        refuse(name, text, owner, expected, why, limit=300)
    target = Path(text)
    if target.suffix.lower() not in suffixes:
        refuse(name, text, owner, expected, limit=300)
    if target.is_dir():
        refuse(name, text, owner, expected, "it is a directory", limit=300)
    return target


def write_atomically(target: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` for a temporary file next to ``target``, then rename
    it to ``target``.

    Raises
    ------
    ExportError
        If the directory cannot be created or the file cannot be written.
    """
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        tmp.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ExportError(
            f"Cannot write {target}: {exc.strerror or exc}. Check that the "
            "directory exists or can be created, that this user may write it, "
            "and that the disk is not full; or pass another path.",
            path=str(target),
        ) from exc
    return target


def write_frame(
    frame: pd.DataFrame, path: str | Path, owner: str, name: str = "path"
) -> Path:
    """Write ``frame`` to ``path`` (``.csv``, ``.parquet`` or ``.json``).

    CSV is UTF-8 with every text cell neutralised (see the module doc);
    Parquet and JSON hold the values as they are.
    """
    target = check_output(path, owner, (".csv", ".parquet", ".json"), name)
    suffix = target.suffix.lower()

    def write(tmp: Path) -> None:
        if suffix == ".csv":
            neutralised(frame).to_csv(tmp, index=False, encoding="utf-8")
        elif suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_json(
                tmp, orient="records", force_ascii=False, date_format="iso", indent=1
            )

    write_atomically(target, write)
    logger.info("%s: %d rows -> %s", owner, len(frame), target)
    return target
