"""Rendering results for people (rich tables); computation lives elsewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console

from anxin._console import Table
from anxin.levels import LEVEL_SHORT_ZH, styled

if TYPE_CHECKING:
    from anxin.validation import ValidationReport


def validation(console: Console, report: ValidationReport) -> None:
    """Print row counts per table and breaches per rule."""
    from anxin.validation import RULE_DESCRIPTIONS

    table = Table(title="Validation / 数据校验", show_lines=False)
    table.add_column("table")
    table.add_column("rows in", justify="right")
    table.add_column("valid", justify="right")
    table.add_column("quarantined", justify="right")
    for name, n_in in report.rows_in.items():
        bad = len(report.quarantined_rows.get(name, ()))
        style = "yellow" if bad else ""
        table.add_row(
            name,
            f"{n_in:,d}",
            f"{report.rows_valid[name]:,d}",
            f"{bad:,d}",
            style=style,
        )
    for name in report.absent_tables:
        table.add_row(name, "-", "-", "-", style="dim")
    console.print(table)
    counts = report.counts()
    if not counts.empty:
        rules = Table(title="Quarantined rows by rule / 隔离原因")
        for col in ("table", "rule", "rows", "meaning"):
            rules.add_column(col, justify="right" if col == "rows" else "left")
        for rec in counts.itertuples():
            rules.add_row(
                str(rec.table),
                str(rec.rule),
                f"{rec.rows:,d}",
                RULE_DESCRIPTIONS.get(str(rec.rule), ""),
            )
        console.print(rules)
    for name, cols in report.extra_columns.items():
        console.print(f"[dim]{name}: extra columns kept but not used: {cols}[/dim]")
    console.print(
        f"[green]usable[/green]: {report.n_quarantined:,d} rows quarantined"
        if report.n_quarantined
        else "[green]usable[/green]: no breaches"
    )


def _f(value: object, digits: int = 4) -> str:
    try:
        return f"{float(value):.{digits}f}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)


def training(console: Console, result: Any) -> None:
    """Print splits, the model-vs-baselines table and where the run went."""
    console.print(f"[bold]splits[/bold]: {result.splits}")
    cols = [
        "auc",
        "ap",
        "ks",
        "brier",
        "recall_at_1pct",
        "recall_at_5pct",
        "precision_at_5pct",
        "recall_at_10pct",
    ]
    table = Table(title="Test metrics / 测试集指标 (out of time)")
    table.add_column("scorer")
    for c in cols:
        table.add_column(c, justify="right")
    for name, row in result.comparison.iterrows():
        table.add_row(
            str(name),
            *(_f(row[c]) for c in cols),
            style="bold" if name == "model" else "",
        )
    console.print(table)
    if "rules_test_ap" in result.metrics:
        ratio = result.metrics["test_ap"] / max(result.metrics["rules_test_ap"], 1e-12)
        console.print(f"model AP = {ratio:.2f} x rules AP")
    console.print(f"best iteration {result.best_iteration}")
    if result.run_id:
        console.print(f"MLflow run {result.run_id} ({result.run_name})")
        if getattr(result, "run_link", None):
            console.print(f"in the MLflow UI: {_ui(result.run_link)}")
    if result.model_version:
        console.print(
            f"registered [bold]{result.model_name}[/bold] version "
            f"{result.model_version} with aliases {', '.join(result.aliases)}"
        )


def promotion(console: Console, decision: Any, alert_volume: float) -> None:
    """Print the challenger/champion comparison and the decision."""
    key = f"recall_at_{round(alert_volume * 100)}pct"
    table = Table(title=f"Promotion on {', '.join(decision.months)}")
    for c in ("role", "version", "ap", "auc", key, "positives", "rows"):
        table.add_column(c, justify="left" if c == "role" else "right")
    for role, row in decision.comparison.iterrows():
        table.add_row(
            str(role),
            str(row["version"]),
            _f(row["ap"]),
            _f(row["auc"]),
            _f(row[key]),
            _f(row["positives"], 0),
            _f(row["rows"], 0),
        )
    console.print(table)
    verdict = (
        "[green]promoted[/green]"
        if decision.promoted
        else "[yellow]kept champion[/yellow]"
    )
    console.print(f"{verdict}: {decision.reason}")
    if getattr(decision, "rule", ""):
        console.print(f"rule: {decision.rule}")
    if getattr(decision, "significance", ""):
        console.print(decision.significance)
    if getattr(decision, "report", None):
        console.print(
            f"report: {decision.report} (comparison run in anxin-comparisons)"
        )


def _ui(link: str) -> str:
    """A link into the MLflow UI; a relative one on ``mlflow ui``'s address."""
    if link.startswith("#"):
        return f"http://127.0.0.1:5000/{link} (after: mlflow ui)"
    return link


def comparison(
    console: Console,
    result: Any,
    *,
    report: Any = None,
    tracking_uri: str | None = None,
) -> None:
    """Print both models' figures, the differences with their intervals,
    which months, and where the comparison went."""
    from anxin import _mlflow_ui

    recall = f"recall_at_{round(result.alert_volume * 100)}pct"
    precision = recall.replace("recall", "precision")
    cols = ("version", "auc", "gini", "ap", recall, precision, "ece")
    table = Table(title=f"{result.b.label} vs {result.a.label}")
    table.add_column("model")
    for c in cols:
        table.add_column(c, justify="right")
    for label, row in result.metrics.iterrows():
        table.add_row(str(label), str(row["version"]), *(_f(row[c]) for c in cols[1:]))
    console.print(table)
    boot = result.bootstrap
    diffs = Table(
        title=f"B minus A, {boot.level:.0%} intervals (paired bootstrap, "
        f"{boot.n_boot:,d} resamples of {boot.clusters:,d} enterprises)"
    )
    for c in ("metric", "difference", "low", "high", "significant", "B better"):
        diffs.add_column(c, justify="left" if c == "metric" else "right")
    for metric, rec in boot.table.iterrows():
        diffs.add_row(
            str(metric),
            f"{rec['difference']:+.4f}",
            f"{rec['low']:+.4f}",
            f"{rec['high']:+.4f}",
            "[bold]yes[/bold]" if rec["significant"] else "no",
            f"{rec['b_better']:.0%}",
        )
    console.print(diffs)
    console.print(
        f"months: {result.why_months}; {result.y.size:,d} enterprise-months, "
        f"{int(result.y.sum()):,d} positives"
    )
    if result.run_id:
        base = _mlflow_ui.ui_base(tracking_uri)
        link = _mlflow_ui.run_link(str(result.experiment_id), result.run_id, base)
        console.print(f"comparison run {result.run_id}: {_ui(link)}")
        console.print(f"report: runs:/{result.run_id}/report.html")
    if report is not None:
        console.print(f"report -> {report}/report.html, {report}/report.md")


class steps:
    """Context manager giving a ``step(name)`` callback that shows progress.

    On a terminal a progress bar shows the step, how many are done and the
    time elapsed. In a log (a pipe or a file) every step prints one line when
    it ends, so a log never jumps from step 1 to step 3.
    """

    #: The steps of a scoring run, in order (a bar needs its total up front).
    SCORING = (
        "load model",
        "read tables",
        "validate",
        "features",
        "predict",
        "explain",
        "drift",
        "write",
        "write summary",
        "log",
    )

    def __init__(self, console: Console, names: tuple[str, ...] = SCORING) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console, self.total = console, len(names)
        self.bar = console.is_terminal
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not self.bar,
        )
        self.task = self.progress.add_task("starting", total=len(names))
        self._current: tuple[str, float] | None = None
        self._done = 0

    def __enter__(self) -> Any:
        self.progress.__enter__()
        return self._step

    def _finish_current(self) -> None:
        import time

        if self._current is None:
            return
        name, start = self._current
        self._done += 1
        if self.bar:
            self.progress.advance(self.task)
        else:
            took = time.perf_counter() - start
            self.console.print(f"step {self._done}/{self.total} {name}: {took:.1f} s")
        self._current = None

    def _step(self, name: str) -> None:
        import time

        self._finish_current()
        self._current = (name, time.perf_counter())
        self.progress.update(self.task, description=name)

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is None:
            self._finish_current()
        self.progress.update(self.task, completed=self.progress.tasks[0].total)
        self.progress.__exit__(*exc)


def warnings_table(scores: Any, top: int, title: str) -> Table:
    """The top warnings with their reasons in Chinese and English."""
    table = Table(title=title, show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("enterprise / 企业")
    table.add_column("level / 等级")
    table.add_column("risk", justify="right")
    table.add_column("reasons / 预警原因")
    rows = scores.sort_values("rank").head(top)
    for rec in rows.itertuples():
        level = str(rec.risk_level)
        zh = (
            "\n".join(f"• {r['text_zh']}" for r in rec.reasons)
            if len(rec.reasons)
            else "-"
        )
        en = (
            "\n".join(f"  {r['text_en']}" for r in rec.reasons)
            if len(rec.reasons)
            else ""
        )
        table.add_row(
            str(rec.rank),
            f"{rec.enterprise_id}\n{rec.industry} {rec.region}",
            styled(level),
            f"{rec.risk_score:.1%}",
            f"{zh}\n[dim]{en}[/dim]",
        )
    return table


_VERDICT_STYLE = {"stable": "green", "watch": "yellow", "act": "red"}


def drift_line(drift: dict[str, Any]) -> str:
    """One line a person can act on: the verdict, what moved, the volume."""
    verdict = drift.get("verdict", "stable")
    style = _VERDICT_STYLE.get(verdict, "")
    moved = ", ".join(
        f"{t['feature']} {t['psi']:.2f} ({t['verdict']})"
        for t in drift.get("top", [])[:3]
    )
    volume = ""
    if drift.get("reference_alert_share"):
        volume = (
            f"; warnings {drift['alert_share']:.1%} of enterprises against "
            f"{drift['reference_alert_share']:.1%} in training "
            f"(x{drift['alert_volume_ratio']:.2f})"
        )
    return (
        f"[{style}]drift (漂移): {verdict}[/{style}] — score PSI "
        f"{drift['psi_score']:.2f}; most moved: {moved or '-'}{volume}. "
        "PSI < 0.10 stable, 0.10-0.25 watch, >= 0.25 act."
    )


def scoring(console: Console, result: Any, top: int) -> None:
    """Print level counts, drift, quarantine and the top warnings."""
    s = result.summary
    counts = Table(
        title=f"Warnings for {s['as_of']} / 预警等级分布 "
        f"(model {s['model_name']} v{s['model_version']})"
    )
    for lvl in ("red", "orange", "yellow", "none"):
        counts.add_column(f"{LEVEL_SHORT_ZH[lvl]} {lvl}", justify="right")
    counts.add_row(
        *(f"{s['levels'][lvl]:,d}" for lvl in ("red", "orange", "yellow", "none"))
    )
    console.print(counts)
    if s["quarantine"]["rows"]:
        console.print(
            f"[yellow]quarantined rows: {s['quarantine']['rows']:,d}[/yellow] "
            f"(see {result.out_dir / 'quarantine.csv'})"
        )
    console.print(drift_line(s["drift"]))
    if top:
        console.print(warnings_table(result.scores, top, "Top warnings / 重点预警企业"))
    console.print(f"written to {result.out_dir}")


def case_queue(console: Console, queue: Any, top: int) -> None:
    """Print the first cases of the queue."""
    table = Table(title="Case queue / 待派单案件")
    for col in ("id", "enterprise_id", "level", "unit", "grid", "due"):
        table.add_column(col)
    for rec in queue.head(top).to_dict("records"):
        level = str(rec.get("level", "none"))
        table.add_row(
            str(rec.get("id", rec.get("case_id", ""))),
            str(rec.get("enterprise_id", "")),
            styled(level),
            str(rec.get("unit", "")),
            str(rec.get("grid", "")),
            str(rec.get("due_at", rec.get("deadline", ""))),
        )
    console.print(table)
    if len(queue) > top:
        console.print(f"... and {len(queue) - top:,d} more (anxin cases list)")
