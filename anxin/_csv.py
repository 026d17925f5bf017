"""Reading a bureau's CSV export line by line, losing nothing.

Exports from departmental systems are UTF-8, GBK or GB18030, sometimes mixed
(one clerk's edit saved in another encoding), and sometimes have a line with
an extra field or an unclosed quote. :func:`read_csv`

* decides the encoding per file and checks it per line: each line is decoded
  in the encoding it is valid in (UTF-8 first, then GB18030, a superset of
  GBK); a line valid in neither is set aside with its raw bytes;
* sets aside every line that cannot be split into the header's fields
  (too many or too few fields, an unclosed quote) with its line number and
  raw bytes, and reads the rest;
* returns the rows as text, each with the line it came from, so a
  quarantined row can be given back byte for byte.

Structural problems (an empty file, no header, a repeated or empty column
name) raise :class:`~anxin.exceptions.ContractError` naming the file, the
line or column, and the fix. A quoted value may not span lines.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from anxin.exceptions import ContractError

__all__ = ["BadLine", "CsvFile", "raw_lines", "read_csv"]

BOM = b"\xef\xbb\xbf"
#: Encodings tried for each line that is not plain ASCII, in order.
FALLBACK = ("utf-8", "gb18030")


@dataclasses.dataclass(frozen=True)
class BadLine:
    """A line set aside before parsing."""

    line: int  # 1-based line number in the file
    raw: bytes  # the line's bytes as in the file (without the line break)
    rule: str  # "malformed_line" or "undecodable"
    detail: str  # what is wrong, for the report


@dataclasses.dataclass
class CsvFile:
    """A CSV file read as text."""

    frame: pd.DataFrame  # one row per good data line, every column text
    lines: np.ndarray  # 1-based line number of each row of ``frame``
    bad: list[BadLine]
    encoding: str  # the file's encoding (that of most non-ASCII lines)
    recoded: int  # lines decoded in another encoding than ``encoding``
    header: bytes  # the header line's bytes, with its line break


def _line_bounds(data: bytes, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of each line (ends exclude ``\\n`` and ``\\r``)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(buf == 10)
    starts = np.concatenate([[start], breaks + 1])
    ends = np.concatenate([breaks, [len(data)]])
    if starts[-1] >= len(data):  # a final line break: no line after it
        starts, ends = starts[:-1], ends[:-1]
    cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    return starts, ends - cr


def _decode(raw: bytes, encodings: tuple[str, ...]) -> tuple[str | None, str]:
    for enc in encodings:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return None, ""


def _fields(text: str) -> int | None:
    """Fields on a line, or None for an unclosed quote."""
    if text.count('"') % 2:
        return None
    try:
        return len(next(csv.reader([text])))
    except (csv.Error, StopIteration):
        return None


def _header(name: str, text: str) -> list[str]:
    columns = next(csv.reader([text]), [])
    columns = [c.strip() for c in columns]
    if not any(columns):
        raise ContractError(
            f"{name}: line 1 (the header) is empty. The first line must name "
            "the columns, e.g. enterprise_id,period,...",
            table=Path(name).stem,
        )
    for i, col in enumerate(columns):
        if not col:
            raise ContractError(
                f"{name}: column {i + 1} of the header has no name. Name every "
                "column or delete the empty one.",
                table=Path(name).stem,
            )
        if col in columns[:i]:
            first = columns.index(col) + 1
            raise ContractError(
                f"{name}: column '{col}' appears twice in the header (columns "
                f"{first} and {i + 1}). Keep one of them.",
                table=Path(name).stem,
                column=col,
            )
    return columns


def read_csv(path: str | Path, *, encoding: str | None = None) -> CsvFile:
    """Read a CSV export; see the module docstring.

    Parameters
    ----------
    path : str or Path
    encoding : str, optional
        The file's encoding. By default each line is decoded as UTF-8, or
        else as GB18030 (which also reads GBK).
    """
    file = Path(path)
    data = file.read_bytes()
    start = len(BOM) if data.startswith(BOM) else 0
    if not data[start:].strip():
        raise ContractError(
            f"{file.name}: the file is empty. Export the table again with a "
            "header line naming the columns.",
            table=file.stem,
        )
    encodings = (encoding,) if encoding else FALLBACK
    starts, ends = _line_bounds(data, start)
    return _Reader(file, data, starts, ends, encodings).read()


#: Bytes that leave a line blank.
_BLANKS = np.frombuffer(b" \t\r", dtype=np.uint8)


def _per_line(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, flag: np.ndarray
) -> np.ndarray:
    """How many bytes of each line have ``flag`` set (empty lines: 0)."""
    csum = np.concatenate([[0], np.cumsum(flag, dtype=np.int64)])
    return csum[ends] - csum[starts]


class _Reader:
    """One file's lines, their flags, and what to set aside."""

    def __init__(
        self,
        file: Path,
        data: bytes,
        starts: np.ndarray,
        ends: np.ndarray,
        encodings: tuple[str, ...],
    ) -> None:
        self.file, self.data = file, data
        self.starts, self.ends, self.encodings = starts, ends, encodings
        buf = np.frombuffer(data, dtype=np.uint8)
        self.high = _per_line(buf, starts, ends, buf >= 0x80) > 0
        self.quotes = _per_line(buf, starts, ends, buf == 0x22)
        self.commas = _per_line(buf, starts, ends, buf == 0x2C)
        self.blank = _per_line(buf, starts, ends, ~np.isin(buf, _BLANKS)) == 0
        self.bad: list[BadLine] = []
        self.text: dict[int, str] = {}  # decoded non-ASCII lines
        self.used: dict[str, int] = {}

    def raw(self, i: int) -> bytes:
        return self.data[int(self.starts[i]) : int(self.ends[i])]

    def line_text(self, i: int) -> str | None:
        if not self.high[i]:
            return self.raw(i).decode("ascii")
        return self.text.get(i)

    def read(self) -> CsvFile:
        self._decode_non_ascii()
        first = int(np.flatnonzero(~self.blank)[0])
        header = self.line_text(first)
        if header is None:
            raise ContractError(
                f"{self.file.name}: the header (line {first + 1}) cannot be "
                f"decoded as {' or '.join(self.encodings)}. Pass the file's "
                "encoding with --encoding, or re-export it as UTF-8.",
                table=self.file.stem,
            )
        columns = _header(self.file.name, header)
        keep = self._split(first, len(columns))
        main = max(self.used, key=lambda e: self.used[e]) if self.used else "ascii"
        return CsvFile(
            frame=self._parse(columns, keep),
            lines=keep + 1,
            bad=sorted(self.bad, key=lambda b: b.line),
            encoding=main,
            recoded=sum(v for e, v in self.used.items() if e != main),
            header=self.data[int(self.starts[first]) : int(self.starts[first + 1])]
            if first + 1 < len(self.starts)
            else self.data[int(self.starts[first]) :],
        )

    def _decode_non_ascii(self) -> None:
        """Decode each non-ASCII line in the first encoding it is valid in."""
        for i in np.flatnonzero(self.high).tolist():
            raw = self.raw(i)
            value, enc = _decode(raw, self.encodings)
            if value is None:
                tried = " or ".join(self.encodings)
                self.bad.append(
                    BadLine(i + 1, raw, "undecodable", f"not valid {tried}")
                )
                continue
            self.text[i] = value
            self.used[enc] = self.used.get(enc, 0) + 1

    def _split(self, header: int, width: int) -> np.ndarray:
        """Indices of the data lines with ``width`` fields (others set aside)."""
        lines = np.arange(header + 1, len(self.starts))
        undecodable = {b.line - 1 for b in self.bad}
        lines = lines[~self.blank[lines]]
        simple = (self.quotes[lines] == 0) & ~self.high[lines]
        ok = simple & (self.commas[lines] == width - 1)
        for j in np.flatnonzero(~ok).tolist():
            i = int(lines[j])
            if i in undecodable:
                continue
            if simple[j]:
                found: int | None = int(self.commas[i]) + 1
            else:
                found = _fields(self.line_text(i) or "")
            if found == width:
                ok[j] = True
                continue
            detail = (
                "an unclosed quote"
                if found is None
                else f"{found} fields where the header has {width}"
            )
            self.bad.append(BadLine(i + 1, self.raw(i), "malformed_line", detail))
        return lines[ok]

    def _body(self, keep: np.ndarray) -> bytes:
        """The kept lines as UTF-8, one per line.

        Runs of consecutive kept lines are copied as one slice; only the
        lines set aside and those re-encoded to UTF-8 break a run.
        """
        first, last = int(keep[0]), int(keep[-1])
        kept = np.zeros(last - first + 1, dtype=bool)
        kept[keep - first] = True
        recode = {
            i
            for i, t in self.text.items()
            if first <= i <= last and kept[i - first] and t.encode() != self.raw(i)
        }
        breaks = sorted({int(i) for i in np.flatnonzero(~kept) + first} | recode)
        parts: list[bytes] = []
        pos = first
        for e in [*breaks, last + 1]:
            if pos < e:
                parts.append(self.data[int(self.starts[pos]) : int(self.ends[e - 1])])
            if e in recode:
                parts.append(self.text[e].encode("utf-8"))
            pos = e + 1
        return b"\n".join(parts) + b"\n"

    def _parse(self, columns: list[str], keep: np.ndarray) -> pd.DataFrame:
        if not len(keep):
            return pd.DataFrame({c: pd.Series([], dtype="str") for c in columns})
        table = pacsv.read_csv(
            io.BytesIO(self._body(keep)),
            read_options=pacsv.ReadOptions(column_names=columns),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        if table.num_rows != len(keep):  # pragma: no cover - parsers disagree
            raise ContractError(
                f"{self.file.name}: {len(keep)} lines gave {table.num_rows} rows. "
                "Re-export the file without quoted line breaks.",
                table=self.file.stem,
            )
        return table.to_pandas()


def raw_lines(path: str | Path, lines: list[int]) -> dict[int, bytes]:
    """The bytes of the given 1-based lines of a file, with their line breaks."""
    data = Path(path).read_bytes()
    start = len(BOM) if data.startswith(BOM) else 0
    starts, _ = _line_bounds(data, start)
    nexts = np.append(starts[1:], len(data))
    return {int(i): data[int(starts[i - 1]) : int(nexts[i - 1])] for i in lines}
