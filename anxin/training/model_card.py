"""The model card: a Markdown summary logged with every training run.

:func:`model_card` renders what training measured (splits, the comparison
with the baselines, levels, slices, lift, importance) and the model's known
limitations, in English with Chinese headings.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from anxin.levels import LevelPolicy
from anxin.model import ModelSpec
from anxin.periods import unit
from anxin.training.splits import Splits

__all__ = ["HEADLINE", "markdown_table", "model_card"]

#: The metrics of the card's comparison table, in order.
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

LIMITATIONS = [
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
]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    """A Markdown table of ``frame`` (floats to 4 decimals, no index).

    Examples
    --------
    >>> print(markdown_table(pd.DataFrame({"split": ["test"], "ap": [0.25]})))
    | split | ap |
    |---|---|
    | test | 0.2500 |
    """
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for rec in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v) for v in rec) + " |")
    return "\n".join(lines)


def model_card(
    *,
    splits: Splits,
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
    """Render the card.

    Parameters
    ----------
    splits : Splits
    comparison : DataFrame
        Test metrics per scorer (index ``model``, optionally ``rules``,
        ``logreg``).
    slices : dict
        ``industry`` and ``region`` -> test metrics per slice.
    lift, group_importance : DataFrame
        Decile lift on test; mean |SHAP| per reason group.
    policy : LevelPolicy
    spec : ModelSpec
        Features, horizon and ``info["data_window"]``.
    rows, positives : dict
        Split name -> count, in table order.
    alert_volume : float
        The promotion volume whose recall the card quotes.

    Returns
    -------
    str
        Markdown.
    """
    return "\n".join(
        [
            "# Model card: wage-arrears risk / 欠薪风险模型",
            "",
            *_target(spec),
            *_data(spec, splits, rows, positives),
            *_comparison(comparison, alert_volume),
            *_levels(policy),
            *_slices(slices),
            "## Lift / 分位提升",
            "",
            markdown_table(lift),
            "",
            "## What drives it / 主要风险因素 (mean |SHAP|)",
            "",
            markdown_table(group_importance),
            "",
            "## Limitations / 局限",
            "",
            *LIMITATIONS,
            "",
        ]
    )


def _target(spec: ModelSpec) -> list[str]:
    columns = spec.info.get("columns") or {}
    if spec.info.get("source") == "frame":
        freq = spec.info.get("freq")
        ahead = f" {unit(freq, spec.horizon)} ahead" if freq else ""
        return [
            "## What it predicts / 预测目标",
            "",
            f"The calibrated probability that **`{columns.get('label')}` is 1** "
            f"(as the data define it{ahead}) for each "
            f"{'entity' if columns.get('entity') else 'row'}, from the "
            f"{len(spec.features)} feature columns of the prepared frame.",
            "",
        ]
    return [
        "## What it predicts / 预测目标",
        "",
        f"The calibrated probability that an enterprise has a **confirmed "
        f"wage-arrears case within the next {spec.horizon} months** "
        f"(企业未来{spec.horizon}个月内发生经核实的欠薪案件的概率), from "
        "payroll and social insurance, tax, electricity, complaints and "
        "litigation data, and the enterprise's own arrears history.",
        "",
    ]


def _data(
    spec: ModelSpec,
    splits: Splits,
    rows: dict[str, int],
    positives: dict[str, int],
) -> list[str]:
    data = pd.DataFrame(
        {
            "split": list(rows),
            "as-of periods": [splits.describe(s) for s in rows],
            "rows": list(rows.values()),
            "positives": list(positives.values()),
        }
    )
    window = spec.info.get("data_window", ["?", "?"])
    columns = spec.info.get("columns") or {}
    read = f" Periods: {columns['periods']}." if columns.get("periods") else ""
    if columns.get("weight"):
        read += (
            f" Rows are weighted by the column `{columns['weight']}`: the "
            "negatives were down-sampled, each kept one standing for "
            "`weight` rows (负样本降采样与权重). LightGBM, early stopping, "
            "calibration, the level thresholds and the test metrics below use "
            "the weights; the row counts are of the rows as sampled."
        )
    missing = spec.info.get("nonfinite") or {}
    if missing:
        read += (
            f" {sum(missing.values())} infinite value(s) in {len(missing)} "
            "feature(s) were read as missing."
        )
    return [
        "## Data and splits / 数据与划分",
        "",
        f"Data window {window[0]}..{window[1]}; {len(spec.features)} features "
        f"({len(spec.categorical)} categorical).{read} {_how_split(splits)}",
        "",
        markdown_table(data),
        "",
    ]


def _how_split(splits: Splits) -> str:
    """Whether the evaluation is out of time, in one or two sentences."""
    if splits.out_of_time:
        gap = splits.horizon - 1
        apart = f"{unit(splits.freq, gap)} apart" if gap else "back to back"
        return (
            f"Splits are out of time, {apart}: the last training period's "
            "label window ends where validation begins, so no training label "
            "looks into validation or test."
        )
    where = (
        "a stratified share of the rows"
        if splits.kind == "stratified"
        else f"the rows marked test in `{splits.column}`"
    )
    folds = (
        f" Validation is by {splits.folds} stratified folds of the training rows."
        if splits.folds
        else ""
    )
    return (
        f"**This evaluation is not out of time**: the test rows are {where}, "
        "from the same periods as the training rows, so the test metrics say "
        "how well the model ranks rows like those it learnt from, not how "
        f"it will do on a later period.{folds}"
    )


def _comparison(comparison: pd.DataFrame, alert_volume: float) -> list[str]:
    comp = comparison[[c for c in HEADLINE if c in comparison]].reset_index(
        names="scorer"
    )
    return [
        "## Test metrics against baselines / 与现行规则对比",
        "",
        "`rules` is the weighted rule score bureaus run today (calibrated on "
        "validation for the probability metrics); `logreg` is a logistic "
        "regression on the same features. Recall and precision at N% are "
        "over the top N% of enterprises of each month.",
        "",
        markdown_table(comp),
        "",
        _against_rules(comparison, alert_volume),
        "",
    ]


def _against_rules(comparison: pd.DataFrame, alert_volume: float) -> str:
    """The model's AP and recall at the alert volume against the rules'."""
    table: dict[str, dict[str, float]] = {
        str(k): {str(c): float(v) for c, v in row.items()}
        for k, row in comparison.iterrows()
    }
    if "rules" not in table:
        return "The data lack the rule features, so there is no rule baseline."
    model, rules = table["model"], table["rules"]
    ratio = model["ap"] / rules["ap"] if rules["ap"] else float("nan")
    vol = f"recall_at_{round(alert_volume * 100)}pct"
    return (
        f"Model AP is **{ratio:.2f}x** the rule score's. At the promotion "
        f"volume ({alert_volume:.0%}) the model's {vol} is "
        f"{model[vol]:.3f} against the rules' {rules[vol]:.3f}."
    )


def _levels(policy: LevelPolicy) -> list[str]:
    return [
        "## Warning levels / 预警等级",
        "",
        f"Policy `{policy.kind}`: red >= {policy.red:.4f}, orange >= "
        f"{policy.orange:.4f}, yellow >= {policy.yellow:.4f} (chosen on "
        "validation to cover about the top 1%, next 2% and next 5%).",
        "",
    ]


def _slices(slices: dict[str, pd.DataFrame]) -> list[str]:
    return [
        "## Slices / 分行业、分地区",
        "",
        "### By industry",
        "",
        markdown_table(slices["industry"]),
        "",
        "### By region",
        "",
        markdown_table(slices["region"]),
        "",
    ]
