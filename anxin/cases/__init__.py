"""The handling chain (链条式、全流程): from a warning to a verified outcome.

Every warning at or above a level becomes a *case* (一案一档) that moves
through a fixed chain of states, each move naming who did it (``by``), when
and why::

    new -> dispatched -> verifying -> false_alarm -> closed
                                   \\-> confirmed -> handling -> resolved -> closed

* :meth:`CaseStore.open_from_scores` opens one case per flagged enterprise,
  routes it to the responsible unit (:class:`Routing`) and escalates an open
  case when a later score raises its level, instead of opening a second one.
* :meth:`CaseStore.move` applies one transition; illegal moves, unknown states
  and a missing ``by`` are refused with the allowed next states.
* Each stage has a deadline by level (:data:`DEFAULT_DEADLINES`);
  :meth:`CaseStore.overdue` lists and escalates the cases past theirs.
* Writers never overwrite each other: every update checks the ``version`` it
  read (optimistic locking) and a stale one raises
  :class:`~anxin.exceptions.CaseConflictError`.
* ``case_history`` is append-only: every change is a row, nothing is updated
  or deleted (triggers refuse it), and each row is chained to the case's
  previous one by its hash; :meth:`CaseStore.verify` reports any row edited,
  deleted or inserted behind the store's back.
* Every value is checked in Python before it reaches the database
  (:mod:`anxin.cases.limits`), so SQLite and PostgreSQL accept and refuse the
  same input; CSV exports neutralise cells a spreadsheet would run as a
  formula (:mod:`anxin.cases.exports`).
* :meth:`CaseStore.outcomes` and :func:`merge_outcomes` close the loop:
  confirmed arrears become new ``events`` (labels) for the next training run;
  :meth:`CaseStore.stats` and :func:`log_field_performance` report the live
  hit rate of the warnings.

The store is any SQLAlchemy database: an SQLite file by default
(``ANXIN_CASES_URL``), PostgreSQL in production. Its schema is created and
upgraded by the named migrations in :mod:`anxin.cases.migrations`.

Times are naive local datetimes (the bureau's wall clock); an aware datetime is
converted to local time. ``docs/workflow.md`` describes the chain for the
people who work it.

The modules, one concept each (none imports another in a cycle):

=====================  ====================================================
``limits``             what the store accepts (lengths, characters, ranges)
``states``             the state machine, stages, deadlines, working days
``routing``            which unit and grid handle a new case
``database``           the engine for a store URL (SQLite, PostgreSQL)
``schema``             the current tables
``migrations``         the named migrations (Alembic operations)
``records``            the :class:`Case` snapshot, reading cases, the locked
                       update
``integrity``          the audit trail's hash chain and its verification
``exports``            spreadsheet-safe CSV, JSON and Parquet files
``history``            the audit trail: writing, reading, exporting
``scores``             scores files and frames as the store reads them
``opening``            opening and escalating cases from scores
``moves``              one transition of a case
``overdue``            overdue cases and their escalation (督办)
``outcomes``           outcomes, :func:`merge_outcomes`, :class:`FieldStats`
``store``              :class:`CaseStore`, the facade over the above
``reporting``          :func:`log_field_performance` (MLflow)
``views``              how cases look on the terminal
``cli``                the ``anxin cases`` commands
=====================  ====================================================
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs; at run time see __getattr__
    from anxin.cases.history import read_history
    from anxin.cases.integrity import IntegrityReport
    from anxin.cases.opening import OpenResult
    from anxin.cases.outcomes import FieldStats, merge_outcomes
    from anxin.cases.records import Case
    from anxin.cases.reporting import log_field_performance
    from anxin.cases.routing import (
        DEFAULT_ROUTING_RULES,
        HOUSING_UNIT,
        LABOUR_INSPECTION_UNIT,
        Routing,
        RoutingRule,
    )
    from anxin.cases.states import (
        DEFAULT_DEADLINES,
        STAGE_OF_STATE,
        STAGES,
        STATES,
        TRANSITIONS,
        Deadline,
        add_working_days,
    )
    from anxin.cases.store import CaseStore


#: Public name -> its module, imported on first use (PEP 562): the case
#: commands' help and `anxin cases list` start without the whole package.
_HOMES = {
    "read_history": "anxin.cases.history",
    "IntegrityReport": "anxin.cases.integrity",
    "OpenResult": "anxin.cases.opening",
    "FieldStats": "anxin.cases.outcomes",
    "merge_outcomes": "anxin.cases.outcomes",
    "Case": "anxin.cases.records",
    "log_field_performance": "anxin.cases.reporting",
    "DEFAULT_ROUTING_RULES": "anxin.cases.routing",
    "HOUSING_UNIT": "anxin.cases.routing",
    "LABOUR_INSPECTION_UNIT": "anxin.cases.routing",
    "Routing": "anxin.cases.routing",
    "RoutingRule": "anxin.cases.routing",
    "DEFAULT_DEADLINES": "anxin.cases.states",
    "Deadline": "anxin.cases.states",
    "STAGES": "anxin.cases.states",
    "STAGE_OF_STATE": "anxin.cases.states",
    "STATES": "anxin.cases.states",
    "TRANSITIONS": "anxin.cases.states",
    "add_working_days": "anxin.cases.states",
    "CaseStore": "anxin.cases.store",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is used."""
    if name in _HOMES:
        import importlib

        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'anxin.cases' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
    "IntegrityReport",
    "OpenResult",
    "Routing",
    "RoutingRule",
    "add_working_days",
    "log_field_performance",
    "merge_outcomes",
    "read_history",
]
