"""Reading and writing the contract tables.

A data directory holds one file per table, ``NAME.parquet`` or ``NAME.csv``.
CSV files are read as text (so codes keep their leading zeros and bad values
reach validation unchanged), each line in UTF-8 or GB18030 (which reads GBK),
and lines that cannot be read as rows are kept aside for the quarantine
(:mod:`anxin._csv`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from anxin._csv import BadLine, read_csv
from anxin._params import check_param
from anxin.exceptions import ContractError, InvalidParameterError
from anxin.schemas import REQUIRED_TABLES, TABLE_NAMES

__all__ = ["Provenance", "Tables", "load_tables", "write_tables"]

logger = logging.getLogger(__name__)


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
    provenance : dict
        Table name -> :class:`Provenance` of a CSV table: the line each row
        came from and the lines that could not be read as rows.

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
    provenance: dict[str, Provenance] = dataclasses.field(default_factory=dict)

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
        periods = self.payroll["period"]
        if isinstance(periods.dtype, pd.CategoricalDtype):
            periods = pd.Series(periods.cat.remove_unused_categories().cat.categories)
        return str(periods.astype("str").max())

    def replace(self, **frames: pd.DataFrame | None) -> Tables:
        """Return a copy with some tables replaced (they lose their provenance)."""
        kept = {k: v for k, v in self.provenance.items() if k not in frames}
        return dataclasses.replace(self, **frames, provenance=kept)  # type: ignore[arg-type]

    def write(
        self, path: str | Path, format: Literal["parquet", "csv"] = "parquet"
    ) -> dict[str, Path]:
        """Write each table to ``path/NAME.{parquet,csv}``; see :func:`write_tables`."""
        return write_tables(self, path, format=format)


@dataclasses.dataclass(frozen=True)
class Provenance:
    """Where the rows of a table read from a CSV file came from.

    Attributes
    ----------
    path : Path
        The file.
    lines : ndarray
        1-based line number of each row of the table.
    bad_lines : list of BadLine
        Lines that could not be read as rows (too many or too few fields, an
        unclosed quote, bytes in no known encoding), with their raw bytes.
    encoding : str
        The file's encoding (``ascii``, ``utf-8`` or ``gb18030``).
    recoded : int
        Lines decoded in another encoding than the rest of the file.
    header : bytes
        The header line as in the file.
    """

    path: Path
    lines: np.ndarray
    bad_lines: list[BadLine]
    encoding: str
    recoded: int
    header: bytes


def _read_csv(path: Path, encoding: str | None) -> tuple[pd.DataFrame, Provenance]:
    if encoding is not None:
        try:
            "".encode(encoding)
        except LookupError:
            raise InvalidParameterError(
                f"The 'encoding' parameter of load_tables must be an encoding "
                f"Python knows (utf-8, gbk, gb18030, ...). Got {encoding!r} instead."
            ) from None
    read = read_csv(path, encoding=encoding)
    logger.debug("read %s as %s", path, read.encoding)
    prov = Provenance(
        path=path,
        lines=read.lines,
        bad_lines=read.bad,
        encoding=read.encoding,
        recoded=read.recoded,
        header=read.header,
    )
    return read.frame, prov


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
        Encoding of CSV files. By default each line is read as UTF-8, or
        else as GB18030 (which also reads GBK); a line in neither is
        quarantined with its raw bytes.

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
    provenance: dict[str, Provenance] = {}
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
        if file.suffix == ".parquet":
            frame = _read_parquet(file)
        else:
            frame, provenance[name] = _read_csv(file, encoding)
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
        provenance=provenance,
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
