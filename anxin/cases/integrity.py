"""The audit trail's hash chain: how rows are hashed, and how it is verified.

Each ``case_history`` row stores ``row_hash``, the SHA-256 of its content and
of ``prev_hash``, the ``row_hash`` of the same case's previous row (``seq -
1``; ``NULL`` for the first row). The row and its hashes are written in one
transaction with the change they record. Editing a row breaks its own hash;
rewriting a row *and* its hash breaks the next row's link; deleting a row
leaves a gap in ``seq``; deleting the last rows leaves fewer rows than the
case's ``version``. :func:`verify_history` reports each.

The hashed content is the canonical encoding :func:`canonical`: the UTF-8
bytes of the compact JSON array ::

    ["anxin-case-history-v1", case_id, seq, at, actor, action,
     from_state, to_state, note, details, prev_hash]

with ``at`` in ISO 8601 with microseconds (``"2026-06-05T09:00:00.000000"``),
``details`` the stored JSON value with its keys sorted, missing values as
``null``, no whitespace (``separators=(",", ":")``), text not escaped
(``ensure_ascii=False``). Anyone can recompute it from an export or the
database with a few lines of any language.

The chain shows tampering by someone who does not recompute it. Someone who
can write the database *and* recompute the hashes can rewrite a whole case's
history consistently; :attr:`IntegrityReport.digest` (one hash over every
case's last hash) kept outside the database -- in the monthly log, say --
shows that too.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from anxin.cases.schema import CASES, HISTORY
from anxin.exceptions import CaseError

__all__ = [
    "HASH_SCHEME",
    "PROBLEMS",
    "TAMPERED_EXIT_CODE",
    "CaseIntegrity",
    "HistoryTamperedError",
    "IntegrityReport",
    "Tampering",
    "canonical",
    "chained",
    "check_case",
    "decoded",
    "row_hash",
    "verify_history",
]

#: First element of every hashed array: names the encoding.
HASH_SCHEME = "anxin-case-history-v1"

#: Kinds of tampering :func:`verify_history` tells apart.
PROBLEMS: dict[str, str] = {
    "edited": "the row's content no longer matches its hash",
    "broken_link": "the row does not follow the previous row (one of them was "
    "rewritten with a new hash)",
    "deleted": "a row the case recorded is missing",
    "inserted": "a row the case never recorded",
}


#: Exit code of ``anxin cases verify`` when the audit trail was tampered with.
TAMPERED_EXIT_CODE = 3


class HistoryTamperedError(CaseError, RuntimeError):
    """The audit trail was changed after it was written (exit code 3)."""

    exit_code = TAMPERED_EXIT_CODE


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes a history row's hash is computed over (see the module doc).

    Examples
    --------
    >>> import datetime as dt
    >>> canonical({"case_id": 1, "seq": 1, "at": dt.datetime(2026, 6, 5, 9),
    ...     "actor": "张三", "action": "opened", "from_state": None,
    ...     "to_state": "new", "note": "", "details": {"b": 1, "a": 2},
    ...     "prev_hash": None}).decode()
    '["anxin-case-history-v1",1,1,"2026-06-05T09:00:00.000000","张三","opened",null,"new","",{"a":2,"b":1},null]'
    """
    fields = [
        HASH_SCHEME,
        int(row["case_id"]),
        int(row["seq"]),
        row["at"].isoformat(sep="T", timespec="microseconds"),
        row["actor"],
        row["action"],
        row["from_state"],
        row["to_state"],
        row["note"],
        row["details"],
        row["prev_hash"],
    ]
    text = json.dumps(
        fields,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    )
    return text.encode("utf-8", "surrogatepass")


def row_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of :func:`canonical` ``(row)``; ``row`` holds
    ``prev_hash``."""
    return hashlib.sha256(canonical(row)).hexdigest()


def chained(
    rows: Iterable[Mapping[str, Any]], previous: Mapping[tuple[int, int], str | None]
) -> list[dict[str, Any]]:
    """``rows`` (in ``(case_id, seq)`` order) with ``prev_hash`` and
    ``row_hash`` filled in; ``previous`` maps ``(case_id, seq)`` to the stored
    hash of rows written before."""
    known = dict(previous)
    out = []
    for row in rows:
        key = (int(row["case_id"]), int(row["seq"]))
        linked = {**row, "prev_hash": known.get((key[0], key[1] - 1))}
        linked["row_hash"] = known[key] = row_hash(linked)
        out.append(linked)
    return out


@dataclasses.dataclass(frozen=True)
class Tampering:
    """One sign that the history of a case was changed after it was written.

    Attributes
    ----------
    case_id, seq : int
        The case and the row (``seq``) concerned.
    kind : str
        ``edited``, ``broken_link``, ``deleted`` or ``inserted``
        (:data:`PROBLEMS`).
    message : str
        What was found, in a sentence.
    """

    case_id: int
    seq: int
    kind: str
    message: str


@dataclasses.dataclass(frozen=True)
class CaseIntegrity:
    """What :func:`verify_history` found for one case.

    Attributes
    ----------
    case_id : int
    version : int or None
        The case's version: the number of rows it recorded (``None`` for
        history rows whose case does not exist).
    rows : int
        History rows found.
    head : str or None
        ``row_hash`` of its last row.
    problems : tuple of Tampering
        Empty when the case's history is intact.
    """

    case_id: int
    version: int | None
    rows: int
    head: str | None
    problems: tuple[Tampering, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the case's history is intact."""
        return not self.problems

    @property
    def status(self) -> str:
        """``ok``, or the kinds of problem found, comma-separated."""
        kinds = dict.fromkeys(p.kind for p in self.problems)
        return ", ".join(kinds) or "ok"


@dataclasses.dataclass(frozen=True)
class IntegrityReport:
    """What :meth:`~anxin.cases.CaseStore.verify` found, case by case."""

    #: One entry per case (and per missing case that has history rows).
    cases: tuple[CaseIntegrity, ...]

    @property
    def intact(self) -> bool:
        """Whether no case shows tampering."""
        return all(c.ok for c in self.cases)

    @property
    def problems(self) -> tuple[Tampering, ...]:
        """Every problem found, by case and row."""
        return tuple(p for c in self.cases for p in c.problems)

    @property
    def rows(self) -> int:
        """History rows checked."""
        return sum(c.rows for c in self.cases)

    @property
    def digest(self) -> str:
        """SHA-256 over every case's id, version and last hash: record it
        outside the database to show later that nothing was rewritten."""
        lines = "".join(f"{c.case_id}:{c.version}:{c.head}\n" for c in self.cases)
        return hashlib.sha256(lines.encode("ascii")).hexdigest()

    def raise_if_tampered(self) -> None:
        """Raise :class:`HistoryTamperedError` unless the trail is intact."""
        if self.intact:
            return
        problems = self.problems
        damaged = sum(not c.ok for c in self.cases)
        listed = ", ".join(f"case {p.case_id} row {p.seq} {p.kind}" for p in problems)
        if len(listed) > 300:
            listed = listed[:300].rsplit(", ", 1)[0] + ", ..."
        raise HistoryTamperedError(
            f"The audit trail was changed after it was written: {len(problems)} "
            f"problem(s) in {damaged} of {len(self.cases)} cases ({listed}). Keep "
            "the database as it is, find out who could write to it, and compare "
            "with a backup or an earlier export.",
            problems=problems,
        )

    def frame(self) -> pd.DataFrame:
        """One row per case: ``case_id``, ``version``, ``rows``, ``status``,
        then one row per problem: ``seq``, ``kind``, ``message`` (``seq`` is
        missing on the rows of intact cases)."""
        records: list[dict[str, Any]] = []
        for case in self.cases:
            base = {
                "case_id": case.case_id,
                "version": case.version,
                "rows": case.rows,
                "status": case.status,
            }
            if case.ok:
                records.append({**base, "seq": None, "kind": "ok", "message": ""})
            for p in case.problems:
                records.append(
                    {**base, "seq": p.seq, "kind": p.kind, "message": p.message}
                )
        columns = ["case_id", "version", "rows", "status", "seq", "kind", "message"]
        frame = pd.DataFrame(records, columns=columns)
        for column in ("version", "seq"):
            frame[column] = frame[column].astype("Int64")
        return frame


def check_case(
    case_id: int, version: int | None, rows: Sequence[Mapping[str, Any]]
) -> CaseIntegrity:
    """Check one case's history rows (in ``seq`` order, as :func:`decoded`
    reads them) against its version."""
    problems: list[Tampering] = []
    by_seq = {int(r["seq"]): r for r in rows}
    recorded = version or 0
    for seq in range(1, max([recorded, *by_seq]) + 1):
        row = by_seq.get(seq)
        if row is None:
            if seq <= recorded:
                problems.append(
                    Tampering(
                        case_id,
                        seq,
                        "deleted",
                        f"case {case_id} row {seq} is missing: the case recorded "
                        f"{recorded} changes",
                    )
                )
            continue
        problems += _row_problems(case_id, seq, row, by_seq.get(seq - 1), version)
    head = rows[-1]["row_hash"] if rows else None
    return CaseIntegrity(case_id, version, len(rows), head, tuple(problems))


def _intact(row: Mapping[str, Any]) -> bool:
    """Whether the row's stored hash is the hash of its content."""
    if row.get("undecodable"):
        return False
    try:
        return bool(row["row_hash"] == row_hash(row))
    except (TypeError, ValueError, AttributeError):  # content made unhashable
        return False


def _row_problems(
    case_id: int,
    seq: int,
    row: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    version: int | None,
) -> list[Tampering]:
    found = []
    if version is None or seq > version:
        whose = "no such case" if version is None else f"the case is at {version}"
        found.append(
            Tampering(
                case_id,
                seq,
                "inserted",
                f"case {case_id} row {seq} was never recorded by the case ({whose})",
            )
        )
    if not _intact(row):
        found.append(
            Tampering(
                case_id,
                seq,
                "edited",
                f"case {case_id} row {seq} was edited: its content no longer "
                "matches its hash",
            )
        )
    expected = None if seq == 1 else (before or {}).get("row_hash")
    if (seq == 1 or before is not None) and row["prev_hash"] != expected:
        found.append(
            Tampering(
                case_id,
                seq,
                "broken_link",
                f"case {case_id} row {seq} does not follow row {seq - 1}: one of "
                "them was rewritten with a new hash",
            )
        )
    return found


#: History columns as :func:`verify_history` reads them: times and JSON as
#: the stored text, so that a tampered value is reported, not a crash.
_RAW_COLUMNS = [
    sa.cast(c, sa.Text).label(c.name) if c.name in ("at", "details") else c
    for c in HISTORY.columns
]


def _number(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0  # a key overwritten with text: reported under 0


def decoded(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A history row read as text (:data:`_RAW_COLUMNS`) with its types
    back; ``undecodable`` marks a row whose time or JSON no longer parse."""
    row = {**raw, "case_id": _number(raw["case_id"]), "seq": _number(raw["seq"])}
    try:
        row["at"] = _dt.datetime.fromisoformat(str(raw["at"]))
        text = raw["details"]
        row["details"] = None if text is None else json.loads(text)
    except (TypeError, ValueError):
        row["undecodable"] = True
    return row


def verify_history(engine: Engine, case_id: int | None = None) -> IntegrityReport:
    """Recompute the hash chain of every case (or of ``case_id``) and compare
    each case's rows with its ``version``."""
    cases = sa.select(CASES.c.id, CASES.c.version).order_by(CASES.c.id)
    query = sa.select(*_RAW_COLUMNS).order_by(HISTORY.c.case_id, HISTORY.c.seq)
    if case_id is not None:
        cases = cases.where(CASES.c.id == case_id)
        query = query.where(HISTORY.c.case_id == case_id)
    found: dict[int, CaseIntegrity] = {}
    with engine.connect() as conn:
        versions = {int(i): int(v) for i, v in conn.execute(cases)}
        stream = conn.execution_options(yield_per=2000).execute(query)
        rows = (decoded(dict(r._mapping)) for r in stream)
        for cid, group in itertools.groupby(rows, key=lambda r: int(r["case_id"])):
            found[cid] = check_case(cid, versions.get(cid), list(group))
    for cid, version in versions.items():
        if cid not in found:
            found[cid] = check_case(cid, version, [])
    return IntegrityReport(tuple(found[c] for c in sorted(found)))
