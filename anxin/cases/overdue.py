"""Overdue cases and their escalation (超时督办).

An open case whose current stage's deadline has passed is overdue. The
first time it breaches a stage it is escalated: its ``escalations`` count
goes up, ``overdue_stage`` records the stage and an ``overdue_escalated``
history row is appended. Listing again changes nothing until the case
breaches its next stage.
"""

from __future__ import annotations

import datetime as _dt
import logging
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from anxin.cases._values import typed
from anxin.cases.history import append_row
from anxin.cases.records import update_row
from anxin.cases.schema import CASES
from anxin.cases.states import STAGE_OF_STATE
from anxin.exceptions import CaseConflictError

__all__ = ["OVERDUE_COLUMNS", "escalate_overdue"]

logger = logging.getLogger(__name__)

#: Columns of :meth:`~anxin.cases.CaseStore.overdue`.
OVERDUE_COLUMNS: tuple[str, ...] = (
    "id",
    "enterprise_id",
    "level",
    "status",
    "stage",
    "unit",
    "grid",
    "due_at",
    "hours_overdue",
    "escalations",
    "newly_escalated",
)


def escalate_overdue(engine: Engine, now: _dt.datetime, by: str) -> pd.DataFrame:
    """Overdue cases at ``now``, most overdue first, escalating new breaches
    in one transaction (see :meth:`~anxin.cases.CaseStore.overdue`)."""
    records = []
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(CASES)
            .where(CASES.c.status != "closed", CASES.c.due_at < now)
            .order_by(CASES.c.due_at, CASES.c.id)
        ).all()
        for row in rows:
            stage = STAGE_OF_STATE[row.status]
            hours = (now - row.due_at).total_seconds() / 3600
            escalations, newly = row.escalations, False
            if row.overdue_stage != stage:
                try:
                    _escalate(conn, row, stage, hours, now, by)
                except CaseConflictError:
                    logger.info("case %d changed meanwhile; skipped", row.id)
                    continue
                escalations, newly = escalations + 1, True
            records.append(
                {
                    "id": row.id,
                    "enterprise_id": row.enterprise_id,
                    "level": row.level,
                    "status": row.status,
                    "stage": stage,
                    "unit": row.unit,
                    "grid": row.grid,
                    "due_at": row.due_at,
                    "hours_overdue": hours,
                    "escalations": escalations,
                    "newly_escalated": newly,
                }
            )
    frame = pd.DataFrame(records, columns=list(OVERDUE_COLUMNS))
    frame = frame.sort_values("hours_overdue", ascending=False, kind="stable")
    if len(frame):
        logger.info(
            "overdue: %d cases, %d newly escalated",
            len(frame),
            int(frame["newly_escalated"].sum()),
        )
    return typed(frame.reset_index(drop=True))


def _escalate(
    conn: Connection,
    row: Row[Any],
    stage: str | None,
    hours: float,
    now: _dt.datetime,
    by: str,
) -> None:
    """Record one stage breach of ``row`` (version-checked)."""
    version = update_row(
        conn,
        row,
        {"escalations": row.escalations + 1, "overdue_stage": stage},
        by=by,
        now=now,
    )
    append_row(
        conn,
        row.id,
        version,
        at=now,
        by=by,
        action="overdue_escalated",
        from_state=row.status,
        to_state=row.status,
        note=f"{stage} deadline passed {hours:.1f} h ago",
        details={
            "stage": stage,
            "due_at": row.due_at,
            "hours_overdue": round(hours, 2),
        },
    )
