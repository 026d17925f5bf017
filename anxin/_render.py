"""Rendering results for people (rich tables); computation lives elsewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from anxin.validation import ValidationReport


def validation(console: Console, report: ValidationReport) -> None:
    """Print row counts per table and breaches per rule."""
    from anxin.validation import RULES

    table = Table(title="Validation / 数据校验", show_lines=False)
    table.add_column("table")
    table.add_column("rows in", justify="right")
    table.add_column("valid", justify="right")
    table.add_column("quarantined", justify="right")
    for name, n_in in report.rows_in.items():
        bad = len(report.quarantined_rows.get(name, ()))
        style = "yellow" if bad else ""
        table.add_row(name, f"{n_in:,d}", f"{report.rows_valid[name]:,d}",
                      f"{bad:,d}", style=style)
    for name in report.absent_tables:
        table.add_row(name, "-", "-", "-", style="dim")
    console.print(table)
    counts = report.counts()
    if not counts.empty:
        rules = Table(title="Quarantined rows by rule / 隔离原因")
        for col in ("table", "rule", "rows", "meaning"):
            rules.add_column(col, justify="right" if col == "rows" else "left")
        for rec in counts.itertuples():
            rules.add_row(str(rec.table), str(rec.rule), f"{rec.rows:,d}",
                          RULES.get(str(rec.rule), ""))
        console.print(rules)
    for name, cols in report.extra_columns.items():
        console.print(f"[dim]{name}: extra columns kept but not used: {cols}[/dim]")
    console.print(
        f"[green]usable[/green]: {report.n_quarantined:,d} rows quarantined"
        if report.n_quarantined
        else "[green]usable[/green]: no breaches"
    )
