"""The model card says what training measured."""

from __future__ import annotations

import pandas as pd
import pytest

import anxin
from anxin.levels import LevelPolicy
from anxin.model import ModelSpec
from anxin.training import Splits
from anxin.training.model_card import HEADLINE, markdown_table, model_card

SPLITS = Splits(
    ("2023-01", "2024-06"), ("2024-10", "2024-12"), ("2025-04", "2025-06"), 3
)


def _comparison(rules: bool = True) -> pd.DataFrame:
    rows = {
        "model": {m: 0.5 for m in HEADLINE} | {"ap": 0.30, "recall_at_5pct": 0.62},
        "rules": {m: 0.4 for m in HEADLINE} | {"ap": 0.10, "recall_at_5pct": 0.41},
        "logreg": {m: 0.45 for m in HEADLINE} | {"rows": 900.0},
    }
    if not rules:
        del rows["rules"]
    return pd.DataFrame.from_dict(rows, orient="index")


def _card(comparison: pd.DataFrame, **over: object) -> str:
    slices = {
        kind: pd.DataFrame({kind: ["x", "y"], "rows": [10, 20], "auc": [0.7, 0.8]})
        for kind in ("industry", "region")
    }
    kwargs: dict[str, object] = {
        "splits": SPLITS,
        "comparison": comparison,
        "slices": slices,
        "lift": pd.DataFrame({"decile": [1, 2], "lift": [3.25, 0.5]}),
        "group_importance": pd.DataFrame(
            {"group": ["social_insurance", "tax"], "mean_abs_shap": [0.8, 0.1]}
        ),
        "policy": LevelPolicy("threshold", red=0.2, orange=0.05, yellow=0.01),
        "spec": ModelSpec(
            features=["a", "b", "industry"],
            categorical={"industry": ["x", "y"]},
            catalogue={},
            horizon=3,
            info={"data_window": ["2023-01", "2025-06"]},
        ),
        "rows": {"train": 1000, "valid": 200, "test": 210},
        "positives": {"train": 11, "valid": 3, "test": 4},
        "alert_volume": 0.05,
    }
    kwargs.update(over)
    return model_card(**kwargs)  # type: ignore[arg-type]


def test_the_card_has_every_section_in_order() -> None:
    card = _card(_comparison())
    headings = [line for line in card.splitlines() if line.startswith("#")]
    assert headings == [
        "# Model card: wage-arrears risk / 欠薪风险模型",
        "## What it predicts / 预测目标",
        "## Data and splits / 数据与划分",
        "## Test metrics against baselines / 与现行规则对比",
        "## Warning levels / 预警等级",
        "## Slices / 分行业、分地区",
        "### By industry",
        "### By region",
        "## Lift / 分位提升",
        "## What drives it / 主要风险因素 (mean |SHAP|)",
        "## Limitations / 局限",
    ]
    assert card.endswith("see the counts.\n")


def test_the_card_states_target_data_and_splits() -> None:
    card = _card(_comparison())
    assert "within the next 3 months** (企业未来3个月内" in card
    assert "Data window 2023-01..2025-06; 3 features (1 categorical)" in card
    assert "Splits are out of time, 2 months apart" in card
    assert "| split | as-of periods | rows | positives |" in card
    assert "| train | 2023-01..2024-06 | 1000 | 11 |" in card
    assert "| test | 2025-04..2025-06 | 210 | 4 |" in card


def test_the_card_compares_the_model_with_the_rules() -> None:
    card = _card(_comparison())
    header = "| scorer | " + " | ".join(HEADLINE) + " |"
    assert header in card  # only the headline metrics, in order ('rows' is not)
    assert "| model | 0.5000 | 0.3000 |" in card
    assert "Model AP is **3.00x** the rule score's." in card
    assert "the model's recall_at_5pct is 0.620 against the rules' 0.410." in card
    card10 = _card(_comparison(), alert_volume=0.1)
    assert "volume (10%) the model's recall_at_10pct is 0.500" in card10


def test_without_rules_the_card_says_so() -> None:
    card = _card(_comparison(rules=False))
    assert "The data lack the rule features, so there is no rule baseline." in card
    assert "| rules |" not in card and "Model AP is" not in card


def test_the_card_gives_levels_slices_lift_and_drivers() -> None:
    card = _card(_comparison())
    assert "Policy `threshold`: red >= 0.2000, orange >= 0.0500, yellow >= 0.0100" in (
        card
    )
    assert "| industry | rows | auc |\n|---|---|---|\n| x | 10 | 0.7000 |" in card
    assert "| region | rows | auc |" in card
    assert "| 1 | 3.2500 |" in card
    assert "| social_insurance | 0.8000 |" in card


def test_markdown_table_formats_floats_not_ints() -> None:
    table = markdown_table(pd.DataFrame({"n": [3], "share": [0.123456], "k": ["a"]}))
    assert table.splitlines() == [
        "| n | share | k |",
        "|---|---|---|",
        "| 3 | 0.1235 | a |",
    ]


def test_the_trained_card_quotes_the_result(
    trained: tuple[anxin.TrainResult, str],
) -> None:
    result, _ = trained
    ratio = result.metrics["test_ap"] / result.metrics["rules_test_ap"]
    assert f"Model AP is **{ratio:.2f}x** the rule score's" in result.card
    assert f"{result.splits.test[0]}..{result.splits.test[1]}" in result.card
    assert (
        f"| test | {'..'.join(result.splits.test)} | "
        f"{result.comparison.loc['model', 'rows']:.0f}" in (result.card)
    )
    assert result.card.count("\n| model |") == 1


@pytest.mark.parametrize("kind", ["industry", "region"])
def test_the_trained_card_holds_every_slice(
    trained: tuple[anxin.TrainResult, str], kind: str
) -> None:
    result, _ = trained
    assert markdown_table(result.slices[kind]) in result.card
