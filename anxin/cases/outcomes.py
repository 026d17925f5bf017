"""Closing the loop (闭环): verified outcomes, new events, field performance.

Confirmed arrears become new ``events`` (labels) for the next training run
(:func:`merge_outcomes`); :class:`FieldStats` reports the live hit rate of
the warnings (:func:`anxin.cases.log_field_performance` logs it to MLflow).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import re
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from anxin.cases._values import typed
from anxin.cases.schema import CASES
from anxin.cases.states import CASE_LEVELS, STATES
from anxin.exceptions import ContractError

if TYPE_CHECKING:
    from anxin.tables import Tables

__all__ = [
    "OUTCOME_COLUMNS",
    "FieldStats",
    "field_stats",
    "merge_outcomes",
    "read_outcomes",
]

logger = logging.getLogger(__name__)

#: Columns of :meth:`~anxin.cases.CaseStore.outcomes`.
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


def read_outcomes(engine: Engine) -> pd.DataFrame:
    """Verified warnings (see :meth:`~anxin.cases.CaseStore.outcomes`)."""
    c = CASES.c
    query = (
        sa.select(
            c.id.label("case_id"),
            c.enterprise_id,
            sa.func.coalesce(c.verified_as_of, c.as_of).label("as_of"),
            sa.func.coalesce(c.verified_level, c.level).label("level"),
            sa.func.coalesce(c.verified_model_name, c.model_name).label("model_name"),
            sa.func.coalesce(c.verified_model_version, c.model_version).label(
                "model_version"
            ),
            c.outcome,
            c.verified_at,
            c.workers_affected,
            c.amount_owed,
        )
        .where(c.outcome.is_not(None))
        .order_by(c.verified_at, c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(OUTCOME_COLUMNS[:-1]))
    frame["verified_at"] = pd.to_datetime(frame["verified_at"])
    frame["period"] = frame["verified_at"].dt.strftime("%Y-%m").astype(object)
    frame["workers_affected"] = frame["workers_affected"].astype("Int64")
    frame["amount_owed"] = frame["amount_owed"].astype(float)
    return typed(frame)


@dataclasses.dataclass(frozen=True)
class FieldStats:
    """How the warnings fare in the field (see
    :meth:`~anxin.cases.CaseStore.stats`).

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
        """Flat ``field_*`` metrics, as
        :func:`~anxin.cases.log_field_performance` logs them.

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


def _metric_key(key: str) -> str:
    """A metric name MLflow accepts."""
    return re.sub(r"[^0-9A-Za-z_\-. /]", "_", key)


def _rates(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Verified, confirmed, false alarms and hit rate of outcomes by ``keys``."""
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


def field_stats(engine: Engine, now: _dt.datetime) -> FieldStats:
    """Field performance at ``now`` (see :meth:`~anxin.cases.CaseStore.stats`)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                CASES.c.status, CASES.c.due_at, CASES.c.created_at, CASES.c.closed_at
            )
        ).all()
    cases = pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["status", "due_at", "created_at", "closed_at"],
    )
    outcomes = read_outcomes(engine)
    by_status = cases["status"].value_counts().reindex(list(STATES), fill_value=0)
    by_status = by_status.astype("int64").rename_axis("status").rename("cases")
    is_open = cases["status"] != "closed"
    due = pd.to_datetime(cases["due_at"])
    n_overdue = int((is_open & due.notna() & (due < pd.Timestamp(now))).sum())
    confirmed = outcomes["outcome"] == "confirmed"
    n_verified, n_confirmed = len(outcomes), int(confirmed.sum())
    counts = _rates(outcomes, ["level"]).drop(columns="hit_rate")
    by_level = counts.reindex(list(CASE_LEVELS), fill_value=0)
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
        As returned by :meth:`~anxin.cases.CaseStore.outcomes`.

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
            f"{list(outcomes.columns)}. Pass the frame returned by "
            "CaseStore.outcomes().",
            table="outcomes",
            column=missing[0],
        )
    new = _confirmed_events(outcomes)
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


def _confirmed_events(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Confirmed outcomes as events, one per enterprise and month (first wins)."""
    confirmed = outcomes[outcomes["outcome"] == "confirmed"]
    usable = confirmed["workers_affected"].notna() & confirmed["amount_owed"].notna()
    if not usable.all():
        logger.warning(
            "merge_outcomes: %d confirmed cases without workers/amount skipped",
            int((~usable).sum()),
        )
    return pd.DataFrame(
        {
            "enterprise_id": confirmed.loc[usable, "enterprise_id"].astype(str),
            "period": confirmed.loc[usable, "period"].astype(str),
            "workers_affected": confirmed.loc[usable, "workers_affected"].astype(
                "int64"
            ),
            "amount_owed": confirmed.loc[usable, "amount_owed"].astype(float),
        }
    ).drop_duplicates(["enterprise_id", "period"], keep="first")
