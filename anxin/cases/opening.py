"""Opening cases from scores, and escalating open cases whose level rose.

One transaction per call, in three steps: look up the enterprises' open and
closed cases (:func:`_known_cases`), decide what each flagged row does
(:func:`_plan`: open, escalate or nothing), then write the new cases, the
escalations and their history rows (:func:`_write`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from anxin.cases._values import chunks, jsonable
from anxin.cases.history import append_rows
from anxin.cases.records import update_row
from anxin.cases.routing import Routing
from anxin.cases.schema import CASES
from anxin.cases.scores import check_text, reasons_cell, validate_scores
from anxin.cases.states import LEVEL_RANK, STAGE_OF_STATE, Deadlines, due_at
from anxin.exceptions import CaseConflictError

__all__ = ["OpenResult", "open_cases"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class OpenResult:
    """What :meth:`~anxin.cases.CaseStore.open_from_scores` did.

    Attributes
    ----------
    opened, escalated, unchanged : int
        Cases opened; escalations recorded (an open case whose level rose);
        flagged rows that changed nothing (same or lower level, or a warning
        already handled by a closed case).
    below_min_level : int
        Rows below ``min_level``, ignored.
    opened_ids, escalated_ids : tuple of int
        Ids of the cases opened and of the cases escalated.
    """

    opened: int
    escalated: int
    unchanged: int
    below_min_level: int
    opened_ids: tuple[int, ...]
    escalated_ids: tuple[int, ...]

    @property
    def case_ids(self) -> tuple[int, ...]:
        """Every case opened or escalated, in id order."""
        return tuple(sorted(set(self.opened_ids) | set(self.escalated_ids)))


@dataclasses.dataclass(frozen=True)
class _Warning:
    """One flagged row of a scores frame."""

    as_of: str
    level: str
    score: float
    reasons: list[Any]
    model_name: str
    model_version: str


@dataclasses.dataclass
class _Draft:
    """A case being opened or escalated within one ``open_cases`` call.

    ``row`` is the stored case (``None`` for a case opened by this call);
    ``values`` the columns to insert or update; ``history`` the rows to append.
    """

    row: Row[Any] | None
    level: str
    as_of: str
    score: float
    status: str
    stage_started_at: _dt.datetime
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    history: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def raises(self) -> int:
        """Level escalations recorded by this call."""
        return sum(h["action"] == "escalated" for h in self.history)

    @classmethod
    def of_stored(cls, row: Row[Any]) -> _Draft:
        return cls(
            row, row.level, row.as_of, row.score, row.status, row.stage_started_at
        )

    @classmethod
    def opened(
        cls,
        enterprise_id: str,
        warning: _Warning,
        industry: str | None,
        region: str | None,
        routing: Routing,
        *,
        due: _dt.datetime | None,
        now: _dt.datetime,
        by: str,
    ) -> _Draft:
        unit, grid = routing.route(industry, region)
        draft = cls(None, warning.level, warning.as_of, warning.score, "new", now)
        draft.values = {
            **dataclasses.asdict(warning),
            "enterprise_id": enterprise_id,
            "industry": industry,
            "region": region,
            "unit": unit,
            "grid": grid,
            "status": "new",
            "stage_started_at": now,
            "due_at": due,
            "created_at": now,
            "updated_at": now,
            "updated_by": by,
            "escalations": 0,
        }
        details = dataclasses.asdict(warning)
        del details["reasons"]
        draft.history.append(
            {
                "action": "opened",
                "from_state": None,
                "to_state": "new",
                "details": {**details, "unit": unit, "grid": grid, "due_at": due},
            }
        )
        return draft

    def raised_by(self, warning: _Warning) -> bool:
        """A higher level, from the same or a later month."""
        return (
            LEVEL_RANK[warning.level] > LEVEL_RANK[self.level]
            and warning.as_of >= self.as_of
        )

    def escalate(self, warning: _Warning, *, due: _dt.datetime | None) -> None:
        self.history.append(
            {
                "action": "escalated",
                "from_state": self.status,
                "to_state": self.status,
                "details": {
                    "from_level": self.level,
                    "to_level": warning.level,
                    "from_score": self.score,
                    "to_score": warning.score,
                    "from_as_of": self.as_of,
                    "to_as_of": warning.as_of,
                    "model_name": warning.model_name,
                    "model_version": warning.model_version,
                    "due_at": due,
                },
            }
        )
        self.values.update(dataclasses.asdict(warning), due_at=due)
        self.level, self.as_of, self.score = warning.level, warning.as_of, warning.score

    def history_rows(self, case_id: int, *, first_seq: int) -> list[dict[str, Any]]:
        return [
            {**h, "case_id": case_id, "seq": seq, "details": jsonable(h["details"])}
            for seq, h in enumerate(self.history, start=first_seq)
        ]


def open_cases(
    engine: Engine,
    scores: pd.DataFrame,
    *,
    min_level: str,
    now: _dt.datetime,
    by: str,
    routing: Routing,
    deadlines: Deadlines,
) -> OpenResult:
    """Open and escalate cases for ``scores`` (checked arguments; see
    :meth:`~anxin.cases.CaseStore.open_from_scores`)."""
    frame = validate_scores(scores)
    rank = frame["risk_level"].map(LEVEL_RANK)
    flagged = frame[rank >= LEVEL_RANK[min_level]]
    # Oldest month first (escalations apply in order); within a month by
    # rank, so case ids follow the risk ranking.
    flagged = flagged.sort_values(["as_of", "rank", "enterprise_id"], kind="stable")
    check_text(flagged)
    if "reasons" in flagged.columns:
        reasons = [reasons_cell(v, i) for i, v in flagged["reasons"].items()]
    else:
        reasons = [[] for _ in range(len(flagged))]
    try:
        with engine.begin() as conn:
            stored, last_closed = _known_cases(conn, list(flagged["enterprise_id"]))
            drafts, unchanged = _plan(
                flagged, reasons, stored, last_closed, routing, deadlines, now, by
            )
            opened_ids, escalated_ids = _write(conn, drafts, now, by)
    except sa.exc.IntegrityError as exc:
        raise CaseConflictError(
            "Another process opened cases for the same enterprises at the same "
            "time; nothing was written. Run again (opening is idempotent).",
        ) from exc
    result = OpenResult(
        opened=len(opened_ids),
        escalated=sum(d.raises for d in drafts.values()),
        unchanged=unchanged,
        below_min_level=len(frame) - len(flagged),
        opened_ids=tuple(opened_ids),
        escalated_ids=tuple(sorted(escalated_ids)),
    )
    logger.info(
        "cases: %d opened, %d escalations, %d unchanged, %d below min_level",
        result.opened,
        result.escalated,
        result.unchanged,
        result.below_min_level,
    )
    return result


def _known_cases(
    conn: Connection, enterprise_ids: list[str]
) -> tuple[dict[str, Row[Any]], dict[str, str]]:
    """Enterprise -> its open case; enterprise -> latest ``as_of`` closed."""
    stored: dict[str, Row[Any]] = {}
    last_closed: dict[str, str] = {}
    for chunk in chunks(list(dict.fromkeys(enterprise_ids)), 500):
        for row in conn.execute(
            sa.select(CASES).where(
                CASES.c.enterprise_id.in_(chunk), CASES.c.status != "closed"
            )
        ):
            stored[row.enterprise_id] = row
        last_closed.update(
            (row[0], row[1])
            for row in conn.execute(
                sa.select(CASES.c.enterprise_id, sa.func.max(CASES.c.as_of))
                .where(CASES.c.enterprise_id.in_(chunk), CASES.c.status == "closed")
                .group_by(CASES.c.enterprise_id)
            )
        )
    return stored, last_closed


def _plan(
    flagged: pd.DataFrame,
    all_reasons: list[list[Any]],
    stored: dict[str, Row[Any]],
    last_closed: dict[str, str],
    routing: Routing,
    deadlines: Deadlines,
    now: _dt.datetime,
    by: str,
) -> tuple[dict[str, _Draft], int]:
    """What each flagged row does: the drafts by enterprise, and how many
    rows changed nothing."""
    drafts: dict[str, _Draft] = {}
    unchanged = 0
    columns = list(flagged.columns)
    rows = flagged.itertuples(index=False, name=None)
    for values, reasons in zip(rows, all_reasons, strict=True):
        rec = dict(zip(columns, values, strict=True))
        eid = str(rec["enterprise_id"])
        warning = _Warning(
            as_of=str(rec["as_of"]),
            level=str(rec["risk_level"]),
            score=float(rec["risk_score"]),
            reasons=reasons,
            model_name=str(rec["model_name"]),
            model_version=str(rec["model_version"]),
        )
        draft = drafts.get(eid)
        if draft is None and eid in stored:
            draft = drafts[eid] = _Draft.of_stored(stored[eid])
        if draft is None:
            if last_closed.get(eid, "") >= warning.as_of:
                unchanged += 1  # this warning was handled by a closed case
                continue
            drafts[eid] = _Draft.opened(
                eid,
                warning,
                None if pd.isna(rec["industry"]) else str(rec["industry"]),
                None if pd.isna(rec["region"]) else str(rec["region"]),
                routing,
                due=due_at(deadlines, warning.level, "dispatch", now),
                now=now,
                by=by,
            )
        elif draft.raised_by(warning):
            stage = STAGE_OF_STATE[draft.status]
            start = draft.stage_started_at
            draft.escalate(warning, due=due_at(deadlines, warning.level, stage, start))
        else:
            unchanged += 1
    return drafts, unchanged


def _write(
    conn: Connection, drafts: dict[str, _Draft], now: _dt.datetime, by: str
) -> tuple[list[int], list[int]]:
    """Insert the new cases, update the escalated ones, append their history.

    Returns the ids opened and the ids escalated.
    """
    history: list[dict[str, Any]] = []
    new = [d for d in drafts.values() if d.row is None]
    opened_ids: list[int] = []
    if new:
        opened_ids = [
            int(case_id)
            for case_id in conn.execute(
                sa.insert(CASES).returning(CASES.c.id, sort_by_parameter_order=True),
                [{**d.values, "version": len(d.history)} for d in new],
            ).scalars()
        ]
        for case_id, draft in zip(opened_ids, new, strict=True):
            history += draft.history_rows(case_id, first_seq=1)
    escalated_ids = [i for i, d in zip(opened_ids, new, strict=True) if d.raises]
    for draft in drafts.values():
        if draft.row is None or not draft.raises:
            continue
        # One version and one history row per escalation.
        update_row(conn, draft.row, draft.values, by=by, now=now, bump=draft.raises)
        escalated_ids.append(draft.row.id)
        history += draft.history_rows(draft.row.id, first_seq=draft.row.version + 1)
    append_rows(conn, [{**h, "at": now, "actor": by, "note": ""} for h in history])
    return opened_ids, escalated_ids
