"""``anxin cases ...``: the handling chain on the command line.

Every command takes ``--db URL`` (default ``ANXIN_CASES_URL``, else
``sqlite:///$ANXIN_HOME/cases.db``). Errors in the input (unknown case or
state, missing actor, a scores file breaking the contract) exit with code 2
and leave the store unchanged: the commands raise anxin's errors and
:func:`anxin.cli.main` maps them. ``anxin.cli`` adds :data:`cases_app` as the
``cases`` group; this module never imports it.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich import box
from rich.table import Table

from anxin._console import console
from anxin._params import check_param
from anxin.cases.outcomes import FieldStats
from anxin.cases.records import Case
from anxin.cases.reporting import log_field_performance
from anxin.cases.scores import read_scores
from anxin.cases.store import CaseStore
from anxin.levels import styled

__all__ = ["cases_app"]

cases_app = typer.Typer(
    no_args_is_help=True,
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


def _when(value: Any, *, short: bool = False) -> str:
    if value is None or pd.isna(value):
        return "-"
    if isinstance(value, _dt.datetime):
        return value.strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M")
    return str(value)


def _table(title: str, **kwargs: Any) -> Table:
    return Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, **kwargs)


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
    frame = read_scores(scores)
    with CaseStore(db) as store:
        result = store.open_from_scores(frame, min_level=min_level, now=now, by=by)
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
    db: DbOpt = None,
) -> None:
    """List cases, with their state, unit and deadline.

    Example: anxin cases list --status new --level red
    """
    with CaseStore(db) as store:
        frame = store.list(status=status, level=level, unit=unit)
    table = _table(f"Cases / 案件 ({len(frame)})")
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
            str(rec.enterprise_id),
            styled(str(rec.level)),
            str(rec.status),
            str(rec.unit),
            _when(rec.due_at, short=True),
            str(rec.escalations),
        )
    console.print(table)


def _case_table(case: Case) -> Table:
    table = _table(f"Case / 案件 {case.id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    rows: list[tuple[str, str]] = [
        ("enterprise / 企业", case.enterprise_id),
        (
            "status / 状态",
            f"{case.status}  (next: {', '.join(case.allowed_next) or '-'})",
        ),
        (
            "level / 等级",
            f"{styled(case.level)}  score {case.score:.3f}  as of {case.as_of}",
        ),
        ("model / 模型", f"{case.model_name} v{case.model_version}"),
        ("unit / 责任单位", case.unit),
        ("grid / 网格", case.grid or "-"),
        ("industry, region", f"{case.industry or '-'}, {case.region or '-'}"),
        ("deadline / 时限", f"{case.stage or '-'} due {_when(case.due_at)}"),
        ("escalations / 督办", str(case.escalations)),
        (
            "version",
            f"{case.version} (changed {_when(case.updated_at)} by {case.updated_by})",
        ),
    ]
    if case.outcome:
        figures = (
            f", {case.workers_affected} workers, {case.amount_owed:,.0f} CNY"
            if case.workers_affected is not None and case.amount_owed is not None
            else ""
        )
        rows.append(("outcome / 核查结果", f"{case.outcome}{figures}"))
    for reason in case.reasons:
        text = reason.get("text_zh") or reason.get("text_en") or reason.get("feature")
        rows.append(("reason / 原因", str(text)))
    for key, value in rows:
        table.add_row(key, value)
    return table


@cases_app.command("show")
def show_cmd(
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    db: DbOpt = None,
) -> None:
    """Show one case and its full history (留痕).

    Example: anxin cases show 12
    """
    with CaseStore(db) as store:
        case = store.get(case_id)
        history = store.history(case_id)
    console.print(_case_table(case))
    table = _table("History / 处置记录")
    for column in ("seq", "at", "actor", "action", "from", "to", "note"):
        table.add_column(column, no_wrap=column in ("seq", "at", "action"))
    for rec in history.itertuples():
        table.add_row(
            str(rec.seq),
            _when(rec.at),
            str(rec.actor),
            str(rec.action),
            str(rec.from_state or "-"),
            str(rec.to_state or "-"),
            str(rec.note or ""),
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
    check_param(
        "--by",
        by,
        "anxin cases move",
        "the name of who acts (every change names its actor), e.g. --by 张三",
        by is not None and by.strip() != "",
    )
    assert by is not None
    with CaseStore(db) as store:
        case = store.move(
            case_id,
            to,
            by=by,
            note=note,
            now=now,
            expected_version=expected_version,
            workers_affected=workers,
            amount_owed=amount,
        )
    due = f", {case.stage} due {_when(case.due_at)}" if case.stage else ""
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
    with CaseStore(db) as store:
        frame = store.overdue(now, by=by)
    table = _table(f"Overdue / 超时 ({len(frame)})")
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
            str(rec.enterprise_id),
            styled(str(rec.level)),
            str(rec.stage),
            str(rec.unit),
            f"{rec.hours_overdue:.1f}",
            f"{rec.escalations}{new}",
        )
    console.print(table)


def _write_frame(frame: pd.DataFrame, out: Path) -> None:
    suffix = out.suffix.lower()
    check_param(
        "--out",
        str(out),
        "anxin cases outcomes",
        "a .csv, .parquet or .json file",
        suffix in (".csv", ".parquet", ".json"),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(out, index=False, encoding="utf-8")
    elif suffix == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_json(
            out, orient="records", force_ascii=False, date_format="iso", indent=1
        )


@cases_app.command("outcomes")
def outcomes_cmd(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Write to FILE (.csv, .parquet, .json).")
    ],
    db: DbOpt = None,
) -> None:
    """Export verified outcomes (confirmed arrears and false alarms).

    Confirmed outcomes are new labels: merge them into events with
    anxin.cases.merge_outcomes before the next training run.

    Example: anxin cases outcomes --out outcomes.csv
    """
    with CaseStore(db) as store:
        frame = store.outcomes()
    _write_frame(frame, out)
    confirmed = int((frame["outcome"] == "confirmed").sum())
    console.print(
        f"{len(frame)} outcomes ({confirmed} confirmed, {len(frame) - confirmed} "
        f"false alarms) -> {out}"
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

    Example: anxin cases history --out history.csv
    """
    with CaseStore(db) as store:
        path = store.export_history(out, case_id)
        n = len(store.history(case_id))
    console.print(f"{n} history rows -> {path}")


def _print_stats(stats: FieldStats) -> None:
    rate = "-" if stats.hit_rate is None else f"{stats.hit_rate:.1%}"
    median = (
        "-"
        if stats.median_hours_to_close is None
        else f"{stats.median_hours_to_close:.1f} h"
    )
    console.print(
        f"cases {stats.n_cases}, open {stats.n_open}, overdue {stats.n_overdue}; "
        f"verified {stats.n_verified}, confirmed {stats.n_confirmed}, hit rate "
        f"{rate}; median time to close {median}"
    )
    levels = _table("Hit rate by level / 分级命中率")
    for column in ("level", "verified", "confirmed", "false alarms", "hit rate"):
        levels.add_column(column)
    for rec in stats.by_level.reset_index().to_dict("records"):
        levels.add_row(
            styled(str(rec["level"])),
            str(rec["verified"]),
            str(rec["confirmed"]),
            str(rec["false_alarm"]),
            "-" if pd.isna(rec["hit_rate"]) else f"{rec['hit_rate']:.1%}",
        )
    console.print(levels)
    models = _table("Hit rate by model / 分模型命中率")
    for column in ("model", "version", "verified", "confirmed", "hit rate"):
        models.add_column(column)
    for model in stats.by_model.to_dict("records"):
        models.add_row(
            str(model["model_name"]),
            str(model["model_version"]),
            str(model["verified"]),
            str(model["confirmed"]),
            f"{model['hit_rate']:.1%}",
        )
    console.print(models)
    states = _table("Cases by state / 各环节案件数")
    states.add_column("state")
    states.add_column("cases", justify="right")
    for state, count in stats.by_status.to_dict().items():
        states.add_row(str(state), str(count))
    console.print(states)


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
    with CaseStore(db) as store:
        stats = store.stats(now)
        run_id = log_field_performance(store, tracking_uri, now=now) if mlflow else None
    if as_json:
        console.print_json(json.dumps(stats.metrics()))
    else:
        _print_stats(stats)
    if run_id is not None:
        console.print(f"logged to MLflow run {run_id}")
