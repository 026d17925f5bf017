"""How cases look on the terminal: tables and lines for ``anxin cases``.

Everything read from the store is printed as text, never as rich markup (a
name like ``[/x]`` would otherwise break the output), with control
characters -- escape sequences, carriage returns, bidirectional overrides --
shown escaped (``\\x1b``) instead of acted on by the terminal.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import pandas as pd
from rich import box
from rich.table import Table
from rich.text import Text

from anxin._console import console
from anxin.cases.integrity import IntegrityReport
from anxin.cases.outcomes import FieldStats
from anxin.cases.records import Case
from anxin.cases.states import CASE_LEVELS
from anxin.levels import styled

__all__ = [
    "case_table",
    "level_text",
    "plain",
    "print_integrity",
    "print_stats",
    "say",
    "titled_table",
    "when",
]

#: Characters a terminal would act on rather than show (escape sequences,
#: carriage returns, bidirectional overrides) and bytes that are not UTF-8.
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def plain(value: Any) -> Text:
    """Text from the store as it is: no markup, control characters escaped."""
    text = "-" if value is None else str(value)
    return Text(_UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text))


def level_text(level: Any) -> Text:
    """A level as ``红 red`` in its colour; anything else as plain text."""
    known = isinstance(level, str) and level in (*CASE_LEVELS, "none")
    return Text.from_markup(styled(level)) if known else plain(level)


def say(text: str) -> None:
    """Print a line that may hold user input (paths, names) as plain text."""
    console.print(plain(text), markup=False, highlight=False)


def when(value: Any, *, short: bool = False) -> str:
    """A time to the minute (``short``: without the year); ``-`` if missing."""
    if value is None or pd.isna(value):
        return "-"
    if isinstance(value, _dt.datetime):
        return value.strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M")
    return str(value)


def titled_table(title: str, **kwargs: Any) -> Table:
    """An empty table in the style of every ``anxin cases`` table."""
    return Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, **kwargs)


def case_table(case: Case) -> Table:
    """One case, field by field (``anxin cases show``)."""
    table = titled_table(f"Case / 案件 {case.id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    rows: list[tuple[str, Text]] = [
        ("enterprise / 企业", plain(case.enterprise_id)),
        (
            "status / 状态",
            plain(f"{case.status}  (next: {', '.join(case.allowed_next) or '-'})"),
        ),
        (
            "level / 等级",
            level_text(case.level)
            + plain(f"  score {case.score:.3f}  as of {case.as_of}"),
        ),
        ("model / 模型", plain(f"{case.model_name} v{case.model_version}")),
        ("unit / 责任单位", plain(case.unit)),
        ("grid / 网格", plain(case.grid or "-")),
        ("industry, region", plain(f"{case.industry or '-'}, {case.region or '-'}")),
        ("deadline / 时限", plain(f"{case.stage or '-'} due {when(case.due_at)}")),
        ("escalations / 督办", plain(case.escalations)),
        (
            "version",
            plain(
                f"{case.version} (changed {when(case.updated_at)} by {case.updated_by})"
            ),
        ),
    ]
    if case.outcome:
        figures = (
            f", {case.workers_affected} workers, {case.amount_owed:,.0f} CNY"
            if case.workers_affected is not None and case.amount_owed is not None
            else ""
        )
        rows.append(("outcome / 核查结果", plain(f"{case.outcome}{figures}")))
    for reason in case.reasons:
        text = reason.get("text_zh") or reason.get("text_en") or reason.get("feature")
        rows.append(("reason / 原因", plain(text)))
    for key, value in rows:
        table.add_row(key, value)
    return table


def print_stats(stats: FieldStats) -> None:
    """Field performance as a line and three tables (``anxin cases stats``)."""
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
    levels = titled_table("Hit rate by level / 分级命中率")
    for column in ("level", "verified", "confirmed", "false alarms", "hit rate"):
        levels.add_column(column)
    for rec in stats.by_level.reset_index().to_dict("records"):
        levels.add_row(
            level_text(rec["level"]),
            str(rec["verified"]),
            str(rec["confirmed"]),
            str(rec["false_alarm"]),
            "-" if pd.isna(rec["hit_rate"]) else f"{rec['hit_rate']:.1%}",
        )
    console.print(levels)
    models = titled_table("Hit rate by model / 分模型命中率")
    for column in ("model", "version", "verified", "confirmed", "hit rate"):
        models.add_column(column)
    for model in stats.by_model.to_dict("records"):
        models.add_row(
            plain(model["model_name"]),
            plain(model["model_version"]),
            str(model["verified"]),
            str(model["confirmed"]),
            f"{model['hit_rate']:.1%}",
        )
    console.print(models)
    states = titled_table("Cases by state / 各环节案件数")
    states.add_column("state")
    states.add_column("cases", justify="right")
    for state, count in stats.by_status.to_dict().items():
        states.add_row(str(state), str(count))
    console.print(states)


def print_integrity(report: IntegrityReport) -> None:
    """The verdict of ``anxin cases verify``: one line, or the problems."""
    if report.intact:
        console.print(
            f"[green]audit trail intact[/green]: {report.rows} history rows of "
            f"{len(report.cases)} cases; digest {report.digest}"
        )
        return
    table = titled_table("Tampering / 篡改痕迹")
    for column in ("case", "seq", "problem", "what was found"):
        table.add_column(column, no_wrap=column != "what was found")
    for p in report.problems:
        table.add_row(str(p.case_id), str(p.seq), p.kind, plain(p.message))
    console.print(table)
