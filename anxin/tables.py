"""Reading and writing the contract tables.

A data directory holds one file per table, ``NAME.parquet`` or ``NAME.csv``.
CSV files are read as text (so codes keep their leading zeros and bad values
reach validation unchanged) in UTF-8, GBK or GB18030, detected or given.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pandas as pd

from anxin._params import check_param
from anxin.exceptions import ContractError
from anxin.schemas import REQUIRED_TABLES, TABLE_NAMES

__all__ = ["Tables", "load_tables", "write_tables"]

logger = logging.getLogger(__name__)

#: Encodings tried in order when none is given. GB18030 is a superset of GBK.
DETECT_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclasses.dataclass
class Tables:
    """The contract tables of one data extract.

    Attributes
    ----------
    enterprises, payroll : DataFrame
        Required tables.
    tax, signals, events : DataFrame or None
        Optional tables; ``None`` when the feed is absent.
    sources : dict
        Table name -> file it was read from (empty for in-memory tables).

    Examples
    --------
    >>> import pandas as pd
    >>> t = Tables(enterprises=pd.DataFrame(), payroll=pd.DataFrame())
    >>> t.present()
    ('enterprises', 'payroll')
    """

    enterprises: pd.DataFrame
    payroll: pd.DataFrame
    tax: pd.DataFrame | None = None
    signals: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    sources: dict[str, str] = dataclasses.field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame | None:
        if name not in TABLE_NAMES:
            raise KeyError(f"No table {name!r}; tables are {list(TABLE_NAMES)}.")
        frame: pd.DataFrame | None = getattr(self, name)
        return frame

    def present(self) -> tuple[str, ...]:
        """Names of the tables that are not ``None``."""
        return tuple(n for n in TABLE_NAMES if getattr(self, n) is not None)

    def items(self) -> Iterator[tuple[str, pd.DataFrame]]:
        """Iterate over ``(name, frame)`` for the tables present."""
        for name in self.present():
            yield name, getattr(self, name)

    def last_period(self) -> str | None:
        """The latest payroll month (``YYYY-MM``), ``None`` without payroll rows.

        "The latest month" of an extract everywhere in anxin: the default
        ``as_of`` for scoring and the month the events are taken to cover.
        """
        if "period" not in self.payroll.columns or self.payroll.empty:
            return None
        return str(self.payroll["period"].astype("str").max())

    def replace(self, **frames: pd.DataFrame | None) -> Tables:
        """Return a copy with some tables replaced."""
        return dataclasses.replace(self, **frames)  # type: ignore[arg-type]

    def write(
        self, path: str | Path, format: Literal["parquet", "csv"] = "parquet"
    ) -> dict[str, Path]:
        """Write each table to ``path/NAME.{parquet,csv}``; see :func:`write_tables`."""
        return write_tables(self, path, format=format)


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    encodings = (encoding,) if encoding else DETECT_ENCODINGS
    last: Exception | None = None
    for enc in encodings:
        try:
            frame = pd.read_csv(
                path, dtype=str, encoding=enc, keep_default_na=False, na_values=[""]
            )
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ContractError(
                f"{path.name}: cannot be read as CSV ({exc}). Export it again as "
                "comma-separated text with a header row.",
                table=path.stem,
            ) from exc
        logger.debug("read %s as %s", path, enc)
        return frame
    tried = ", ".join(encodings)
    raise ContractError(
        f"{path.name}: cannot be decoded as {tried} ({last}). Pass the file's "
        "encoding with --encoding (e.g. --encoding gbk) or re-export as UTF-8.",
        table=path.stem,
    )


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types
        raise ContractError(
            f"{path.name}: cannot be read as Parquet ({exc}). Check that the "
            "file is complete, or export the table as CSV instead.",
            table=path.stem,
        ) from exc


def load_tables(path: str | Path, *, encoding: str | None = None) -> Tables:
    """Read the contract tables from a data directory.

    Parameters
    ----------
    path : str or Path
        Directory with ``NAME.parquet`` or ``NAME.csv`` for each table.
    encoding : str, optional
        Encoding of CSV files. By default UTF-8 is tried, then GB18030
        (which also reads GBK).

    Returns
    -------
    Tables
        Raw tables, not yet validated: pass them to :func:`anxin.validate`.

    Raises
    ------
    ContractError
        If the directory or a required table is missing, a table has two
        files, or a file cannot be read or decoded.
    """
    root = Path(path)
    if not root.is_dir():
        raise ContractError(
            f"{root}: not a directory. Pass the directory that holds "
            "enterprises.csv, payroll.csv, ... (or .parquet).",
        )
    frames: dict[str, pd.DataFrame | None] = {}
    sources: dict[str, str] = {}
    for name in TABLE_NAMES:
        candidates = [root / f"{name}.parquet", root / f"{name}.csv"]
        found = [p for p in candidates if p.is_file()]
        if len(found) > 1:
            raise ContractError(
                f"{root}: table {name!r} has both {found[0].name} and "
                f"{found[1].name}. Keep one of them.",
                table=name,
            )
        if not found:
            if name in REQUIRED_TABLES:
                present = sorted(p.name for p in root.iterdir() if p.is_file())
                raise ContractError(
                    f"{root}: required table {name!r} not found (looked for "
                    f"{name}.parquet and {name}.csv). Files found: {present}.",
                    table=name,
                )
            frames[name] = None
            continue
        file = found[0]
        frame = (
            _read_parquet(file)
            if file.suffix == ".parquet"
            else _read_csv(file, encoding)
        )
        frames[name] = frame
        sources[name] = str(file)
        logger.info("loaded %s: %d rows from %s", name, len(frame), file)
    return Tables(
        enterprises=frames["enterprises"],  # type: ignore[arg-type]
        payroll=frames["payroll"],  # type: ignore[arg-type]
        tax=frames["tax"],
        signals=frames["signals"],
        events=frames["events"],
        sources=sources,
    )


def write_tables(
    tables: Tables,
    path: str | Path,
    *,
    format: Literal["parquet", "csv"] = "parquet",
    encoding: str = "utf-8",
) -> dict[str, Path]:
    """Write each present table to ``path/NAME.{parquet,csv}``.

    Each file is written to a temporary name and renamed into place, so a
    reader never sees a half-written table.
    """
    check_param(
        "format",
        format,
        "write_tables",
        "'parquet' or 'csv'",
        format in ("parquet", "csv"),
    )
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, frame in tables.items():
        target = root / f"{name}.{format}"
        other = root / f"{name}.{'csv' if format == 'parquet' else 'parquet'}"
        tmp = target.with_name(f".{target.name}.tmp")
        if format == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, encoding=encoding)
        tmp.replace(target)
        other.unlink(missing_ok=True)
        written[name] = target
    return written
