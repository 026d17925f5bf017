"""The case store: one object to open, move, escalate and read cases.

:class:`CaseStore` checks the arguments and hands the work to the modules
that own it: :mod:`~anxin.cases.opening`, :mod:`~anxin.cases.moves`,
:mod:`~anxin.cases.overdue`, :mod:`~anxin.cases.records`,
:mod:`~anxin.cases.history` and :mod:`~anxin.cases.outcomes`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from anxin._params import check_param
from anxin.cases._values import as_datetime, check_by
from anxin.cases.database import make_engine, parse_url, shown_url, unavailable
from anxin.cases.history import check_export_path, export_history, read_rows
from anxin.cases.integrity import IntegrityReport, verify_history
from anxin.cases.limits import check_integer
from anxin.cases.migrations import MIGRATIONS, applied_migrations, upgrade
from anxin.cases.moves import check_move, move_case
from anxin.cases.opening import OpenResult, open_cases
from anxin.cases.outcomes import FieldStats, field_stats, read_outcomes
from anxin.cases.overdue import escalate_overdue
from anxin.cases.records import Case, fetch_row, list_cases
from anxin.cases.routing import Routing
from anxin.cases.states import CASE_LEVELS, Deadline, resolve_deadlines
from anxin.config import get_config

__all__ = ["CaseStore"]


def _check_routing(routing: object, owner: str) -> None:
    check_param(
        "routing",
        routing,
        owner,
        "a Routing or None",
        routing is None or isinstance(routing, Routing),
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
        Who handles new cases; default :class:`~anxin.cases.Routing` ().
    deadlines : mapping, optional
        ``{level: {stage: Deadline}}`` overriding
        :data:`~anxin.cases.DEFAULT_DEADLINES` entry by entry.

    Attributes
    ----------
    migrations_applied : list of str
        Migrations this instance applied when it opened the database.

    Raises
    ------
    InvalidParameterError
        If ``url`` is not an SQLite or PostgreSQL URL.
    StoreUnavailableError
        If the database cannot be opened (exit code 1 on the command line):
        the message names the URL without its password.

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
        if url is not None:
            parse_url(url)  # refuses "" (which would mean the default store)
        self.url = url or get_config().cases_url
        _check_routing(routing, "CaseStore")
        self.routing = routing or Routing()
        self.deadlines = resolve_deadlines(deadlines)
        self.engine = make_engine(self.url)
        try:
            self.migrations_applied = upgrade(self.engine)
        except sa.exc.DBAPIError as exc:
            self.engine.dispose()
            raise unavailable(self.url, exc) from exc

    def __repr__(self) -> str:
        return f"CaseStore({shown_url(self.url)!r})"

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

    def get(self, case_id: int) -> Case:
        """Read one case.

        Raises
        ------
        UnknownCaseError
            If there is no case ``case_id``.
        """
        with self.engine.connect() as conn:
            return Case.from_row(fetch_row(conn, case_id, repr(self)))

    def list(
        self,
        status: str | None = None,
        level: str | None = None,
        unit: str | None = None,
    ) -> pd.DataFrame:
        """Cases as a frame (one row per case,
        :data:`~anxin.cases.records.LIST_COLUMNS`), by id.

        Parameters
        ----------
        status, level : str, optional
            Keep only cases in this state / at this level.
        unit : str, optional
            Keep only cases assigned to this unit, alone or jointly
            (``"住建局"`` matches ``"住建局+人社劳动监察大队"``).
        """
        return list_cases(self.engine, status=status, level=level, unit=unit)

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
            details`` (``details`` holds dicts; ``actor`` is whoever acted,
            the ``by`` of the change). ``action`` is ``opened``,
            ``escalated`` (a later score raised the level), ``transition`` or
            ``overdue_escalated``. ``seq`` runs 1, 2, ... per case and equals
            the case's ``version`` after that change.

        Raises
        ------
        UnknownCaseError
            If there is no case ``case_id``.
        """
        with self.engine.connect() as conn:
            if case_id is not None:
                fetch_row(conn, case_id, repr(self))
            return read_rows(conn, case_id)

    def verify(self, case_id: int | None = None) -> IntegrityReport:
        """Check the audit trail's hash chain: was any history row edited,
        deleted or inserted after it was written?

        Each row's hash is recomputed from its content and compared with the
        stored one and with the next row's link; each case's rows are
        counted against its ``version`` (see :mod:`anxin.cases.integrity`).

        Parameters
        ----------
        case_id : int, optional
            Check one case; by default every case.

        Returns
        -------
        IntegrityReport
            ``intact``, the per-case results (``cases``: ``status`` is
            ``ok``, ``edited``, ``deleted``, ``broken_link`` or ``inserted``)
            and every problem with its case id and ``seq`` (``problems``).

        Raises
        ------
        UnknownCaseError
            If there is no case ``case_id``.
        """
        if case_id is not None:
            check_integer("case_id", case_id, "verify")
        report = verify_history(self.engine, case_id)
        if case_id is not None and not report.cases:
            with self.engine.connect() as conn:
                fetch_row(conn, case_id, repr(self))  # raises UnknownCaseError
        return report

    def export_history(self, path: str | Path, case_id: int | None = None) -> Path:
        """Write the audit trail to ``path`` (``.csv`` or ``.json``).

        CSV holds ``details`` as JSON text, with every text cell a spreadsheet
        would read as a formula (``=``, ``+``, ``-``, ``@``, ...) given a
        leading ``'`` (:mod:`anxin.cases.exports`); JSON is a list of records.
        Both are UTF-8 and read back unchanged by
        :func:`~anxin.cases.read_history`.

        Raises
        ------
        InvalidParameterError
            If ``path`` is a directory or ends in neither ``.csv`` nor
            ``.json``.
        ExportError
            If the file cannot be written (exit code 1 on the command line).
        """
        check_export_path(path)
        return export_history(self.history(case_id), path)

    def outcomes(self) -> pd.DataFrame:
        """Verified warnings: confirmed arrears and false alarms.

        Returns
        -------
        DataFrame
            :data:`~anxin.cases.outcomes.OUTCOME_COLUMNS`: the warning as
            verified (``as_of``, ``level``, ``model_name``,
            ``model_version``), ``outcome`` (``confirmed`` or
            ``false_alarm``), ``verified_at``, ``workers_affected`` and
            ``amount_owed`` (confirmed only) and ``period``, the month
            verified (``YYYY-MM``).
        """
        return read_outcomes(self.engine)

    def stats(self, now: _dt.datetime | str | None = None) -> FieldStats:
        """Field performance of the warnings: hit rates, workload, speed.

        The hit rate is the share of verified warnings that were confirmed
        arrears (``confirmed / (confirmed + false_alarm)``); cases not yet
        verified do not count.
        """
        return field_stats(self.engine, as_datetime(now))

    # ---------------------------------------------------------------- writing

    def open_from_scores(
        self,
        scores: pd.DataFrame,
        *,
        min_level: str = "yellow",
        now: _dt.datetime | str | None = None,
        by: str = "system",
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
        by : str
            Who acts: recorded on the ``opened`` / ``escalated`` rows.
        routing : Routing, optional
            Overrides the store's routing for this call.

        Returns
        -------
        OpenResult

        Raises
        ------
        ContractError
            If ``scores`` breaks the contract, or a flagged row's text does not
            fit the store (:data:`~anxin.cases.limits.SCORES_TEXT_LIMITS`);
            nothing is written.
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
        by = check_by(by, "open_from_scores")
        _check_routing(routing, "open_from_scores")
        return open_cases(
            self.engine,
            scores,
            min_level=min_level,
            now=as_datetime(now),
            by=by,
            routing=routing or self.routing,
            deadlines=self.deadlines,
        )

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
            Missing actor, missing / invalid workers and amount, or a value
            outside :mod:`anxin.cases.limits` (an actor over 200 characters,
            a control character in the note, a time past 2099, ...): the same
            on SQLite and PostgreSQL, checked before the database.
        CaseConflictError
            The case changed since ``expected_version`` (or since it was read).
        """
        by = check_by(by, "move")
        check_move(
            case_id,
            to,
            note=note,
            expected_version=expected_version,
            workers_affected=workers_affected,
            amount_owed=amount_owed,
        )
        return move_case(
            self.engine,
            case_id,
            to,
            by=by,
            note=note,
            now=as_datetime(now),
            expected_version=expected_version,
            workers_affected=workers_affected,
            amount_owed=amount_owed,
            deadlines=self.deadlines,
            store=repr(self),
        )

    def overdue(
        self, now: _dt.datetime | str | None = None, *, by: str = "system"
    ) -> pd.DataFrame:
        """List open cases past their stage's deadline, escalating new breaches.

        A case whose current stage is overdue and has not been escalated for
        that stage yet gets an ``overdue_escalated`` history row (督办), its
        ``escalations`` count goes up by one and its version changes. Calling
        again changes nothing until a case breaches its next stage.

        Parameters
        ----------
        now : datetime or ISO str, optional
            Time of the check (default: now).
        by : str
            Who acts: recorded on the ``overdue_escalated`` rows.

        Returns
        -------
        DataFrame
            One row per overdue case, most overdue first: ``id``,
            ``enterprise_id``, ``level``, ``status``, ``stage``, ``unit``,
            ``grid``, ``due_at``, ``hours_overdue``, ``escalations``,
            ``newly_escalated`` (escalated by this call).
        """
        by = check_by(by, "overdue")
        return escalate_overdue(self.engine, as_datetime(now), by)
