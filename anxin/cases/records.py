"""Case records: the :class:`Case` snapshot, reading cases, the locked update.

Writers never overwrite each other: every update checks the ``version`` it
read (optimistic locking) and a stale one raises
:class:`~anxin.exceptions.CaseConflictError`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from anxin._params import check_param
from anxin.cases._values import load_json, typed
from anxin.cases.limits import check_integer, check_name
from anxin.cases.schema import CASES
from anxin.cases.states import CASE_LEVELS, STAGE_OF_STATE, STATES, TRANSITIONS
from anxin.exceptions import CaseConflictError, UnknownCaseError

__all__ = [
    "LIST_COLUMNS",
    "Case",
    "check_filters",
    "conflict",
    "fetch_row",
    "list_cases",
    "update_row",
]


@dataclasses.dataclass(frozen=True)
class Case:
    """One case as read from the store (a snapshot; re-read after changes).

    ``version`` is the optimistic lock: pass it to
    :meth:`~anxin.cases.CaseStore.move` as ``expected_version`` to refuse the
    move if someone changed the case since; it counts the changes
    (``version == len(history)``). ``escalations`` counts overdue escalations
    (督办); ``overdue_stage`` is the last stage escalated for. ``due_at`` is
    the deadline of the current stage (``stage``). The ``verified_*`` fields
    keep the warning as it was when verified, even if a later score raises
    the level of the open case. ``updated_by`` is whoever made the last
    change.
    """

    id: int
    enterprise_id: str
    as_of: str
    level: str
    score: float
    reasons: tuple[dict[str, Any], ...]
    model_name: str
    model_version: str
    industry: str | None
    region: str | None
    unit: str
    grid: str | None
    status: str
    stage_started_at: _dt.datetime
    due_at: _dt.datetime | None
    version: int
    created_at: _dt.datetime
    updated_at: _dt.datetime
    updated_by: str
    escalations: int
    overdue_stage: str | None
    outcome: str | None
    verified_at: _dt.datetime | None
    verified_level: str | None
    verified_as_of: str | None
    verified_model_name: str | None
    verified_model_version: str | None
    workers_affected: int | None
    amount_owed: float | None
    closed_at: _dt.datetime | None

    @property
    def stage(self) -> str | None:
        """The deadline stage running now (``None`` once closed)."""
        return STAGE_OF_STATE[self.status]

    @property
    def allowed_next(self) -> tuple[str, ...]:
        """States this case may move to."""
        return TRANSITIONS[self.status]

    @property
    def is_open(self) -> bool:
        """Whether the case is not closed."""
        return self.status != "closed"

    def is_overdue(self, now: _dt.datetime) -> bool:
        """Whether the current stage's deadline has passed at ``now``."""
        return self.due_at is not None and self.due_at < now

    @classmethod
    def from_row(cls, row: Row[Any]) -> Case:
        """The snapshot of a ``cases`` row."""
        data = dict(row._mapping)
        data["reasons"] = tuple(load_json(data["reasons"]) or ())
        return cls(**data)


def fetch_row(conn: Connection, case_id: int, store: str) -> Row[Any]:
    """The ``cases`` row of ``case_id``; ``store`` names the store in errors.

    Raises
    ------
    UnknownCaseError
        If there is no such case.
    """
    check_integer("case_id", case_id, "the case store")
    row = conn.execute(sa.select(CASES).where(CASES.c.id == int(case_id))).first()
    if row is None:
        raise UnknownCaseError(
            f"No case {case_id} in {store}. List cases with `anxin cases "
            "list` (or CaseStore.list()) and use one of their ids.",
            case_id=case_id,
        )
    return row


def conflict(row: Row[Any], read_version: int) -> CaseConflictError:
    """The error for a case changed (now ``row``) since ``read_version``."""
    at = row.updated_at.isoformat(sep=" ", timespec="seconds")
    return CaseConflictError(
        f"case {row.id} was changed by {row.updated_by} at {at} since you read it "
        f"(version {read_version}, now {row.version}); reload and retry.",
        case_id=row.id,
        expected_version=read_version,
        current_version=row.version,
        changed_by=row.updated_by,
    )


def update_row(
    conn: Connection,
    row: Row[Any],
    values: dict[str, Any],
    *,
    by: str,
    now: _dt.datetime,
    bump: int = 1,
) -> int:
    """Version-checked update of the case ``row``; returns the new version.

    ``bump`` is the number of history rows the change appends: the version
    counts changes, so ``version == len(history)`` always.

    Raises
    ------
    CaseConflictError
        If the case changed since ``row`` was read; nothing is written.
    """
    new_version = row.version + bump
    result = conn.execute(
        sa.update(CASES)
        .where(CASES.c.id == row.id, CASES.c.version == row.version)
        .values(**values, version=new_version, updated_at=now, updated_by=by)
    )
    if result.rowcount != 1:
        current = conn.execute(sa.select(CASES).where(CASES.c.id == row.id)).one()
        raise conflict(current, row.version)
    return new_version


#: Columns of :meth:`~anxin.cases.CaseStore.list`.
LIST_COLUMNS: tuple[str, ...] = (
    "id",
    "enterprise_id",
    "as_of",
    "level",
    "score",
    "status",
    "unit",
    "grid",
    "industry",
    "region",
    "due_at",
    "escalations",
    "model_name",
    "model_version",
    "outcome",
    "workers_affected",
    "amount_owed",
    "version",
    "created_at",
    "updated_at",
    "updated_by",
)


def check_filters(
    status: str | None = None, level: str | None = None, unit: str | None = None
) -> None:
    """Refuse a filter of :func:`list_cases` that can match no case."""
    if status is not None:
        check_param(
            "status", status, "list", f"one of {list(STATES)}", status in STATES
        )
    if level is not None:
        check_param(
            "level",
            level,
            "list",
            f"one of {list(CASE_LEVELS)}",
            level in CASE_LEVELS,
        )
    if unit is not None:
        check_name("unit", unit, "list")


def list_cases(
    engine: Engine,
    status: str | None = None,
    level: str | None = None,
    unit: str | None = None,
) -> pd.DataFrame:
    """Cases as a frame (:data:`LIST_COLUMNS`), by id; see ``CaseStore.list``."""
    check_filters(status, level, unit)
    query = sa.select(*(CASES.c[c] for c in LIST_COLUMNS)).order_by(CASES.c.id)
    if status is not None:
        query = query.where(CASES.c.status == status)
    if level is not None:
        query = query.where(CASES.c.level == level)
    if unit is not None:
        # a whole unit name, alone or among joint units ("住建局+人社...")
        query = query.where(
            sa.or_(
                CASES.c.unit == unit,
                CASES.c.unit.startswith(unit + "+", autoescape=True),
                CASES.c.unit.endswith("+" + unit, autoescape=True),
                CASES.c.unit.contains("+" + unit + "+", autoescape=True),
            )
        )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return typed(pd.DataFrame([tuple(r) for r in rows], columns=list(LIST_COLUMNS)))
