"""The bureau rules: the weighted score inspectors run today."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin import rules
from anxin.rules import BUREAU_RULES, Rule, rule_score


def test_the_bureau_rules_read_catalogue_features() -> None:
    names = [r.name for r in BUREAU_RULES]
    assert len(set(names)) == len(names) == 7
    assert all(r.points > 0 and r.op in (">=", "<=") for r in BUREAU_RULES)
    assert {r.feature for r in BUREAU_RULES} <= set(anxin.CATALOGUE)
    assert sum(r.points for r in BUREAU_RULES) == 14
    assert not hasattr(rules, "RULES")  # renamed: validation has its own table


@pytest.mark.parametrize(
    ("op", "values", "fires"),
    [
        (">=", [1.0, 2.0, 3.0, np.nan], [False, True, True, False]),
        ("<=", [1.0, 2.0, 3.0, np.nan], [True, True, False, False]),
    ],
)
def test_a_rule_fires_on_its_threshold_never_on_missing(
    op: str, values: list[float], fires: list[bool]
) -> None:
    rule = Rule("r", 1, "x", op, 2.0, "规则")
    assert rule.fires(pd.DataFrame({"x": values})).tolist() == fires


def test_rule_score_adds_the_points_of_the_rules_given() -> None:
    frame = pd.DataFrame({"complaints_3m": [0, 1, 3], "lawsuits_3m": [1, 0, 2]})
    some = tuple(r for r in BUREAU_RULES if r.feature in frame)
    np.testing.assert_array_equal(rule_score(frame, some), [2.0, 2.0, 4.0])
    with pytest.raises(KeyError):
        rule_score(frame)  # the full table needs every feature
