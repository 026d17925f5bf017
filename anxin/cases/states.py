"""The state machine of a case, its deadline stages and working days.

A case moves through a fixed chain of states, each move naming who did it::

    new -> dispatched -> verifying -> false_alarm -> closed
                                   \\-> confirmed -> handling -> resolved -> closed

Each state runs the clock of a *stage* (dispatch, verify, handle, close),
whose deadline depends on the case's level (:data:`DEFAULT_DEADLINES`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import numbers
from collections.abc import Mapping

from anxin._params import check_param
from anxin.cases.limits import MAX_DEADLINE_HOURS, MAX_DEADLINE_WORKING_DAYS
from anxin.exceptions import IllegalTransitionError
from anxin.schemas import LEVELS

__all__ = [
    "CASE_LEVELS",
    "DEFAULT_DEADLINES",
    "LEVEL_RANK",
    "OUTCOMES",
    "STAGES",
    "STAGE_OF_STATE",
    "STATES",
    "TRANSITIONS",
    "Deadline",
    "Deadlines",
    "add_working_days",
    "check_allowed",
    "check_state",
    "due_at",
    "resolve_deadlines",
]

#: State -> the states it may move to. ``closed`` is final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("dispatched",),
    "dispatched": ("verifying",),
    "verifying": ("confirmed", "false_alarm"),
    "false_alarm": ("closed",),
    "confirmed": ("handling",),
    "handling": ("resolved",),
    "resolved": ("closed",),
    "closed": (),
}
#: Every state, in chain order.
STATES: tuple[str, ...] = tuple(TRANSITIONS)

#: Deadline stages: what has to happen next, and by when.
STAGES: tuple[str, ...] = ("dispatch", "verify", "handle", "close")

#: State -> the stage whose deadline runs while a case is in it. A stage's
#: clock starts when a case enters its first state (``dispatched`` starts the
#: ``verify`` clock, which keeps running through ``verifying``).
STAGE_OF_STATE: dict[str, str | None] = {
    "new": "dispatch",
    "dispatched": "verify",
    "verifying": "verify",
    "confirmed": "handle",
    "handling": "handle",
    "resolved": "close",
    "false_alarm": "close",
    "closed": None,
}

#: Levels that can open a case, highest first.
CASE_LEVELS: tuple[str, ...] = tuple(lv for lv in LEVELS if lv != "none")
#: Level -> rank (higher is more severe; ``none`` is 0).
LEVEL_RANK: dict[str, int] = {
    level: len(LEVELS) - 1 - i for i, level in enumerate(LEVELS)
}

#: Outcomes of verification, recorded when a case enters these states.
OUTCOMES: tuple[str, ...] = ("confirmed", "false_alarm")


def check_state(to: str, case_id: int) -> None:
    """Refuse a target that is not a state, listing the states.

    Examples
    --------
    >>> check_state("done", 12)
    Traceback (most recent call last):
    ...
    anxin.exceptions.IllegalTransitionError: Unknown state 'done' for case 12. States are: new, dispatched, verifying, false_alarm, confirmed, handling, resolved, closed.
    """  # noqa: E501
    if to not in TRANSITIONS:
        raise IllegalTransitionError(
            f"Unknown state {to!r} for case {case_id}. States are: "
            f"{', '.join(STATES)}.",
            case_id=case_id,
            requested=to,
        )


def check_allowed(case_id: int, current: str, to: str) -> None:
    """Refuse a move the chain does not allow, naming the allowed next states.

    Examples
    --------
    >>> check_allowed(12, "dispatched", "verifying")
    >>> check_allowed(12, "dispatched", "closed")
    Traceback (most recent call last):
    ...
    anxin.exceptions.IllegalTransitionError: case 12 is 'dispatched'; it cannot move to 'closed'. Allowed next: 'verifying'.
    """  # noqa: E501
    allowed = TRANSITIONS[current]
    if to in allowed:
        return
    hint = (
        f"Allowed next: {', '.join(repr(s) for s in allowed)}."
        if allowed
        else "It is closed; no further moves are allowed."
    )
    raise IllegalTransitionError(
        f"case {case_id} is {current!r}; it cannot move to {to!r}. " + hint,
        case_id=case_id,
        current=current,
        requested=to,
        allowed=allowed,
    )


# --------------------------------------------------------------------------
# Deadlines.
# --------------------------------------------------------------------------


def add_working_days(start: _dt.datetime, days: int) -> _dt.datetime:
    """Move ``start`` forward by ``days`` working days, skipping weekends.

    The time of day is kept. Only Saturdays and Sundays are skipped; public
    holidays (and the make-up working weekends around them) are not modelled.

    Examples
    --------
    >>> import datetime as dt
    >>> add_working_days(dt.datetime(2026, 6, 5, 15, 0), 1)  # a Friday
    datetime.datetime(2026, 6, 8, 15, 0)
    >>> add_working_days(dt.datetime(2026, 6, 6, 9, 30), 1)  # a Saturday
    datetime.datetime(2026, 6, 8, 9, 30)
    """
    day = start
    remaining = int(days)
    while remaining > 0:
        day += _dt.timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return day


@dataclasses.dataclass(frozen=True)
class Deadline:
    """Time allowed for a stage: working days, then wall-clock hours.

    Examples
    --------
    >>> import datetime as dt
    >>> Deadline(hours=4).due(dt.datetime(2026, 6, 5, 22, 0))
    datetime.datetime(2026, 6, 6, 2, 0)
    >>> str(Deadline(working_days=5))
    '5 working days'
    """

    #: wall-clock hours (nights and weekends count)
    hours: float = 0
    #: working days (Monday-Friday)
    working_days: int = 0

    def __post_init__(self) -> None:
        hours, days = self.hours, self.working_days
        check_param(
            "hours",
            hours,
            "Deadline",
            f"a number in [0, {MAX_DEADLINE_HOURS}]",
            isinstance(hours, numbers.Real)
            and not isinstance(hours, bool)
            and math.isfinite(float(hours))
            and 0 <= float(hours) <= MAX_DEADLINE_HOURS,
        )
        check_param(
            "working_days",
            days,
            "Deadline",
            f"an int in [0, {MAX_DEADLINE_WORKING_DAYS}]",
            isinstance(days, numbers.Integral)
            and not isinstance(days, bool)
            and 0 <= int(days) <= MAX_DEADLINE_WORKING_DAYS,
        )

    def due(self, start: _dt.datetime) -> _dt.datetime:
        """When a stage that started at ``start`` is due."""
        return add_working_days(start, self.working_days) + _dt.timedelta(
            hours=self.hours
        )

    def __str__(self) -> str:
        parts = []
        if self.working_days:
            s = "" if self.working_days == 1 else "s"
            parts.append(f"{self.working_days} working day{s}")
        if self.hours or not parts:
            s = "" if self.hours == 1 else "s"
            parts.append(f"{self.hours:g} hour{s}")
        return " + ".join(parts)


#: Level -> stage -> time allowed. Override some or all of them with
#: ``CaseStore(deadlines={"red": {"dispatch": Deadline(hours=2)}})``.
DEFAULT_DEADLINES: dict[str, dict[str, Deadline]] = {
    "red": {
        "dispatch": Deadline(hours=4),
        "verify": Deadline(working_days=1),
        "handle": Deadline(working_days=5),
        "close": Deadline(working_days=2),
    },
    "orange": {
        "dispatch": Deadline(working_days=1),
        "verify": Deadline(working_days=3),
        "handle": Deadline(working_days=10),
        "close": Deadline(working_days=3),
    },
    "yellow": {
        "dispatch": Deadline(working_days=2),
        "verify": Deadline(working_days=5),
        "handle": Deadline(working_days=15),
        "close": Deadline(working_days=5),
    },
}

#: ``{level: {stage: Deadline}}``, every level and stage filled in.
Deadlines = dict[str, dict[str, Deadline]]


def resolve_deadlines(
    overrides: Mapping[str, Mapping[str, Deadline]] | None,
) -> Deadlines:
    """:data:`DEFAULT_DEADLINES` with ``overrides`` applied entry by entry.

    Examples
    --------
    >>> fast = resolve_deadlines({"red": {"dispatch": Deadline(hours=1)}})
    >>> str(fast["red"]["dispatch"]), str(fast["red"]["verify"])
    ('1 hour', '1 working day')
    """
    merged = {level: dict(stages) for level, stages in DEFAULT_DEADLINES.items()}
    for level, stages in (overrides or {}).items():
        check_param(
            "deadlines",
            level,
            "CaseStore",
            f"keyed by levels {list(CASE_LEVELS)}",
            level in merged,
        )
        for stage, deadline in stages.items():
            check_param(
                "deadlines",
                stage,
                "CaseStore",
                f"keyed by stages {list(STAGES)}",
                stage in STAGES,
            )
            check_param(
                "deadlines",
                deadline,
                "CaseStore",
                "Deadline values",
                isinstance(deadline, Deadline),
            )
            merged[level][stage] = deadline
    return merged


def due_at(
    deadlines: Deadlines, level: str, stage: str | None, start: _dt.datetime
) -> _dt.datetime | None:
    """When ``stage``, started at ``start``, is due for a case at ``level``.

    ``None`` when no stage runs (a closed case).
    """
    if stage is None:
        return None
    return deadlines[level][stage].due(start)
