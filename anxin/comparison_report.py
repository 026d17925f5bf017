"""The report of a comparison of two models, for people: charts, tables,
Markdown and a self-contained HTML file.

:func:`write_report` writes what a comparison run logs: ``plots/`` (ROC, PR,
calibration and lift curves of both models overlaid, warning levels, the
months, the differences with their intervals), ``tables/``, ``report.md``
and ``report.html`` -- the same report with the plots embedded, a single
file that can be mailed to someone who will never open MLflow.
:func:`summary` is its first paragraph (the run's description).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anxin.metrics import lift_table, volume_key

if TYPE_CHECKING:
    from anxin.comparison import Comparison

__all__ = ["PLOTS", "markdown", "render_html", "summary", "write_report"]

#: The charts of a report, in report order: file name -> caption.
PLOTS = {
    "differences.png": "Differences (B minus A) with their confidence intervals, "
    "and per month",
    "roc.png": "ROC curves",
    "pr.png": "Precision-recall curves",
    "calibration.png": "Calibration (log scales; bin counts below)",
    "lift.png": "Decile lift",
    "levels.png": "Warning levels: enterprises per month and precision",
    "months.png": "AUC and AP per month",
}

_NAMES = {"ap": "AP", "auc": "AUC"}
_LEVEL_COLUMNS = (
    "model",
    "level",
    "per_month",
    "volume",
    "precision",
    "recall",
    "cum_precision",
    "cum_recall",
)


def _metric_name(key: str) -> str:
    if key.startswith("recall_at_"):
        return f"recall at {key.removeprefix('recall_at_').removesuffix('pct')}%"
    return _NAMES.get(key, key)


def _signed(value: float, digits: int = 4) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:+.{digits}f}"


def _interval(rec: Any, level: float) -> str:
    verdict = "significant" if rec["significant"] else "not significant"
    return (
        f"{_signed(rec['difference'])} ({level:.0%} CI {_signed(rec['low'])} to "
        f"{_signed(rec['high'])}, {verdict})"
    )


def difference_lines(comparison: Comparison) -> list[str]:
    """One line per compared metric: B and A, the difference, its interval."""
    boot = comparison.bootstrap
    return [
        f"{_metric_name(str(metric))}: {rec['b']:.4f} vs {rec['a']:.4f}, "
        + _interval(rec, boot.level)
        for metric, rec in boot.table.iterrows()
    ]


def summary(comparison: Comparison, decision: Any = None) -> str:
    """The report's first paragraph (Markdown): who was compared on which
    months, the differences with their intervals, and the decision."""
    c = comparison
    lines = [
        f"**{c.b.label}** vs **{c.a.label}** on {c.why_months}; "
        f"{c.y.size:,d} enterprise-months, {int(c.y.sum()):,d} positives. "
        "Differences are B minus A.",
        "",
        *(f"- {line}" for line in difference_lines(c)),
    ]
    if decision is not None:
        lines += ["", _decision_line(decision)]
    return "\n".join(lines)


def _decision_parts(decision: Any) -> tuple[str, str]:
    """The verdict and what follows it: the reason, the rule, the significance."""
    verdict = "promoted" if decision.promoted else "not promoted"
    rest = [f"{decision.reason}."]
    if rule := getattr(decision, "rule", ""):
        rest.append(f"Rule: {rule}")
    if significance := getattr(decision, "significance", ""):
        rest.append(significance)
    return f"Decision: {verdict}.", " ".join(rest)


def _decision_line(decision: Any) -> str:
    head, rest = _decision_parts(decision)
    return f"**{head}** {rest}"


def _tables(c: Comparison) -> dict[str, pd.DataFrame]:
    recall = volume_key(c.alert_volume)
    keep = [
        "version",
        "rows",
        "positives",
        "auc",
        "gini",
        "ap",
        "ks",
        "brier",
        recall,
        volume_key(c.alert_volume, "precision"),
        "ece",
        "calibration_slope",
        "calibration_intercept",
    ]
    metrics = c.metrics[[k for k in keep if k in c.metrics.columns]].astype(
        {"rows": int, "positives": int}
    )
    return {
        "differences": c.bootstrap.table.reset_index(),
        "metrics": metrics.rename_axis("model").reset_index(),
        "months": c.monthly,
        "levels": c.levels[list(_LEVEL_COLUMNS)],
    }


def markdown(
    comparison: Comparison, decision: Any = None, *, images: bool = True
) -> str:
    """The whole report in Markdown (charts linked as ``plots/*.png``)."""
    from anxin.training.model_card import markdown_table

    c, tables = comparison, _tables(comparison)
    parts = [
        f"# {c.b.label} vs {c.a.label}",
        "",
        summary(c, decision),
        "",
        "## Differences with confidence intervals",
        "",
        markdown_table(tables["differences"]),
        "",
        _method(c),
        "",
        "## Metrics on the same rows",
        "",
        markdown_table(tables["metrics"]),
        "",
        "## Per month",
        "",
        markdown_table(tables["months"]),
        "",
        "## Warning levels (each model under its own thresholds)",
        "",
        markdown_table(tables["levels"]),
        "",
        f"Models: A = {c.a.label} (`{c.a.uri}`), B = {c.b.label} (`{c.b.uri}`).",
    ]
    if images:
        parts += ["", "## Charts", ""]
        parts += [f"![{caption}](plots/{name})" for name, caption in PLOTS.items()]
    return "\n".join(parts) + "\n"


def _method(c: Comparison) -> str:
    boot = c.bootstrap
    return (
        f"Intervals: paired bootstrap, {boot.n_boot:,d} resamples of the "
        f"{boot.clusters:,d} enterprises (all months of a drawn enterprise "
        "together; both models scored on the same drawn rows), percentile "
        f"{boot.level:.0%} intervals, seed {boot.seed}. A difference is "
        "significant when its interval excludes 0; b_better is the share of "
        "resamples in which B was better."
    )


_STYLE = """
body { font-family: -apple-system, "Segoe UI", "Noto Sans CJK SC", sans-serif;
       max-width: 1100px; margin: 2em auto; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figure img { max-width: 520px; border: 1px solid #eee; }
figure.wide img { max-width: 1000px; }
figcaption { font-size: 0.85em; color: #555; }
.decision { background: #fff7e0; padding: 0.6em 1em; border-left: 4px solid #e0a000; }
"""


def render_html(
    comparison: Comparison, images: dict[str, bytes], decision: Any = None
) -> str:
    """The report as one HTML page with the charts embedded (no links out)."""
    c, tables = comparison, _tables(comparison)
    esc = html.escape

    def table(frame: pd.DataFrame) -> str:
        return frame.to_html(index=False, float_format=lambda v: f"{v:.4f}", border=0)

    items = "".join(f"<li>{esc(line)}</li>" for line in difference_lines(c))
    decision_html = ""
    if decision is not None:
        head, rest = _decision_parts(decision)
        decision_html = (
            f'<p class="decision"><strong>{esc(head)}</strong> {esc(rest)}</p>'
        )
    figures = "".join(
        f'<figure class="{"wide" if name == "differences.png" else ""}">'
        f'<img alt="{esc(caption)}" src="data:image/png;base64,'
        f'{base64.b64encode(images[name]).decode("ascii")}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
        for name, caption in PLOTS.items()
        if name in images
    )
    title = f"{c.b.label} vs {c.a.label}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>{esc(title)}</h1>
<p>Scored on {esc(c.why_months)}: {c.y.size:,d} enterprise-months,
{int(c.y.sum()):,d} positives. Differences are B ({esc(c.b.label)}) minus A
({esc(c.a.label)}).</p>
<ul>{items}</ul>
{decision_html}
<h2>Differences with confidence intervals</h2>
{table(tables["differences"])}
<p>{esc(_method(c))}</p>
<h2>Metrics on the same rows</h2>
{table(tables["metrics"])}
<h2>Per month</h2>
{table(tables["months"])}
<h2>Warning levels (each model under its own thresholds)</h2>
{table(tables["levels"])}
<h2>Charts</h2>
{figures}
<p>Models: A = {esc(c.a.label)} (<code>{esc(c.a.uri)}</code>), B =
{esc(c.b.label)} (<code>{esc(c.b.uri)}</code>).</p>
</body></html>
"""


def write_report(
    comparison: Comparison, out: Path, decision: Any = None
) -> dict[str, Path]:
    """Write ``plots/``, ``tables/``, ``report.md`` and ``report.html`` into
    ``out``; returns name -> path of what was written."""
    c = comparison
    plots = _plots(c, out / "plots")
    tables_dir = out / "tables"
    tables_dir.mkdir(parents=True, exist_ok=True)
    written = {f"plots/{p.name}": p for p in plots}
    for name, frame in _tables(c).items():
        path = tables_dir / f"{name}.csv"
        frame.to_csv(path, index=False)
        written[f"tables/{name}.csv"] = path
    diffs = tables_dir / "bootstrap_differences.csv"
    c.bootstrap.differences.to_csv(diffs, index=False)
    written["tables/bootstrap_differences.csv"] = diffs
    md = out / "report.md"
    md.write_text(markdown(c, decision), encoding="utf-8")
    page = out / "report.html"
    images = {p.name: p.read_bytes() for p in plots}
    page.write_text(render_html(c, images, decision), encoding="utf-8")
    return {**written, "report.md": md, "report.html": page}


def _plots(c: Comparison, out: Path) -> list[Path]:
    from anxin.training.plots import (
        calibration_chart,
        levels_chart,
        lift_chart,
        months_chart,
        pr_chart,
        roc_chart,
    )

    out.mkdir(parents=True, exist_ok=True)
    y, scores = c.y, c.scores
    levels = {ref.label: c.levels[c.levels["model"] == ref.label] for ref in (c.a, c.b)}
    monthly = pd.concat(
        [
            c.monthly[["month", f"{side}_auc", f"{side}_ap"]]
            .set_axis(["month", "auc", "ap"], axis=1)
            .assign(scorer=ref.label)
            for side, ref in (("a", c.a), ("b", c.b))
        ]
    )
    return [
        _differences_chart(out / "differences.png", c),
        roc_chart(out / "roc.png", y, scores, title="ROC"),
        pr_chart(out / "pr.png", y, scores, title="Precision-recall"),
        calibration_chart(out / "calibration.png", y, scores, title="Calibration"),
        lift_chart(
            out / "lift.png",
            {k: lift_table(y, s) for k, s in scores.items()},
            title="Decile lift",
        ),
        levels_chart(out / "levels.png", levels, title="Warning levels"),
        months_chart(out / "months.png", monthly, title="AUC and AP per month"),
    ]


def _differences_chart(path: Path, c: Comparison) -> Path:
    """Left: each difference with its interval; right: per month."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.8))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    table = c.bootstrap.table
    ys = np.arange(len(table))[::-1]
    for y_pos, (_, rec) in zip(ys, table.iterrows(), strict=True):
        color = "C2" if rec["low"] > 0 else "C3" if rec["high"] < 0 else "C7"
        left.errorbar(
            rec["difference"],
            y_pos,
            xerr=[[rec["difference"] - rec["low"]], [rec["high"] - rec["difference"]]],
            fmt="o",
            color=color,
            capsize=4,
        )
    left.axvline(0, color="k", lw=0.8)
    left.set_yticks(ys, [_metric_name(str(m)) for m in table.index])
    level = f"{c.bootstrap.level:.0%}"
    left.set(xlabel=f"B minus A ({level} interval)", title="Overall")
    months = c.monthly["month"].astype(str).tolist()
    x = np.arange(len(months))
    right.bar(x - 0.2, c.monthly["diff_ap"], width=0.4, label="AP")
    right.bar(x + 0.2, c.monthly["diff_auc"], width=0.4, label="AUC")
    right.axhline(0, color="k", lw=0.8)
    right.set_xticks(x, months, rotation=45)
    right.set(title="Per month", ylabel="B minus A")
    right.legend(fontsize=8)
    fig.suptitle(f"{c.b.label} minus {c.a.label}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path
