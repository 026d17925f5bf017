"""The audit trail (全程留痕): writing, reading and exporting history rows.

``case_history`` is append-only: every change of a case is a row, nothing is
updated or deleted (triggers refuse it), and each row is chained to the
case's previous one by its hash (:mod:`anxin.cases.integrity`). ``seq`` runs
1, 2, ... per case and equals the case's ``version`` after that change. The
stored column ``actor`` holds whoever acted (``by`` in the Python API and on
the command line).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anxin._params import check_param
from anxin.cases._values import chunks, jsonable, load_json
from anxin.cases.exports import check_output, neutralised, restored, write_atomically
from anxin.cases.integrity import chained
from anxin.cases.schema import HISTORY
from anxin.exceptions import ContractError

__all__ = [
    "HISTORY_COLUMNS",
    "append_row",
    "append_rows",
    "check_export_path",
    "export_history",
    "history_frame",
    "read_history",
    "read_rows",
]

logger = logging.getLogger(__name__)

#: Columns of :meth:`~anxin.cases.CaseStore.history` (the hash columns are
#: checked by :meth:`~anxin.cases.CaseStore.verify`, not shown).
HISTORY_COLUMNS: tuple[str, ...] = (
    "case_id",
    "seq",
    "at",
    "actor",
    "action",
    "from_state",
    "to_state",
    "note",
    "details",
)


def append_row(
    conn: Connection,
    case_id: int,
    seq: int,
    *,
    at: _dt.datetime,
    by: str,
    action: str,
    from_state: str | None,
    to_state: str | None,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Append one history row (in the caller's transaction)."""
    append_rows(
        conn,
        [
            {
                "case_id": case_id,
                "seq": seq,
                "at": at,
                "actor": by,
                "action": action,
                "from_state": from_state,
                "to_state": to_state,
                "note": note,
                "details": details,
            }
        ],
    )


def append_rows(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append history rows (:data:`HISTORY_COLUMNS`, ``actor`` holding who
    acted) in the caller's transaction, each chained to its case's previous
    row by its hash (:mod:`anxin.cases.integrity`).

    The previous row of a case is read in the same transaction, after the
    caller's version-checked update of the case: it is the row that made the
    version the caller read, so it is final.
    """
    ordered = sorted(
        ({**r, "details": jsonable(r["details"] or {})} for r in rows),
        key=lambda r: (int(r["case_id"]), int(r["seq"])),
    )
    keys = {(int(r["case_id"]), int(r["seq"])) for r in ordered}
    wanted = sorted({(c, s - 1) for c, s in keys if s > 1} - keys)
    previous: dict[tuple[int, int], str | None] = {}
    for chunk in chunks(wanted, 500):
        found = conn.execute(
            sa.select(HISTORY.c.case_id, HISTORY.c.seq, HISTORY.c.row_hash).where(
                sa.tuple_(HISTORY.c.case_id, HISTORY.c.seq).in_(chunk)
            )
        )
        previous.update(((int(c), int(s)), h) for c, s, h in found)
    if ordered:
        conn.execute(sa.insert(HISTORY), chained(ordered, previous))


def read_rows(conn: Connection, case_id: int | None = None) -> pd.DataFrame:
    """History rows, oldest first: one case's, or every case's."""
    query = sa.select(*(HISTORY.c[c] for c in HISTORY_COLUMNS)).order_by(
        HISTORY.c.case_id, HISTORY.c.seq
    )
    if case_id is not None:
        query = query.where(HISTORY.c.case_id == int(case_id))
    rows = conn.execute(query).all()
    return history_frame(
        [{**r._mapping, "details": load_json(r.details) or {}} for r in rows]
    )


def history_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """History records -> the frame :meth:`~anxin.cases.CaseStore.history`
    returns (``details`` as dicts, ``at`` as datetimes)."""
    columns = list(HISTORY_COLUMNS)
    data = {c: [rec[c] for rec in records] for c in columns}
    return pd.DataFrame(
        {
            "case_id": pd.Series(data["case_id"], dtype="int64"),
            "seq": pd.Series(data["seq"], dtype="int64"),
            "at": pd.to_datetime(pd.Series(data["at"], dtype=object)),
            **{
                c: pd.Series(data[c], dtype=object)
                for c in ("actor", "action", "from_state", "to_state", "note")
            },
            "details": pd.Series(data["details"], dtype=object),
        },
        columns=columns,
    )


def check_export_path(
    path: str | Path, owner: str = "export_history", name: str = "path"
) -> Path:
    """Refuse an export path that does not end in ``.csv`` or ``.json``, or
    is a directory."""
    return check_output(path, owner, (".csv", ".json"), name)


def export_history(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a history frame to ``path``, atomically.

    ``path`` ends in ``.csv`` or ``.json`` (see :func:`check_export_path`).
    CSV holds ``details`` as JSON text, every text cell neutralised for
    spreadsheets (:mod:`anxin.cases.exports`); JSON is a list of records.
    Both are UTF-8 and read back by :func:`read_history`.
    """
    target = check_export_path(path)
    out = frame.assign(
        at=frame["at"].map(lambda t: t.isoformat(sep=" ")),
        details=[json.dumps(d, ensure_ascii=False) for d in frame["details"]],
    )

    def write(tmp: Path) -> None:
        if target.suffix.lower() == ".csv":
            neutralised(out).to_csv(tmp, index=False, encoding="utf-8")
            return
        records = out.assign(details=frame["details"]).to_dict(orient="records")
        tmp.write_text(
            json.dumps(jsonable(records), ensure_ascii=False, indent=1),
            encoding="utf-8",
        )

    write_atomically(target, write)
    logger.info("history: %d rows -> %s", len(frame), target)
    return target


def read_history(path: str | Path) -> pd.DataFrame:
    """Read a file written by :meth:`~anxin.cases.CaseStore.export_history`.

    Returns the same frame as :meth:`~anxin.cases.CaseStore.history`
    (``details`` as dicts, ``at`` as datetimes).

    Raises
    ------
    InvalidParameterError
        If ``path`` is not a ``.csv`` or ``.json`` file.
    ContractError
        If the file lacks history columns.
    """
    source = Path(path)
    suffix = source.suffix.lower()
    check_param(
        "path",
        str(path),
        "read_history",
        "a .csv or .json file",
        suffix in (".csv", ".json"),
    )
    if suffix == ".csv":
        raw = pd.read_csv(
            source, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8"
        )
        records: list[dict[str, Any]] = [
            {str(k): restored(v) for k, v in rec.items()}
            for rec in raw.astype(object).where(raw.notna(), None).to_dict("records")
        ]
    else:
        records = json.loads(source.read_text(encoding="utf-8"))
    missing = [c for c in HISTORY_COLUMNS if records and c not in records[0]]
    if missing:
        raise ContractError(
            f"{source.name}: columns {missing} are missing; this is not a history "
            "export. Write one with CaseStore.export_history or `anxin cases "
            "history --out`.",
            table="case_history",
            column=missing[0],
        )
    return history_frame([_parsed(rec) for rec in records])


def _parsed(rec: Mapping[str, Any]) -> dict[str, Any]:
    """One exported record with its types back."""
    details = rec["details"]
    return {
        **rec,
        "case_id": int(rec["case_id"]),
        "seq": int(rec["seq"]),
        "at": _dt.datetime.fromisoformat(str(rec["at"])),
        "note": rec["note"] or "",
        "details": (json.loads(details) if isinstance(details, str) else details) or {},
    }
