"""``anxin cases ...``: the handling chain on the command line.

Every command takes ``--db URL`` (default ``ANXIN_CASES_URL``, else
``sqlite:///$ANXIN_HOME/cases.db``) and checks its arguments before it opens
the store. Errors in the input (unknown case or state, missing actor, a value
outside :mod:`anxin.cases.limits`, a scores file breaking the contract) exit
with code 2 and leave the store unchanged; a store that cannot be opened or a
file that cannot be written exits with code 1; ``verify`` exits with
:data:`~anxin.cases.integrity.TAMPERED_EXIT_CODE` (3) when the audit trail
was tampered with. The commands raise anxin's errors and
:func:`anxin.cli.main` maps them. Text from the store is printed as text,
never as markup, with control characters shown escaped. ``anxin.cli`` adds
:data:`cases_app` as the ``cases`` group; this module never imports it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from pathlib import Path
from typing import Annotated

import typer

from anxin._console import console, err_console
from anxin._help import HELP_SETTINGS, HelpGroup
from anxin._params import check_param

__all__ = ["cases_app"]

cases_app = typer.Typer(
    no_args_is_help=True,
    cls=HelpGroup,
    context_settings=HELP_SETTINGS,
    help="Follow warnings through the handling chain (链条式处置): open cases from "
    "scores, dispatch, verify, handle, close; deadlines, audit trail, outcomes."
    "\n\nExample: anxin cases list --status new --level red",
)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Case store URL (sqlite:///cases.db or postgresql://...). "
        "Default: ANXIN_CASES_URL, else sqlite:///$ANXIN_HOME/cases.db.",
        show_default=False,
    ),
]
NowOpt = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Act as if it were this time (ISO, e.g. '2026-07-01 09:00'); "
        "default: now.",
        show_default=False,
    ),
]


def _first(
    command: str, *, db: str | None = None, now: str | None = None
) -> _dt.datetime:
    """Check the options every command shares before any work; return ``now``
    as a time."""
    from anxin.cases._values import as_datetime
    from anxin.cases.database import parse_url

    owner = f"anxin cases {command}"
    if db is not None:
        parse_url(db, "--db", owner)
    return as_datetime(now, "--now", owner)


@cases_app.command("open")
def open_cmd(
    scores: Annotated[
        Path,
        typer.Option(
            "--scores",
            "-s",
            help="Scores file (.parquet or .csv) or a directory with scores.parquet.",
        ),
    ],
    min_level: Annotated[
        str, typer.Option("--min-level", help="Lowest level that opens a case.")
    ] = "yellow",
    by: Annotated[
        str, typer.Option("--by", help="Actor recorded in the history.")
    ] = "system",
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """Open a case per flagged enterprise; escalate open cases whose level rose.

    Running the same scores again changes nothing.

    Example: anxin cases open --scores out/scores.parquet --min-level orange
    """
    from anxin.cases._values import check_by
    from anxin.cases.scores import read_scores
    from anxin.cases.states import CASE_LEVELS
    from anxin.cases.store import CaseStore

    at = _first("open", db=db, now=now)
    check_param(
        "--min-level",
        min_level,
        "anxin cases open",
        f"one of {list(CASE_LEVELS)}",
        min_level in CASE_LEVELS,
    )
    by = check_by(by, "anxin cases open", "--by")
    frame = read_scores(scores)
    with CaseStore(db) as store:
        result = store.open_from_scores(frame, min_level=min_level, now=at, by=by)
    console.print(
        f"opened {result.opened}, escalated {result.escalated}, unchanged "
        f"{result.unchanged} ({result.below_min_level} rows below {min_level})"
    )


@cases_app.command("list")
def list_cmd(
    status: Annotated[
        str | None, typer.Option("--status", help="Only cases in this state.")
    ] = None,
    level: Annotated[
        str | None, typer.Option("--level", help="Only red, orange or yellow cases.")
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="Only cases of this unit (alone or jointly)."),
    ] = None,
    limit: Annotated[
        int,
        typer.Option("--limit", "-n", help="Show at most this many cases (1-10000)."),
    ] = 50,
    show_all: Annotated[
        bool, typer.Option("--all", help="Show every case (no limit).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the cases as JSON, for machines.")
    ] = False,
    db: DbOpt = None,
) -> None:
    """List cases, with their state, unit and deadline (the first 50 by default).

    Example: anxin cases list --status new --level red --limit 20
    """
    from anxin.cases.records import check_filters
    from anxin.cases.store import CaseStore
    from anxin.cases.views import level_text, plain, titled_table, when

    _first("list", db=db)
    check_filters(status, level, unit)
    check_param(
        "limit",
        limit,
        "anxin cases list",
        "an int in [1, 10000]",
        isinstance(limit, int) and 1 <= limit <= 10_000,
    )
    with CaseStore(db) as store:
        everything = store.list(status=status, level=level, unit=unit)
    frame = everything if show_all else everything.head(limit)
    if as_json:
        typer.echo(
            frame.to_json(orient="records", date_format="iso", force_ascii=False)
        )
        return
    shown = (
        f"{len(frame)} of {len(everything)}"
        if len(frame) < len(everything)
        else str(len(frame))
    )
    table = titled_table(f"Cases / 案件 ({shown})")
    for column in ("id", "enterprise", "level", "status", "unit", "due", "esc."):
        table.add_column(
            column,
            justify="right" if column in ("id", "esc.") else "left",
            no_wrap=column in ("id", "enterprise", "status", "due"),
            overflow="fold",
        )
    for rec in frame.itertuples():
        table.add_row(
            str(rec.id),
            plain(rec.enterprise_id),
            level_text(rec.level),
            plain(rec.status),
            plain(rec.unit),
            when(rec.due_at, short=True),
            str(rec.escalations),
        )
    console.print(table)
    if len(frame) < len(everything):
        console.print(
            f"{len(everything) - len(frame):,d} more: --limit N or --all to see them"
        )


@cases_app.command("show")
def show_cmd(
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    db: DbOpt = None,
) -> None:
    """Show one case and its full history (留痕).

    Example: anxin cases show 12
    """
    from anxin.cases.limits import check_integer
    from anxin.cases.store import CaseStore
    from anxin.cases.views import case_table, plain, titled_table, when

    _first("show", db=db)
    check_integer("CASE_ID", case_id, "anxin cases show")
    with CaseStore(db) as store:
        case = store.get(case_id)
        history = store.history(case_id)
    console.print(case_table(case))
    table = titled_table("History / 处置记录")
    for column in ("seq", "at", "actor", "action", "from", "to", "note"):
        table.add_column(column, no_wrap=column in ("seq", "at", "action"))
    for rec in history.itertuples():
        table.add_row(
            str(rec.seq),
            when(rec.at),
            plain(rec.actor),
            plain(rec.action),
            plain(rec.from_state or "-"),
            plain(rec.to_state or "-"),
            plain(rec.note or ""),
        )
    console.print(table)


@cases_app.command("move")
def move_cmd(
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="Next state: dispatched, verifying, confirmed, false_alarm, "
            "handling, resolved or closed.",
        ),
    ],
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="Who acts (required: every change names its actor, 留痕)."
        ),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="Why, or what was found.")] = "",
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Workers owed wages (required for confirmed)."),
    ] = None,
    amount: Annotated[
        float | None,
        typer.Option("--amount", help="Wages owed, CNY (required for confirmed)."),
    ] = None,
    expected_version: Annotated[
        int | None,
        typer.Option(
            "--expected-version",
            help="Refuse if the case changed since you read this version.",
        ),
    ] = None,
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """Move a case to its next state, naming who acts.

    Example: anxin cases move 12 --to confirmed --by 李核查 --workers 23 --amount 186000
    """
    from anxin.cases._values import check_by
    from anxin.cases.moves import check_move
    from anxin.cases.store import CaseStore
    from anxin.cases.views import when

    at = _first("move", db=db, now=now)
    by = check_by(by, "anxin cases move", "--by")
    check_move(
        case_id,
        to,
        note=note,
        expected_version=expected_version,
        workers_affected=workers,
        amount_owed=amount,
    )
    with CaseStore(db) as store:
        case = store.move(
            case_id,
            to,
            by=by,
            note=note,
            now=at,
            expected_version=expected_version,
            workers_affected=workers,
            amount_owed=amount,
        )
    due = f", {case.stage} due {when(case.due_at)}" if case.stage else ""
    console.print(f"case {case.id}: {case.status} (version {case.version}{due})")


@cases_app.command("overdue")
def overdue_cmd(
    now: NowOpt = None,
    by: Annotated[
        str, typer.Option("--by", help="Actor recorded for the escalations.")
    ] = "system",
    db: DbOpt = None,
) -> None:
    """List cases past their stage's deadline and escalate new breaches (督办).

    Example: anxin cases overdue --now "2026-07-03 09:00"
    """
    from anxin.cases._values import check_by
    from anxin.cases.store import CaseStore
    from anxin.cases.views import level_text, plain, titled_table

    at = _first("overdue", db=db, now=now)
    by = check_by(by, "anxin cases overdue", "--by")
    with CaseStore(db) as store:
        frame = store.overdue(at, by=by)
    table = titled_table(f"Overdue / 超时 ({len(frame)})")
    for column in ("id", "enterprise", "level", "stage", "unit", "late h", "esc."):
        table.add_column(
            column,
            justify="right" if column in ("id", "late h", "esc.") else "left",
            no_wrap=column != "unit",
            min_width=8 if column == "unit" else None,
            overflow="fold",
        )
    for rec in frame.itertuples():
        new = " [bold]new[/bold]" if rec.newly_escalated else ""
        table.add_row(
            str(rec.id),
            plain(rec.enterprise_id),
            level_text(rec.level),
            plain(rec.stage),
            plain(rec.unit),
            f"{rec.hours_overdue:.1f}",
            f"{rec.escalations}{new}",
        )
    console.print(table)


@cases_app.command("outcomes")
def outcomes_cmd(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Write to FILE (.csv, .parquet, .json).")
    ],
    db: DbOpt = None,
) -> None:
    """Export verified outcomes (confirmed arrears and false alarms).

    Confirmed outcomes are new labels: merge them into events with
    anxin.cases.merge_outcomes before the next training run. Text cells of a
    CSV that a spreadsheet would read as a formula get a leading '.

    Example: anxin cases outcomes --out outcomes.csv
    """
    from anxin.cases.exports import check_output, write_frame
    from anxin.cases.store import CaseStore
    from anxin.cases.views import say

    _first("outcomes", db=db)
    suffixes = (".csv", ".parquet", ".json")
    check_output(out, "anxin cases outcomes", suffixes, "--out")
    with CaseStore(db) as store:
        frame = store.outcomes()
    path = write_frame(frame, out, "anxin cases outcomes", "--out")
    confirmed = int((frame["outcome"] == "confirmed").sum())
    say(
        f"{len(frame)} outcomes ({confirmed} confirmed, {len(frame) - confirmed} "
        f"false alarms) -> {path}"
    )


@cases_app.command("history")
def history_cmd(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Write to FILE (.csv or .json).")
    ],
    case_id: Annotated[
        int | None, typer.Option("--case", help="Only this case.")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Export the audit trail (every change of every case) to CSV or JSON.

    Text cells of a CSV that a spreadsheet would read as a formula get a
    leading '; anxin.cases.read_history reads the file back unchanged.

    Example: anxin cases history --out history.csv
    """
    from anxin.cases.history import check_export_path, export_history
    from anxin.cases.limits import check_integer
    from anxin.cases.store import CaseStore
    from anxin.cases.views import say

    _first("history", db=db)
    check_export_path(out, "anxin cases history", "--out")
    if case_id is not None:
        check_integer("--case", case_id, "anxin cases history")
    with CaseStore(db) as store:
        frame = store.history(case_id)
    path = export_history(frame, out)
    say(f"{len(frame)} history rows -> {path}")


@cases_app.command("stats")
def stats_cmd(
    now: NowOpt = None,
    mlflow: Annotated[
        bool,
        typer.Option("--mlflow", help="Also log the figures to MLflow (anxin-field)."),
    ] = False,
    tracking_uri: Annotated[
        str | None,
        typer.Option("--tracking-uri", help="MLflow tracking URI (default: config)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the metrics as JSON.")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Field performance: hit rate by level and model, cases by state, speed.

    Example: anxin cases stats --mlflow
    """
    from anxin.cases.reporting import log_field_performance
    from anxin.cases.store import CaseStore
    from anxin.cases.views import print_stats

    at = _first("stats", db=db, now=now)
    with CaseStore(db) as store:
        stats = store.stats(at)
        run_id = log_field_performance(store, tracking_uri, now=at) if mlflow else None
    if as_json:  # stdout holds the JSON alone, as for cases list
        typer.echo(json.dumps(stats.metrics(), ensure_ascii=False))
    else:
        print_stats(stats)
    if run_id is not None:
        (err_console if as_json else console).print(f"logged to MLflow run {run_id}")


@cases_app.command("verify")
def verify_cmd(
    case_id: Annotated[
        int | None, typer.Option("--case", help="Only this case.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the findings as JSON.")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Check the audit trail's hash chain: exit 0 if intact, 3 if tampered with.

    Every history row's hash is recomputed and compared with the stored one,
    with the next row's link and with the case's version: an edited, deleted,
    rewritten or inserted row is reported with its case and seq. Keep the
    digest printed when intact outside the database.

    Example: anxin cases verify
    """
    from anxin.cases.limits import check_integer
    from anxin.cases.store import CaseStore
    from anxin.cases.views import print_integrity

    _first("verify", db=db)
    if case_id is not None:
        check_integer("--case", case_id, "anxin cases verify")
    with CaseStore(db) as store:
        report = store.verify(case_id)
    if as_json:
        found = {
            "intact": report.intact,
            "cases": len(report.cases),
            "rows": report.rows,
            "digest": report.digest,
            "problems": [dataclasses.asdict(p) for p in report.problems],
        }
        typer.echo(json.dumps(found, ensure_ascii=False))
    else:
        print_integrity(report)
    report.raise_if_tampered()
