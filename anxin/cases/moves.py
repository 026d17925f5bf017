"""Moving a case along the chain: one checked, recorded transition.

A move names who acts (``by``), when (``now``) and why (``note``); it is
refused before anything is read when its arguments are wrong, and inside the
transaction when the chain does not allow it or the case changed since the
caller read it.
"""

from __future__ import annotations

import datetime as _dt
import logging
from typing import Any

from sqlalchemy.engine import Engine, Row

from anxin._params import check_param
from anxin.cases.history import append_row
from anxin.cases.limits import check_amount, check_integer, check_note
from anxin.cases.records import Case, conflict, fetch_row, update_row
from anxin.cases.states import (
    OUTCOMES,
    STAGE_OF_STATE,
    Deadlines,
    check_allowed,
    check_state,
    due_at,
)

__all__ = ["check_move", "move_case"]

logger = logging.getLogger(__name__)


def check_move(
    case_id: int,
    to: str,
    *,
    note: str,
    expected_version: int | None,
    workers_affected: int | None,
    amount_owed: float | None,
) -> None:
    """Refuse a move whose arguments are wrong, whatever the case's state.

    Every value is held to :mod:`anxin.cases.limits`, so SQLite and
    PostgreSQL refuse the same moves.

    Raises
    ------
    IllegalTransitionError
        ``to`` is not a state.
    InvalidParameterError
        A bad case id, note or version, missing or invalid workers and amount.
    """
    check_integer("case_id", case_id, "move")
    check_note(note, "move")
    check_state(to, case_id)
    figures = workers_affected is not None or amount_owed is not None
    if to == "confirmed" or (to == "resolved" and figures):
        owner = f"move to {to!r}"
        check_integer(
            "workers_affected", workers_affected, owner, "workers owed wages, 涉及人数"
        )
        check_amount("amount_owed", amount_owed, owner, "wages owed in CNY, 欠薪金额")
    elif figures:
        check_param(
            "workers_affected/amount_owed",
            (workers_affected, amount_owed),
            f"move to {to!r}",
            "given only when moving to 'confirmed' (or corrected at 'resolved')",
            False,
        )
    if expected_version is not None:
        check_integer("expected_version", expected_version, "move")


def move_case(
    engine: Engine,
    case_id: int,
    to: str,
    *,
    by: str,
    note: str,
    now: _dt.datetime,
    expected_version: int | None,
    workers_affected: int | None,
    amount_owed: float | None,
    deadlines: Deadlines,
    store: str,
) -> Case:
    """Apply one move (arguments checked by :func:`check_move`) in one
    transaction; return the case after it. ``store`` names the store in
    errors."""
    with engine.begin() as conn:
        row = fetch_row(conn, case_id, store)
        if expected_version is not None and row.version != expected_version:
            raise conflict(row, int(expected_version))
        check_allowed(row.id, row.status, to)
        values, details = _changes(
            row, to, now, deadlines, workers_affected, amount_owed
        )
        new_version = update_row(conn, row, values, by=by, now=now)
        append_row(
            conn,
            row.id,
            new_version,
            at=now,
            by=by,
            action="transition",
            from_state=row.status,
            to_state=to,
            note=note,
            details=details,
        )
        case = Case.from_row(fetch_row(conn, row.id, store))
    logger.info("case %d: %s -> %s by %s", case.id, row.status, to, by)
    return case


def _changes(
    row: Row[Any],
    to: str,
    now: _dt.datetime,
    deadlines: Deadlines,
    workers_affected: int | None,
    amount_owed: float | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns a move to ``to`` sets, and the details its history keeps."""
    values: dict[str, Any] = {"status": to}
    details: dict[str, Any] = {}
    stage = STAGE_OF_STATE[to]
    if stage != STAGE_OF_STATE[row.status]:
        values["stage_started_at"] = now
        values["due_at"] = due_at(deadlines, row.level, stage, now)
        details["due_at"] = values["due_at"]
    if to in OUTCOMES:
        values.update(
            outcome=to,
            verified_at=now,
            verified_level=row.level,
            verified_as_of=row.as_of,
            verified_model_name=row.model_name,
            verified_model_version=row.model_version,
        )
    if workers_affected is not None and amount_owed is not None:
        values["workers_affected"] = int(workers_affected)
        values["amount_owed"] = float(amount_owed)
        details.update(
            workers_affected=int(workers_affected),
            amount_owed=float(amount_owed),
        )
    if to == "closed":
        values["closed_at"] = now
    return values, details
