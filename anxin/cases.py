"""The handling chain (链条式、全流程): from a warning to a verified outcome.

Every warning at or above a level becomes a *case* (一案一档) that moves
through a fixed chain of states, each move naming who did it, when and why::

    new -> dispatched -> verifying -> false_alarm -> closed
                                   \\-> confirmed -> handling -> resolved -> closed

* :meth:`CaseStore.open_from_scores` opens one case per flagged enterprise,
  routes it to the responsible unit (:class:`Routing`) and escalates an open
  case when a later score raises its level, instead of opening a second one.
* :meth:`CaseStore.move` applies one transition; illegal moves, unknown states
  and missing actors are refused with the allowed next states.
* Each stage has a deadline by level (:data:`DEFAULT_DEADLINES`);
  :meth:`CaseStore.overdue` lists and escalates the cases past theirs.
* Writers never overwrite each other: every update checks the ``version`` it
  read (optimistic locking) and a stale one raises
  :class:`~anxin.exceptions.CaseConflictError`.
* ``case_history`` is append-only: every change is a row, nothing is updated
  or deleted.
* :meth:`CaseStore.outcomes` and :func:`merge_outcomes` close the loop:
  confirmed arrears become new ``events`` (labels) for the next training run;
  :meth:`CaseStore.stats` and :func:`log_field_performance` report the live
  hit rate of the warnings.

The store is any SQLAlchemy database: an SQLite file by default
(``ANXIN_CASES_URL``), PostgreSQL in production. Its schema is created and
upgraded by the named migrations in ``anxin._case_migrations``.

Times are naive local datetimes (the bureau's wall clock); an aware datetime is
converted to local time. ``docs/workflow.md`` describes the chain for the
people who work it.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as _dt
import json
import logging
import math
import numbers
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from anxin._case_migrations import (
    CASES,
    HISTORY,
    MIGRATIONS,
    applied_migrations,
    make_engine,
    upgrade,
)
from anxin._params import check_param
from anxin.config import get_config
from anxin.exceptions import (
    CaseConflictError,
    ContractError,
    IllegalTransitionError,
    UnknownCaseError,
)
from anxin.schemas import LEVELS, Scores

if TYPE_CHECKING:
    from anxin.tables import Tables

__all__ = [
    "DEFAULT_DEADLINES",
    "DEFAULT_ROUTING_RULES",
    "HOUSING_UNIT",
    "LABOUR_INSPECTION_UNIT",
    "STAGES",
    "STAGE_OF_STATE",
    "STATES",
    "TRANSITIONS",
    "Case",
    "CaseStore",
    "Deadline",
    "FieldStats",
    "OpenResult",
    "Routing",
    "RoutingRule",
    "add_working_days",
    "log_field_performance",
    "merge_outcomes",
    "read_history",
]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------
# The state machine.
# --------------------------------------------------------------------------

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
_RANK = {level: len(LEVELS) - 1 - i for i, level in enumerate(LEVELS)}

#: Outcomes of verification, recorded when a case enters these states.
OUTCOMES: tuple[str, ...] = ("confirmed", "false_alarm")


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


def _resolve_deadlines(
    overrides: Mapping[str, Mapping[str, Deadline]] | None,
) -> dict[str, dict[str, Deadline]]:
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


# --------------------------------------------------------------------------
# Routing.
# --------------------------------------------------------------------------

#: 人社局劳动保障监察大队 -- labour inspection, responsible for every case.
LABOUR_INSPECTION_UNIT = "人社劳动监察大队"
#: 住房和城乡建设局 -- joins construction cases (工程建设领域).
HOUSING_UNIT = "住建局"


@dataclasses.dataclass(frozen=True)
class RoutingRule:
    """Send matching cases to ``unit``.

    Attributes
    ----------
    unit : str
        Responsible unit(s); joint units are joined with ``+``
        (``"住建局+人社劳动监察大队"``).
    industries : tuple of str
        Industry sections (GB/T 4754 letters) the rule applies to; empty for
        any.
    regions : tuple of str
        Region-code prefixes the rule applies to (``"3305"`` for a city,
        ``"330502"`` for a district); empty for any.
    """

    unit: str
    industries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def matches(self, industry: str | None, region: str | None) -> bool:
        """Whether a case with this industry and region follows the rule."""
        if self.industries and industry not in self.industries:
            return False
        return not self.regions or (
            region is not None and any(region.startswith(p) for p in self.regions)
        )


#: Construction (E) goes to 住建 jointly with labour inspection.
DEFAULT_ROUTING_RULES: tuple[RoutingRule, ...] = (
    RoutingRule(unit=f"{HOUSING_UNIT}+{LABOUR_INSPECTION_UNIT}", industries=("E",)),
)


@dataclasses.dataclass(frozen=True)
class Routing:
    """Who handles a case: the first matching rule's unit, and the grid.

    Attributes
    ----------
    rules : tuple of RoutingRule
        Tried in order; the first that matches assigns the unit.
    default_unit : str
        Unit when no rule matches.
    grids : mapping of str to str
        Region code -> township / grid (乡镇街道 / 网格) name. A region not in
        the mapping is its own grid (the region code).

    Examples
    --------
    >>> Routing().route("E", "330502")
    ('住建局+人社劳动监察大队', '330502')
    >>> Routing(grids={"330502": "吴兴区网格一"}).route("C", "330502")
    ('人社劳动监察大队', '吴兴区网格一')
    """

    rules: tuple[RoutingRule, ...] = DEFAULT_ROUTING_RULES
    default_unit: str = LABOUR_INSPECTION_UNIT
    grids: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def route(self, industry: str | None, region: str | None) -> tuple[str, str | None]:
        """Return ``(unit, grid)`` for a case."""
        unit = next(
            (r.unit for r in self.rules if r.matches(industry, region)),
            self.default_unit,
        )
        grid = None if region is None else self.grids.get(region, region)
        return unit, grid


# --------------------------------------------------------------------------
# Results.
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    """One case as read from the store (a snapshot; re-read after changes).

    ``version`` is the optimistic lock: pass it to :meth:`CaseStore.move` as
    ``expected_version`` to refuse the move if someone changed the case since;
    it counts the changes (``version == len(history)``). ``escalations``
    counts overdue escalations (督办); ``overdue_stage`` is the last stage
    escalated for. ``due_at`` is the deadline of the current stage
    (``stage``). The ``verified_*`` fields keep the warning as it was when
    verified, even if a later score raises the level of the open case.
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
    def _from_row(cls, row: Row[Any]) -> Case:
        data = dict(row._mapping)
        data["reasons"] = tuple(_load_json(data["reasons"]) or ())
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class OpenResult:
    """What :meth:`CaseStore.open_from_scores` did.

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
class FieldStats:
    """How the warnings fare in the field (see :meth:`CaseStore.stats`).

    Attributes
    ----------
    at : datetime
        When the figures were taken (``overdue`` is counted at this time).
    n_cases, n_open, n_overdue : int
        All cases; not closed; open and past their stage's deadline.
    n_verified, n_confirmed, n_false_alarms : int
        Cases verified on site; of them, confirmed arrears and false alarms.
    hit_rate : float or None
        ``n_confirmed / n_verified`` (None before any verification).
    median_hours_to_close : float or None
        Median hours from opening to closing, over closed cases.
    by_level : DataFrame
        Index ``level`` (red, orange, yellow): ``verified``, ``confirmed``,
        ``false_alarm``, ``hit_rate`` (NaN when none verified). The level is
        the one the case had when verified.
    by_model : DataFrame
        Columns ``model_name``, ``model_version``, ``verified``,
        ``confirmed``, ``false_alarm``, ``hit_rate``.
    by_status : Series
        Count of cases in each state, every state listed.
    """

    at: _dt.datetime
    n_cases: int
    n_open: int
    n_overdue: int
    n_verified: int
    n_confirmed: int
    n_false_alarms: int
    hit_rate: float | None
    median_hours_to_close: float | None
    by_level: pd.DataFrame
    by_model: pd.DataFrame
    by_status: pd.Series

    def metrics(self) -> dict[str, float]:
        """Flat ``field_*`` metrics, as :func:`log_field_performance` logs them.

        Hit rates are left out where nothing was verified.
        """
        out: dict[str, float] = {
            "field_cases": self.n_cases,
            "field_open": self.n_open,
            "field_overdue": self.n_overdue,
            "field_verified": self.n_verified,
            "field_confirmed": self.n_confirmed,
            "field_false_alarms": self.n_false_alarms,
        }
        if self.hit_rate is not None:
            out["field_hit_rate"] = self.hit_rate
        if self.median_hours_to_close is not None:
            out["field_median_hours_to_close"] = self.median_hours_to_close
        for level, rec in self.by_level.iterrows():
            if rec["verified"] > 0:
                out[f"field_hit_rate_{level}"] = float(rec["hit_rate"])
            out[f"field_verified_{level}"] = float(rec["verified"])
        for model in self.by_model.to_dict("records"):
            name = f"field_hit_rate/{model['model_name']}/v{model['model_version']}"
            out[_metric_key(name)] = model["hit_rate"]
        for status, count in self.by_status.to_dict().items():
            out[f"field_status_{status}"] = count
        return {k: float(v) for k, v in out.items()}


# --------------------------------------------------------------------------
# Small helpers.
# --------------------------------------------------------------------------


def _as_datetime(now: _dt.datetime | str | None) -> _dt.datetime:
    if now is None:
        return _dt.datetime.now().replace(microsecond=0)
    if isinstance(now, str):
        text = now
        try:
            now = _dt.datetime.fromisoformat(text)
        except ValueError:
            now = None
        check_param(
            "now",
            text,
            "the case store",
            "an ISO datetime such as '2026-07-01 09:00'",
            now is not None,
        )
    if isinstance(now, pd.Timestamp):
        now = now.to_pydatetime()
    check_param(
        "now", now, "the case store", "a datetime", isinstance(now, _dt.datetime)
    )
    assert isinstance(now, _dt.datetime)
    if now.tzinfo is not None:
        now = now.astimezone().replace(tzinfo=None)
    return now


def _check_actor(actor: Any, owner: str, name: str = "by") -> str:
    ok = isinstance(actor, str) and actor.strip() != ""
    check_param(
        name,
        actor,
        owner,
        "the non-empty name of the person or service acting (留痕: every "
        "change names its actor), e.g. by='张三'",
        ok,
    )
    return str(actor).strip()


def _jsonable(value: Any) -> Any:
    """Plain JSON types from numpy / pandas values (NaN -> None)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, _dt.date | _dt.datetime | pd.Timestamp):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _reasons(value: Any, row: object) -> list[Any]:
    """Normalise a ``reasons`` cell: a list (or array) of dicts, or empty."""
    if value is None:
        return []
    if isinstance(value, str):
        if not value.strip():
            return []
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ContractError(
                f"scores: column 'reasons' at index {row} is text but not JSON "
                f"({exc}). Write reasons as a JSON list of objects with keys "
                "group, contribution, feature, value, text_zh, text_en, or "
                "leave the cell empty.",
                table="scores",
                column="reasons",
            ) from exc
    if isinstance(value, Mapping):
        return [_jsonable(value)]
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if pd.isna(value):
        return []
    return [_jsonable(value)]


def _load_json(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value)
    return value


def _metric_key(key: str) -> str:
    return re.sub(r"[^0-9A-Za-z_\-. /]", "_", key)


def _scores_error(exc: pa_errors.SchemaErrors, scores: pd.DataFrame) -> ContractError:
    cases = exc.failure_cases
    problems = []
    first_column: str | None = None
    key = Scores.to_schema().unique or []
    for (column, check), group in cases.groupby(
        ["column", "check"], sort=False, dropna=False
    ):
        check_name = str(check)
        if check_name == "column_in_dataframe":
            for missing in group["failure_case"]:
                first_column = first_column or str(missing)
                problems.append(f"column {str(missing)!r} is missing")
            continue
        if check_name == "multiple_fields_uniqueness":
            if column == key[0]:  # reported once per key column; say it once
                rows = group["index"].nunique()
                problems.append(
                    f"columns {', '.join(repr(k) for k in key)} repeat in {rows} "
                    "rows; keep one row per enterprise and month"
                )
                first_column = first_column or str(column)
            continue
        first_column = first_column or str(column)
        examples = [repr(v) for v in group["failure_case"].head(3)]
        problems.append(
            f"column {str(column)!r} fails {check_name} in {len(group)} row(s) "
            f"(e.g. {', '.join(examples)})"
        )
    return ContractError(
        "scores: " + "; ".join(problems) + f". Columns found: {list(scores.columns)}. "
        "Fix these columns to match the scores contract (anxin.schemas.Scores, "
        "docs/data-contract.md) or re-create the file with `anxin score`; "
        "no case was opened or changed.",
        table="scores",
        column=first_column,
    )


def _validate_scores(scores: Any) -> pd.DataFrame:
    if not isinstance(scores, pd.DataFrame):
        raise ContractError(
            f"scores must be a pandas DataFrame; got {type(scores).__name__}. "
            "Read the scores file with pandas.read_parquet first.",
            table="scores",
        )
    try:
        return Scores.validate(scores, lazy=True)
    except pa_errors.SchemaErrors as exc:
        raise _scores_error(exc, scores) from exc
    except pa_errors.SchemaError as exc:
        raise ContractError(
            f"scores: {exc}. Fix the frame to match anxin.schemas.Scores; no case "
            "was opened or changed.",
            table="scores",
        ) from exc


def _conflict(row: Row[Any], read_version: int) -> CaseConflictError:
    at = row.updated_at.isoformat(sep=" ", timespec="seconds")
    return CaseConflictError(
        f"case {row.id} was changed by {row.updated_by} at {at} since you read it "
        f"(version {read_version}, now {row.version}); reload and retry.",
        case_id=row.id,
        expected_version=read_version,
        current_version=row.version,
        changed_by=row.updated_by,
    )


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
    """A case being opened or escalated within one ``open_from_scores`` call.

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
        unit: str,
        grid: str | None,
        *,
        due: _dt.datetime | None,
        now: _dt.datetime,
        actor: str,
    ) -> _Draft:
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
            "updated_by": actor,
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
        return _RANK[warning.level] > _RANK[self.level] and warning.as_of >= self.as_of

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
            {**h, "case_id": case_id, "seq": seq, "details": _jsonable(h["details"])}
            for seq, h in enumerate(self.history, start=first_seq)
        ]


# --------------------------------------------------------------------------
# The store.
# --------------------------------------------------------------------------

#: Columns of :meth:`CaseStore.list`.
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
#: Columns of :meth:`CaseStore.history`.
HISTORY_COLUMNS: tuple[str, ...] = tuple(c.name for c in HISTORY.columns)
#: Columns of :meth:`CaseStore.outcomes`.
OUTCOME_COLUMNS: tuple[str, ...] = (
    "case_id",
    "enterprise_id",
    "as_of",
    "level",
    "model_name",
    "model_version",
    "outcome",
    "verified_at",
    "workers_affected",
    "amount_owed",
    "period",
)


class CaseStore:
    """The case database: open, move, escalate and read cases.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL. Default: ``get_config().cases_url``, an SQLite file
        under ``ANXIN_HOME`` (its directory is created). ``postgresql://...``
        uses psycopg 3. ``sqlite://`` is an in-memory store (for tests).
    routing : Routing, optional
        Who handles new cases; default :class:`Routing` ().
    deadlines : mapping, optional
        ``{level: {stage: Deadline}}`` overriding :data:`DEFAULT_DEADLINES`
        entry by entry.

    Attributes
    ----------
    migrations_applied : list of str
        Migrations this instance applied when it opened the database.

    Examples
    --------
    >>> import pandas as pd
    >>> store = CaseStore("sqlite://")
    >>> scores = pd.DataFrame({
    ...     "enterprise_id": ["91330502MA2B3C4D5E"], "as_of": ["2026-06"],
    ...     "risk_score": [0.91], "risk_level": ["red"], "rank": [1],
    ...     "model_name": ["anxin-arrears"], "model_version": ["3"],
    ...     "industry": ["E"], "region": ["330502"]})
    >>> result = store.open_from_scores(scores, now="2026-07-01 09:00")
    >>> result.opened, result.case_ids
    (1, (1,))
    >>> case = store.get(1)
    >>> case.status, case.unit, str(case.due_at)
    ('new', '住建局+人社劳动监察大队', '2026-07-01 13:00:00')
    >>> store.move(1, "dispatched", by="派单员王", now="2026-07-01 10:00").status
    'dispatched'
    >>> store.move(1, "closed", by="派单员王")
    Traceback (most recent call last):
    ...
    anxin.exceptions.IllegalTransitionError: case 1 is 'dispatched'; it cannot move to 'closed'. Allowed next: 'verifying'.
    >>> store.close()
    """  # noqa: E501

    def __init__(
        self,
        url: str | None = None,
        *,
        routing: Routing | None = None,
        deadlines: Mapping[str, Mapping[str, Deadline]] | None = None,
    ) -> None:
        self.url = url or get_config().cases_url
        check_param(
            "routing",
            routing,
            "CaseStore",
            "a Routing or None",
            routing is None or isinstance(routing, Routing),
        )
        self.routing = routing or Routing()
        self.deadlines = _resolve_deadlines(deadlines)
        self.engine = make_engine(self.url)
        self.migrations_applied = upgrade(self.engine)

    def __repr__(self) -> str:
        shown = sa.engine.make_url(self.url).render_as_string(hide_password=True)
        return f"CaseStore({shown!r})"

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    @property
    def schema_version(self) -> str | None:
        """Name of the last migration applied to the database."""
        applied = applied_migrations(self.engine)
        return applied[-1] if applied else None

    @property
    def latest_schema_version(self) -> str:
        """Name of the last migration this code knows."""
        return MIGRATIONS[-1].name

    # ---------------------------------------------------------------- reading

    def _row(self, conn: Connection, case_id: int) -> Row[Any]:
        check_param(
            "case_id",
            case_id,
            "the case store",
            "an int",
            isinstance(case_id, numbers.Integral) and not isinstance(case_id, bool),
        )
        row = conn.execute(sa.select(CASES).where(CASES.c.id == int(case_id))).first()
        if row is None:
            raise UnknownCaseError(
                f"No case {case_id} in {self!r}. List cases with `anxin cases "
                "list` (or CaseStore.list()) and use one of their ids.",
                case_id=case_id,
            )
        return row

    def get(self, case_id: int) -> Case:
        """Read one case.

        Raises
        ------
        UnknownCaseError
            If there is no case ``case_id``.
        """
        with self.engine.connect() as conn:
            return Case._from_row(self._row(conn, case_id))

    def list(
        self,
        status: str | None = None,
        level: str | None = None,
        unit: str | None = None,
    ) -> pd.DataFrame:
        """Cases as a frame (one row per case, :data:`LIST_COLUMNS`), by id.

        Parameters
        ----------
        status, level : str, optional
            Keep only cases in this state / at this level.
        unit : str, optional
            Keep only cases assigned to this unit, alone or jointly
            (``"住建局"`` matches ``"住建局+人社劳动监察大队"``).
        """
        query = sa.select(*(CASES.c[c] for c in LIST_COLUMNS)).order_by(CASES.c.id)
        if status is not None:
            check_param(
                "status", status, "list", f"one of {list(STATES)}", status in STATES
            )
            query = query.where(CASES.c.status == status)
        if level is not None:
            check_param(
                "level",
                level,
                "list",
                f"one of {list(CASE_LEVELS)}",
                level in CASE_LEVELS,
            )
            query = query.where(CASES.c.level == level)
        if unit is not None:
            query = query.where(
                sa.or_(
                    CASES.c.unit == unit,
                    CASES.c.unit.startswith(unit + "+", autoescape=True),
                    CASES.c.unit.endswith("+" + unit, autoescape=True),
                    CASES.c.unit.contains("+" + unit + "+", autoescape=True),
                )
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame(
            [tuple(r) for r in rows], columns=builtins.list(LIST_COLUMNS)
        )
        return _typed(frame)

    def history(self, case_id: int | None = None) -> pd.DataFrame:
        """The audit trail: one row per change, oldest first.

        Parameters
        ----------
        case_id : int, optional
            One case's history; by default every case's.

        Returns
        -------
        DataFrame
            ``case_id, seq, at, actor, action, from_state, to_state, note,
            details`` (``details`` holds dicts). ``action`` is ``opened``,
            ``escalated`` (a later score raised the level), ``transition`` or
            ``overdue_escalated``. ``seq`` runs 1, 2, ... per case and equals
            the case's ``version`` after that change.
        """
        query = sa.select(HISTORY).order_by(HISTORY.c.case_id, HISTORY.c.seq)
        with self.engine.connect() as conn:
            if case_id is not None:
                self._row(conn, case_id)
                query = query.where(HISTORY.c.case_id == int(case_id))
            rows = conn.execute(query).all()
        return _history_frame(
            [{**r._mapping, "details": _load_json(r.details) or {}} for r in rows]
        )

    def export_history(self, path: str | Path, case_id: int | None = None) -> Path:
        """Write the audit trail to ``path`` (``.csv`` or ``.json``).

        CSV holds ``details`` as JSON text; JSON is a list of records. Both are
        UTF-8 and read back by :func:`read_history`.
        """
        target = Path(path)
        suffix = target.suffix.lower()
        check_param(
            "path",
            str(path),
            "export_history",
            "a file name ending in .csv or .json",
            suffix in (".csv", ".json"),
        )
        frame = self.history(case_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        out = frame.assign(
            at=frame["at"].map(lambda t: t.isoformat(sep=" ")),
            details=[json.dumps(d, ensure_ascii=False) for d in frame["details"]],
        )
        if suffix == ".csv":
            out.to_csv(tmp, index=False, encoding="utf-8")
        else:
            records = out.assign(details=frame["details"]).to_dict(orient="records")
            tmp.write_text(
                json.dumps(_jsonable(records), ensure_ascii=False, indent=1),
                encoding="utf-8",
            )
        tmp.replace(target)
        logger.info("history: %d rows -> %s", len(frame), target)
        return target

    # ---------------------------------------------------------------- writing

    def _due(
        self, level: str, stage: str | None, start: _dt.datetime
    ) -> _dt.datetime | None:
        if stage is None:
            return None
        return self.deadlines[level][stage].due(start)

    @staticmethod
    def _append(
        conn: Connection,
        case_id: int,
        seq: int,
        *,
        at: _dt.datetime,
        actor: str,
        action: str,
        from_state: str | None,
        to_state: str | None,
        note: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        conn.execute(
            sa.insert(HISTORY).values(
                case_id=case_id,
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                from_state=from_state,
                to_state=to_state,
                note=note,
                details=_jsonable(details or {}),
            )
        )

    @staticmethod
    def _update(
        conn: Connection,
        row: Row[Any],
        values: dict[str, Any],
        *,
        actor: str,
        now: _dt.datetime,
        bump: int = 1,
    ) -> int:
        """Version-checked update; returns the new version or raises.

        ``bump`` is the number of history rows the change appends: the
        version counts changes, so ``version == len(history)`` always.
        """
        new_version = row.version + bump
        result = conn.execute(
            sa.update(CASES)
            .where(CASES.c.id == row.id, CASES.c.version == row.version)
            .values(**values, version=new_version, updated_at=now, updated_by=actor)
        )
        if result.rowcount != 1:
            current = conn.execute(sa.select(CASES).where(CASES.c.id == row.id)).one()
            raise _conflict(current, row.version)
        return new_version

    def open_from_scores(
        self,
        scores: pd.DataFrame,
        *,
        min_level: str = "yellow",
        now: _dt.datetime | str | None = None,
        actor: str = "system",
        routing: Routing | None = None,
    ) -> OpenResult:
        """Open a case for each enterprise flagged at or above ``min_level``.

        In one transaction, for each flagged row (oldest ``as_of`` first, then
        by ``rank``, so new case ids follow the ranking):

        * no open case for the enterprise: a case is opened (``new``), routed
          by ``routing`` and given its dispatch deadline -- unless a closed
          case already covered this or a later ``as_of`` (that warning was
          handled);
        * an open case at a lower level, from the same or an earlier month:
          the case is escalated -- level, score, as_of, reasons and model are
          updated, the running deadline is recomputed for the new level, and
          an ``escalated`` history row records both levels;
        * otherwise nothing changes.

        Running the same scores again changes nothing.

        Parameters
        ----------
        scores : DataFrame
            Frame satisfying :class:`anxin.schemas.Scores`; an optional
            ``reasons`` column holds lists of reason dicts (or JSON text).
        min_level : {"yellow", "orange", "red"}
            Lowest level that opens a case.
        now : datetime or ISO str, optional
            Time of opening (default: now).
        actor : str
            Recorded as the actor of the ``opened`` / ``escalated`` rows.
        routing : Routing, optional
            Overrides the store's routing for this call.

        Returns
        -------
        OpenResult

        Raises
        ------
        ContractError
            If ``scores`` breaks the contract; nothing is written.
        CaseConflictError
            If another writer changed the same cases at the same moment;
            nothing is written and running again is safe.
        """
        check_param(
            "min_level",
            min_level,
            "open_from_scores",
            f"one of {list(CASE_LEVELS)}",
            min_level in CASE_LEVELS,
        )
        actor = _check_actor(actor, "open_from_scores", "actor")
        check_param(
            "routing",
            routing,
            "open_from_scores",
            "a Routing or None",
            routing is None or isinstance(routing, Routing),
        )
        routing = routing or self.routing
        frame = _validate_scores(scores)
        now = _as_datetime(now)
        rank = frame["risk_level"].map(_RANK)
        flagged = frame[rank >= _RANK[min_level]]
        # Oldest month first (escalations apply in order); within a month by
        # rank, so case ids follow the risk ranking.
        flagged = flagged.sort_values(["as_of", "rank", "enterprise_id"], kind="stable")
        if "reasons" in flagged.columns:
            reasons = [_reasons(v, i) for i, v in flagged["reasons"].items()]
        else:
            reasons = [[] for _ in range(len(flagged))]
        try:
            with self.engine.begin() as conn:
                return self._open(
                    conn,
                    flagged,
                    reasons,
                    routing,
                    now,
                    actor,
                    below=len(frame) - len(flagged),
                )
        except sa.exc.IntegrityError as exc:
            raise CaseConflictError(
                "Another process opened cases for the same enterprises at the same "
                "time; nothing was written. Run again (opening is idempotent).",
            ) from exc

    def _open(
        self,
        conn: Connection,
        flagged: pd.DataFrame,
        all_reasons: builtins.list[builtins.list[Any]],
        routing: Routing,
        now: _dt.datetime,
        actor: str,
        *,
        below: int,
    ) -> OpenResult:
        ids = builtins.list(flagged["enterprise_id"].unique())
        stored: dict[str, Row[Any]] = {}  # enterprise -> its open case
        last_closed: dict[str, str] = {}  # enterprise -> latest as_of closed
        for chunk in _chunks(ids, 500):
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

        drafts: dict[str, _Draft] = {}
        unchanged = 0
        columns = builtins.list(flagged.columns)
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
                industry = None if pd.isna(rec["industry"]) else str(rec["industry"])
                region = None if pd.isna(rec["region"]) else str(rec["region"])
                unit, grid = routing.route(industry, region)
                drafts[eid] = _Draft.opened(
                    eid,
                    warning,
                    industry,
                    region,
                    unit,
                    grid,
                    due=self._due(warning.level, "dispatch", now),
                    now=now,
                    actor=actor,
                )
            elif draft.raised_by(warning):
                stage = STAGE_OF_STATE[draft.status]
                draft.escalate(
                    warning, due=self._due(warning.level, stage, draft.stage_started_at)
                )
            else:
                unchanged += 1

        history: builtins.list[dict[str, Any]] = []
        new = [d for d in drafts.values() if d.row is None]
        opened_ids: builtins.list[int] = []
        if new:
            opened_ids = [
                int(case_id)
                for case_id in conn.execute(
                    sa.insert(CASES).returning(
                        CASES.c.id, sort_by_parameter_order=True
                    ),
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
            self._update(
                conn,
                draft.row,
                draft.values,
                actor=actor,
                now=now,
                bump=draft.raises,
            )
            escalated_ids.append(draft.row.id)
            history += draft.history_rows(draft.row.id, first_seq=draft.row.version + 1)
        if history:
            conn.execute(
                sa.insert(HISTORY),
                [{**h, "at": now, "actor": actor, "note": ""} for h in history],
            )
        result = OpenResult(
            opened=len(opened_ids),
            escalated=sum(d.raises for d in drafts.values()),
            unchanged=unchanged,
            below_min_level=below,
            opened_ids=tuple(opened_ids),
            escalated_ids=tuple(sorted(escalated_ids)),
        )
        logger.info(
            "cases: %d opened, %d escalations, %d unchanged, %d below min_level",
            result.opened,
            result.escalated,
            result.unchanged,
            below,
        )
        return result

    def move(
        self,
        case_id: int,
        to: str,
        *,
        by: str,
        note: str = "",
        now: _dt.datetime | str | None = None,
        expected_version: int | None = None,
        workers_affected: int | None = None,
        amount_owed: float | None = None,
    ) -> Case:
        """Move a case to its next state, recording who, when and why.

        Parameters
        ----------
        case_id : int
            The case.
        to : str
            Target state; must be one of ``TRANSITIONS[current state]``.
        by : str
            Who acts (required, non-empty): a dispatcher, an inspector, a unit.
        note : str
            Why, or what was found; kept in the history.
        now : datetime or ISO str, optional
            Time of the move (default: now).
        expected_version : int, optional
            The ``version`` the caller read; the move is refused if the case
            has changed since. Without it the version read inside this call is
            checked, so concurrent writers conflict instead of overwriting.
        workers_affected, amount_owed : int, float
            Required when moving to ``confirmed`` (workers >= 1, amount > 0 CNY);
            may be passed again when moving to ``resolved`` to correct the
            figures. Refused with any other target.

        Returns
        -------
        Case
            The case after the move.

        Raises
        ------
        UnknownCaseError
            No such case.
        IllegalTransitionError
            ``to`` is not a state, or not allowed from the current one; the
            message lists the allowed next states.
        InvalidParameterError
            Missing actor, or missing / invalid workers and amount.
        CaseConflictError
            The case changed since ``expected_version`` (or since it was read).
        """
        by = _check_actor(by, "move")
        check_param("note", note, "move", "a str", isinstance(note, str))
        if to not in TRANSITIONS:
            raise IllegalTransitionError(
                f"Unknown state {to!r} for case {case_id}. States are: "
                f"{', '.join(STATES)}.",
                case_id=case_id,
                requested=to,
            )
        figures = workers_affected is not None or amount_owed is not None
        if to == "confirmed" or (to == "resolved" and figures):
            check_param(
                "workers_affected",
                workers_affected,
                f"move to {to!r}",
                "an int >= 1 (workers owed wages, 涉及人数)",
                isinstance(workers_affected, numbers.Integral)
                and not isinstance(workers_affected, bool)
                and workers_affected >= 1,
            )
            check_param(
                "amount_owed",
                amount_owed,
                f"move to {to!r}",
                "a number > 0 (wages owed in CNY, 欠薪金额)",
                isinstance(amount_owed, numbers.Real)
                and not isinstance(amount_owed, bool)
                and math.isfinite(float(amount_owed))
                and float(amount_owed) > 0,
            )
        elif figures:
            check_param(
                "workers_affected/amount_owed",
                (workers_affected, amount_owed),
                f"move to {to!r}",
                "given only when moving to 'confirmed' (or corrected at 'resolved')",
                False,
            )
        check_param(
            "expected_version",
            expected_version,
            "move",
            "an int or None",
            expected_version is None
            or (
                isinstance(expected_version, numbers.Integral)
                and not isinstance(expected_version, bool)
            ),
        )
        now = _as_datetime(now)
        with self.engine.begin() as conn:
            row = self._row(conn, case_id)
            if expected_version is not None and row.version != expected_version:
                raise _conflict(row, int(expected_version))
            allowed = TRANSITIONS[row.status]
            if to not in allowed:
                hint = (
                    f"Allowed next: {', '.join(repr(s) for s in allowed)}."
                    if allowed
                    else "It is closed; no further moves are allowed."
                )
                raise IllegalTransitionError(
                    f"case {row.id} is {row.status!r}; it cannot move to {to!r}. "
                    + hint,
                    case_id=row.id,
                    current=row.status,
                    requested=to,
                    allowed=allowed,
                )
            values: dict[str, Any] = {"status": to}
            details: dict[str, Any] = {}
            stage = STAGE_OF_STATE[to]
            if stage != STAGE_OF_STATE[row.status]:
                values["stage_started_at"] = now
                values["due_at"] = self._due(row.level, stage, now)
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
            new_version = self._update(conn, row, values, actor=by, now=now)
            self._append(
                conn,
                row.id,
                new_version,
                at=now,
                actor=by,
                action="transition",
                from_state=row.status,
                to_state=to,
                note=note,
                details=details,
            )
            case = Case._from_row(self._row(conn, row.id))
        logger.info("case %d: %s -> %s by %s", case.id, row.status, to, by)
        return case

    def overdue(
        self, now: _dt.datetime | str | None = None, *, actor: str = "system"
    ) -> pd.DataFrame:
        """List open cases past their stage's deadline, escalating new breaches.

        A case whose current stage is overdue and has not been escalated for
        that stage yet gets an ``overdue_escalated`` history row (督办), its
        ``escalations`` count goes up by one and its version changes. Calling
        again changes nothing until a case breaches its next stage.

        Returns
        -------
        DataFrame
            One row per overdue case, most overdue first: ``id``,
            ``enterprise_id``, ``level``, ``status``, ``stage``, ``unit``,
            ``grid``, ``due_at``, ``hours_overdue``, ``escalations``,
            ``newly_escalated`` (escalated by this call).
        """
        actor = _check_actor(actor, "overdue", "actor")
        now = _as_datetime(now)
        records = []
        with self.engine.begin() as conn:
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
                        version = self._update(
                            conn,
                            row,
                            {
                                "escalations": row.escalations + 1,
                                "overdue_stage": stage,
                            },
                            actor=actor,
                            now=now,
                        )
                    except CaseConflictError:
                        logger.info("case %d changed meanwhile; skipped", row.id)
                        continue
                    self._append(
                        conn,
                        row.id,
                        version,
                        at=now,
                        actor=actor,
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
        columns = [
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
        ]
        frame = pd.DataFrame(records, columns=columns)
        frame = frame.sort_values("hours_overdue", ascending=False, kind="stable")
        if len(frame):
            logger.info(
                "overdue: %d cases, %d newly escalated",
                len(frame),
                int(frame["newly_escalated"].sum()),
            )
        return _typed(frame.reset_index(drop=True))

    # ---------------------------------------------------------- closing loop

    def outcomes(self) -> pd.DataFrame:
        """Verified warnings: confirmed arrears and false alarms.

        Returns
        -------
        DataFrame
            :data:`OUTCOME_COLUMNS`: the warning as verified (``as_of``,
            ``level``, ``model_name``, ``model_version``), ``outcome``
            (``confirmed`` or ``false_alarm``), ``verified_at``,
            ``workers_affected`` and ``amount_owed`` (confirmed only) and
            ``period``, the month verified (``YYYY-MM``).
        """
        query = (
            sa.select(
                CASES.c.id.label("case_id"),
                CASES.c.enterprise_id,
                sa.func.coalesce(CASES.c.verified_as_of, CASES.c.as_of).label("as_of"),
                sa.func.coalesce(CASES.c.verified_level, CASES.c.level).label("level"),
                sa.func.coalesce(CASES.c.verified_model_name, CASES.c.model_name).label(
                    "model_name"
                ),
                sa.func.coalesce(
                    CASES.c.verified_model_version, CASES.c.model_version
                ).label("model_version"),
                CASES.c.outcome,
                CASES.c.verified_at,
                CASES.c.workers_affected,
                CASES.c.amount_owed,
            )
            .where(CASES.c.outcome.is_not(None))
            .order_by(CASES.c.verified_at, CASES.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame(
            [tuple(r) for r in rows], columns=builtins.list(OUTCOME_COLUMNS[:-1])
        )
        frame["verified_at"] = pd.to_datetime(frame["verified_at"])
        frame["period"] = frame["verified_at"].dt.strftime("%Y-%m").astype(object)
        frame["workers_affected"] = frame["workers_affected"].astype("Int64")
        frame["amount_owed"] = frame["amount_owed"].astype(float)
        return _typed(frame)

    def stats(self, now: _dt.datetime | str | None = None) -> FieldStats:
        """Field performance of the warnings: hit rates, workload, speed.

        The hit rate is the share of verified warnings that were confirmed
        arrears (``confirmed / (confirmed + false_alarm)``); cases not yet
        verified do not count.
        """
        now = _as_datetime(now)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    CASES.c.status,
                    CASES.c.due_at,
                    CASES.c.created_at,
                    CASES.c.closed_at,
                )
            ).all()
        cases = pd.DataFrame(
            [tuple(r) for r in rows],
            columns=["status", "due_at", "created_at", "closed_at"],
        )
        outcomes = self.outcomes()
        by_status = (
            cases["status"].value_counts().reindex(builtins.list(STATES), fill_value=0)
        )
        by_status = by_status.astype("int64").rename_axis("status").rename("cases")
        is_open = cases["status"] != "closed"
        due = pd.to_datetime(cases["due_at"])
        n_overdue = int((is_open & due.notna() & (due < pd.Timestamp(now))).sum())
        confirmed = outcomes["outcome"] == "confirmed"
        n_verified, n_confirmed = len(outcomes), int(confirmed.sum())

        def _rates(frame: pd.DataFrame, keys: builtins.list[str]) -> pd.DataFrame:
            grouped = frame.assign(
                confirmed=frame["outcome"] == "confirmed",
                false_alarm=frame["outcome"] == "false_alarm",
            ).groupby(keys, sort=True)
            out = pd.DataFrame(
                {
                    "verified": grouped.size(),
                    "confirmed": grouped["confirmed"].sum(),
                    "false_alarm": grouped["false_alarm"].sum(),
                }
            ).astype("int64")
            out["hit_rate"] = out["confirmed"] / out["verified"]
            return out

        counts = _rates(outcomes, ["level"]).drop(columns="hit_rate")
        by_level = counts.reindex(builtins.list(CASE_LEVELS), fill_value=0)
        by_level["hit_rate"] = by_level["confirmed"] / by_level["verified"].where(
            by_level["verified"] > 0
        )
        by_level.index.name = "level"
        by_model = _rates(outcomes, ["model_name", "model_version"]).reset_index()
        closed = cases[cases["status"] == "closed"]
        hours = (
            pd.to_datetime(closed["closed_at"]) - pd.to_datetime(closed["created_at"])
        ).dt.total_seconds() / 3600
        return FieldStats(
            at=now,
            n_cases=len(cases),
            n_open=int(is_open.sum()),
            n_overdue=n_overdue,
            n_verified=n_verified,
            n_confirmed=n_confirmed,
            n_false_alarms=n_verified - n_confirmed,
            hit_rate=n_confirmed / n_verified if n_verified else None,
            median_hours_to_close=float(hours.median()) if len(hours) else None,
            by_level=by_level,
            by_model=by_model,
            by_status=by_status,
        )


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Datetime columns as datetime64, the rest as pandas infers them."""
    for column in frame.columns:
        if column in (
            "at",
            "due_at",
            "created_at",
            "updated_at",
            "verified_at",
            "closed_at",
            "stage_started_at",
        ):
            frame[column] = pd.to_datetime(frame[column])
    return frame


def read_history(path: str | Path) -> pd.DataFrame:
    """Read a file written by :meth:`CaseStore.export_history`.

    Returns the same frame as :meth:`CaseStore.history` (``details`` as
    dicts, ``at`` as datetimes).
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
        records: builtins.list[dict[str, Any]] = [
            {str(k): v for k, v in rec.items()}
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
    return _history_frame(
        [
            {
                **rec,
                "case_id": int(rec["case_id"]),
                "seq": int(rec["seq"]),
                "at": _dt.datetime.fromisoformat(str(rec["at"])),
                "note": rec["note"] or "",
                "details": (
                    json.loads(rec["details"])
                    if isinstance(rec["details"], str)
                    else rec["details"]
                )
                or {},
            }
            for rec in records
        ]
    )


def _history_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """History records -> the frame :meth:`CaseStore.history` returns."""
    columns = builtins.list(HISTORY_COLUMNS)
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


def merge_outcomes(tables: Tables, outcomes: pd.DataFrame) -> Tables:
    """Append confirmed outcomes to ``tables.events`` (the training labels).

    Each confirmed case becomes an event ``(enterprise_id, period,
    workers_affected, amount_owed)`` with ``period`` the month it was
    confirmed. An event already present for the same enterprise and period is
    kept as it is (the first outcome of a month wins), so merging twice
    changes nothing. False alarms are not events.

    Parameters
    ----------
    tables : Tables
        The contract tables; ``events`` may be ``None``.
    outcomes : DataFrame
        As returned by :meth:`CaseStore.outcomes`.

    Returns
    -------
    Tables
        A copy with ``events`` extended (other tables are shared).

    Raises
    ------
    ContractError
        If ``outcomes`` lacks a needed column.
    """
    needed = ["enterprise_id", "outcome", "period", "workers_affected", "amount_owed"]
    missing = [c for c in needed if c not in outcomes.columns]
    if missing:
        raise ContractError(
            f"outcomes: columns {missing} are missing. Columns found: "
            f"{builtins.list(outcomes.columns)}. Pass the frame returned by "
            "CaseStore.outcomes().",
            table="outcomes",
            column=missing[0],
        )
    confirmed = outcomes[outcomes["outcome"] == "confirmed"]
    usable = confirmed["workers_affected"].notna() & confirmed["amount_owed"].notna()
    if not usable.all():
        logger.warning(
            "merge_outcomes: %d confirmed cases without workers/amount skipped",
            int((~usable).sum()),
        )
    new = pd.DataFrame(
        {
            "enterprise_id": confirmed.loc[usable, "enterprise_id"].astype(str),
            "period": confirmed.loc[usable, "period"].astype(str),
            "workers_affected": confirmed.loc[usable, "workers_affected"].astype(
                "int64"
            ),
            "amount_owed": confirmed.loc[usable, "amount_owed"].astype(float),
        }
    ).drop_duplicates(["enterprise_id", "period"], keep="first")
    events = tables.events
    if events is None:
        logger.info("merge_outcomes: %d new events (no events table before)", len(new))
        return tables.replace(events=new.reset_index(drop=True))
    present = set(
        zip(
            events["enterprise_id"].astype(str),
            events["period"].astype(str),
            strict=True,
        )
    )
    fresh = [
        (e, p) not in present
        for e, p in zip(new["enterprise_id"], new["period"], strict=True)
    ]
    added = new[fresh]
    if added.empty:
        return tables.replace(events=events)
    logger.info("merge_outcomes: %d new events", len(added))
    if events.empty:
        merged = added.reindex(
            columns=[*events.columns, *(c for c in added.columns if c not in events)]
        )
    else:
        same_types = {c: events[c].dtype for c in added.columns if c in events.columns}
        merged = pd.concat([events, added.astype(same_types)], ignore_index=True)
    return tables.replace(events=merged.reset_index(drop=True))


def log_field_performance(
    store: CaseStore,
    tracking_uri: str | None = None,
    experiment: str = "anxin-field",
    *,
    now: _dt.datetime | str | None = None,
) -> str:
    """Log :meth:`CaseStore.stats` to MLflow as one run; return its id.

    Metrics are those of :meth:`FieldStats.metrics` (``field_hit_rate``,
    ``field_hit_rate_red``, ``field_verified``, ``field_status_new``, ...);
    tags name the store (password hidden), the model versions seen and the
    time of the figures.

    Parameters
    ----------
    store : CaseStore
        The case store.
    tracking_uri : str, optional
        MLflow tracking URI; default ``get_config().tracking_uri``.
    experiment : str
        Experiment name, created if missing.
    now : datetime or ISO str, optional
        Time of the figures (for the overdue count).
    """
    from mlflow.entities import Metric, RunTag
    from mlflow.tracking import MlflowClient

    config = get_config()
    uri = tracking_uri or config.tracking_uri
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        experiment_id = found.experiment_id
    else:
        local = uri.startswith(("sqlite:", "file:")) or "://" not in uri
        location = config.artifact_root.resolve().as_uri() if local else None
        experiment_id = client.create_experiment(experiment, artifact_location=location)
    stats = store.stats(now)
    models = sorted(
        {f"{r.model_name}:{r.model_version}" for r in stats.by_model.itertuples()}
    )
    tags = {
        "anxin.kind": "field-performance",
        "anxin.cases_db": repr(store),
        "anxin.models": ",".join(models),
        "anxin.at": stats.at.isoformat(sep=" "),
    }
    run = client.create_run(
        experiment_id, run_name=f"field-{stats.at:%Y-%m-%d}", tags=tags
    )
    millis = int(_dt.datetime.now().timestamp() * 1000)
    client.log_batch(
        run.info.run_id,
        metrics=[Metric(k, v, millis, 0) for k, v in stats.metrics().items()],
        tags=[
            RunTag(
                "mlflow.note.content",
                "Hit rate of warnings verified in the "
                "field (cases), by level and model version.",
            )
        ],
    )
    client.set_terminated(run.info.run_id)
    logger.info("field performance -> run %s in %s", run.info.run_id, experiment)
    return str(run.info.run_id)
