"""The report of a comparison: charts, tables, Markdown, self-contained HTML."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anxin.bootstrap import paired_bootstrap
from anxin.comparison import ComparedModel, Comparison
from anxin.comparison_report import PLOTS, markdown, render_html, summary, write_report
from anxin.metrics import calibration_stats, evaluate, level_table, monthly_metrics


@dataclasses.dataclass
class Decision:
    promoted: bool
    reason: str
    rule: str = "promote when better."
    significance: str = "Differences: ap +0.1: significant."


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    """Two scores of constructed rows: B sees more of the outcome than A."""
    rng = np.random.default_rng(0)
    n = 3000
    y = (rng.random(n) < 0.05).astype(int)
    months = np.repeat(["2026-01", "2026-02", "2026-03"], n // 3)
    enterprises = np.tile(np.arange(n // 3), 3)
    a = 1 / (1 + np.exp(-(-3.5 + 1.0 * y + rng.normal(size=n))))
    b = 1 / (1 + np.exp(-(-3.5 + 2.0 * y + rng.normal(size=n))))
    labels, frames, levels = {}, [], []
    for label, p in (("champion v1", a), ("challenger v2", b)):
        labels[label] = {**evaluate(y, p, months), **calibration_stats(y, p)}
        frames.append(monthly_metrics(y, p, months))
        cuts = np.quantile(p, [0.92, 0.97, 0.99])
        lv = np.select([p >= cuts[2], p >= cuts[1], p >= cuts[0]], [*"roy"], "n")
        names = pd.Series(lv).map({"r": "red", "o": "orange", "y": "yellow"})
        levels.append(level_table(y, names.to_numpy(), months).assign(model=label))
    monthly = frames[0][["month", "rows", "positives"]].copy()
    for key in ("auc", "ap", "recall_at_5pct"):
        monthly[f"a_{key}"] = frames[0][key]
        monthly[f"b_{key}"] = frames[1][key]
        monthly[f"diff_{key}"] = frames[1][key] - frames[0][key]
    metrics = pd.DataFrame.from_dict(labels, orient="index").assign(version=["1", "2"])
    return Comparison(
        a=ComparedModel("champion v1", "models:/m/1", "1"),
        b=ComparedModel("challenger v2", "models:/m/2", "2"),
        months=["2026-01", "2026-02", "2026-03"],
        why_months="2026-01..2026-03 (3 months): the latest labelled months",
        alert_volume=0.05,
        metrics=metrics,
        monthly=monthly,
        levels=pd.concat(levels, ignore_index=True),
        bootstrap=paired_bootstrap(
            y, a, b, months, clusters=enterprises, n_boot=200, seed=1
        ),
        y=y,
        scores={"champion v1": a, "challenger v2": b},
    )


def test_the_summary_states_each_difference_with_its_interval(
    comparison: Comparison,
) -> None:
    text = summary(comparison, Decision(True, "AP better"))
    first = text.splitlines()[0]
    assert first.startswith("**challenger v2** vs **champion v1** on 2026-01..2026-03")
    assert "3,000 enterprise-months" in first
    table = comparison.difference
    ap = table.loc["ap"]
    assert (
        f"- AP: {ap['b']:.4f} vs {ap['a']:.4f}, {ap['difference']:+.4f} "
        f"(95% CI {ap['low']:+.4f} to {ap['high']:+.4f}, significant)"
    ) in text
    assert "- recall at 5%:" in text and "- AUC:" in text
    assert "**Decision: promoted.** AP better. Rule: promote when better." in text
    assert "Decision" not in summary(comparison)


def test_write_report_writes_charts_tables_and_both_reports(
    comparison: Comparison, tmp_path: Path
) -> None:
    written = write_report(comparison, tmp_path, decision=Decision(False, "worse"))
    assert {f"plots/{name}" for name in PLOTS} <= set(written)
    for name in PLOTS:
        assert (tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    differences = pd.read_csv(tmp_path / "tables" / "differences.csv")
    assert differences["metric"].tolist() == ["ap", "auc", "recall_at_5pct"]
    levels = pd.read_csv(tmp_path / "tables" / "levels.csv")
    assert set(levels["model"]) == {"champion v1", "challenger v2"}
    assert len(pd.read_csv(tmp_path / "tables" / "bootstrap_differences.csv")) == 200
    md = (tmp_path / "report.md").read_text("utf-8")
    assert md.startswith("# challenger v2 vs champion v1\n")
    assert "**Decision: not promoted.** worse" in md
    page = (tmp_path / "report.html").read_text("utf-8")
    assert "<strong>Decision: not promoted.</strong> worse." in page
    assert "**" not in page  # Markdown emphasis is not left raw in the HTML
    assert "| metric | a | b | difference | low | high | significant | b_better |" in md
    assert "paired bootstrap, 200 resamples of the 1,000 enterprises" in md
    for name in PLOTS:
        assert f"(plots/{name})" in md


def test_the_html_report_is_one_self_contained_file(
    comparison: Comparison, tmp_path: Path
) -> None:
    write_report(comparison, tmp_path)
    page = (tmp_path / "report.html").read_text("utf-8")
    assert page.startswith("<!doctype html>")
    # every chart embedded; nothing fetched from anywhere
    assert page.count('src="data:image/png;base64,') == len(PLOTS)
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert "<table" in page and "challenger v2 vs champion v1" in page
    assert "Decision" not in page


def test_text_is_escaped_in_html(comparison: Comparison) -> None:
    odd = dataclasses.replace(
        comparison, b=ComparedModel("<b>x</b>", "models:/m/2", "2")
    )
    page = render_html(odd, {}, Decision(True, "a < b & c"))
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "a &lt; b &amp; c" in page
    assert markdown(odd, images=False).count("plots/") == 0
