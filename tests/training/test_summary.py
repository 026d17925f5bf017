"""Names and descriptions that tell runs and versions apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin.training.summary import (
    default_run_name,
    headline_line,
    headline_table,
    run_description,
    version_description,
)

SPLITS = anxin.Splits(
    ("2022-07", "2025-03"), ("2025-07", "2025-09"), ("2026-01", "2026-03"), horizon=3
)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({}, "lgbm-h3-2022-07..2026-03-sigmoid"),
        ({"refit": True}, "lgbm-h3-2022-07..2026-03-sigmoid-refit"),
        ({"tune": 5, "seed": 1}, "lgbm-h3-2022-07..2026-03-sigmoid-tuned5-seed1"),
        (
            {"params": {"num_leaves": 31, "learning_rate": 0.1}},
            "lgbm-h3-2022-07..2026-03-sigmoid-learning_rate=0.1-num_leaves=31",
        ),
    ],
)
def test_run_names_say_what_differs(kwargs: dict[str, object], name: str) -> None:
    assert default_run_name(SPLITS, calibration="sigmoid", **kwargs) == name  # type: ignore[arg-type]


def test_run_names_fit_mlflow() -> None:
    params = {f"p{i}": "x" * 40 for i in range(20)}
    assert len(default_run_name(SPLITS, calibration="isotonic", params=params)) == 250


def test_the_headline_without_rules_and_with_missing_figures() -> None:
    table = pd.DataFrame(
        {
            "auc": [0.8, 0.7],
            "gini": [0.6, 0.4],
            "ap": [0.3, np.nan],
            "recall_at_10pct": [0.5, 0.4],
            "precision_at_10pct": [0.1, 0.08],
        },
        index=["model", "logreg"],
    )
    assert headline_line(table, 0.1) == (
        "AP 0.300 · AUC 0.800 (Gini 0.600) · recall at 10% 0.500"
    )
    md = headline_table(table, 0.1).splitlines()
    assert md[0] == "| test, out of time | model | logreg |"
    assert "| AP (PR-AUC) | 0.300 | n/a |" in md
    assert "| precision at 10% | 0.100 | 0.080 |" in md
    assert not any(line.startswith("| KS") for line in md)  # not in the table


def test_the_run_description_of_a_training(quick: anxin.TrainResult) -> None:
    text = run_description(quick, alert_volume=0.05, calibration="sigmoid")
    lines = text.splitlines()
    assert lines[0] == headline_line(quick.comparison, 0.05)
    assert lines[0].startswith("AP ") and " vs rules " in lines[0]
    assert "| test, out of time | model | rules | logreg |" in lines
    assert "Calibration (sigmoid) on test: ECE " in text
    assert "Warning levels on test: red " in text
    assert f"Per test month (AUC/AP): {quick.splits.test[0]} " in text
    assert f"best iteration {quick.best_iteration}; refitted" in text  # the default
    assert len(text) <= 8000


def test_the_version_description_links_run_and_card(
    quick: anxin.TrainResult,
) -> None:
    text = version_description(
        quick,
        alert_volume=0.05,
        data_window="2023-07..2026-06",
        run_link="#/run",
        card_link="#/card",
    )
    assert text.startswith(
        "**LightGBM, horizon 3 months**, trained on 2023-07..2026-06"
    )
    assert f"(test {quick.splits.test[0]}..{quick.splits.test[1]}, out of time)" in text
    assert headline_line(quick.comparison, 0.05) in text
    assert f"[Training run {quick.run_name}](#/run) · [Model card](#/card)" in text
    assert len(text) <= 5000
