"""The model card: a Markdown summary logged with every training run."""

from __future__ import annotations

from typing import Any

import pandas as pd

from anxin.levels import LevelPolicy
from anxin.model import ModelSpec

HEADLINE = [
    "auc",
    "ap",
    "ks",
    "brier",
    "log_loss",
    "recall_at_1pct",
    "recall_at_5pct",
    "precision_at_5pct",
    "recall_at_10pct",
]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _table(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for rec in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v) for v in rec) + " |")
    return "\n".join(lines)


def model_card(
    *,
    splits: Any,
    comparison: pd.DataFrame,
    slices: dict[str, pd.DataFrame],
    lift: pd.DataFrame,
    group_importance: pd.DataFrame,
    policy: LevelPolicy,
    spec: ModelSpec,
    rows: dict[str, int],
    positives: dict[str, int],
    alert_volume: float,
) -> str:
    """Render the card."""
    comp = comparison[[c for c in HEADLINE if c in comparison]].reset_index(
        names="scorer"
    )
    table: dict[str, dict[str, float]] = {
        str(k): {str(c): float(v) for c, v in row.items()}
        for k, row in comparison.iterrows()
    }
    model_ap = table["model"]["ap"]
    has_rules = "rules" in table
    rules_ap = table["rules"]["ap"] if has_rules else float("nan")
    ratio = model_ap / rules_ap if has_rules and rules_ap else float("nan")
    vol = f"recall_at_{round(alert_volume * 100)}pct"
    data = pd.DataFrame(
        {
            "split": list(rows),
            "as-of months": ["..".join(getattr(splits, s)) for s in rows],
            "rows": list(rows.values()),
            "positives": list(positives.values()),
        }
    )
    window = spec.info.get("data_window", ["?", "?"])
    return "\n".join(
        [
            "# Model card: wage-arrears risk / 欠薪风险模型",
            "",
            "## What it predicts / 预测目标",
            "",
            f"The calibrated probability that an enterprise has a **confirmed "
            f"wage-arrears case within the next {spec.horizon} months** "
            f"(企业未来{spec.horizon}个月内发生经核实的欠薪案件的概率), from "
            "payroll and social insurance, tax, electricity, complaints and "
            "litigation data, and the enterprise's own arrears history.",
            "",
            "## Data and splits / 数据与划分",
            "",
            f"Data window {window[0]}..{window[1]}; {len(spec.features)} features "
            f"({len(spec.categorical)} categorical). Splits are out of time with "
            f"a {spec.horizon}-month gap between them, so no training label "
            "window reaches validation or test.",
            "",
            _table(data),
            "",
            "## Test metrics against baselines / 与现行规则对比",
            "",
            "`rules` is the weighted rule score bureaus run today (calibrated on "
            "validation for the probability metrics); `logreg` is a logistic "
            "regression on the same features. Recall and precision at N% are "
            "over the top N% of enterprises of each month.",
            "",
            _table(comp),
            "",
            (
                f"Model AP is **{ratio:.2f}x** the rule score's. At the promotion "
                f"volume ({alert_volume:.0%}) the model's {vol} is "
                f"{table['model'][vol]:.3f} against the rules' "
                f"{table['rules'][vol]:.3f}."
                if has_rules
                else "The data lack the rule features, so there is no rule baseline."
            ),
            "",
            "## Warning levels / 预警等级",
            "",
            f"Policy `{policy.kind}`: red >= {policy.red:.4f}, orange >= "
            f"{policy.orange:.4f}, yellow >= {policy.yellow:.4f} (chosen on "
            "validation to cover about the top 1%, next 2% and next 5%).",
            "",
            "## Slices / 分行业、分地区",
            "",
            "### By industry",
            "",
            _table(slices["industry"]),
            "",
            "### By region",
            "",
            _table(slices["region"]),
            "",
            "## Lift / 分位提升",
            "",
            _table(lift),
            "",
            "## What drives it / 主要风险因素 (mean |SHAP|)",
            "",
            _table(group_importance),
            "",
            "## Limitations / 局限",
            "",
            "- Labels are *confirmed* cases: arrears never reported or never "
            "confirmed are invisible, so the model learns what inspectors find.",
            "- Rows whose label window runs past the events data are censored "
            "and not used; the newest months therefore never train the model.",
            "- Enterprises without tax or electricity feeds are scored on fewer "
            "signals; their missing values are treated as unknown.",
            "- Probabilities are calibrated on the validation months; a shift in "
            "the economy or in inspection practice moves them. Watch the drift "
            "figures of every scoring run.",
            "- Slices with few positives have unstable metrics; see the counts.",
            "",
        ]
    )
