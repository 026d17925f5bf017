"""The weighted rule score bureaus run today, as a baseline.

Points are added for each warning sign an inspector would check by hand.
The score is computed from the feature panel, so the comparison with the
model uses exactly the same rows and the same information.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

__all__ = ["BUREAU_RULES", "Rule", "rule_score"]


@dataclasses.dataclass(frozen=True)
class Rule:
    """One warning sign: ``points`` when ``feature`` ``op`` ``value``."""

    name: str
    points: int
    feature: str
    op: str
    value: float
    zh: str

    def fires(self, frame: pd.DataFrame) -> np.ndarray:
        """Whether the sign shows in each row (never where the value is missing)."""
        x = frame[self.feature].to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            hit = x >= self.value if self.op == ">=" else x <= self.value
        return hit & ~np.isnan(x)


#: The warning signs bureaus score by hand today, with their points (as
#: commonly used in county early-warning): the rule baseline of training.
BUREAU_RULES: tuple[Rule, ...] = (
    Rule("si_underpaid_2m", 3, "si_gap_streak", ">=", 2, "社保连续两个月欠缴"),
    Rule(
        "headcount_drop_20pct",
        2,
        "headcount_chg_1m",
        "<=",
        -0.2,
        "参保人数单月下降20%以上",
    ),
    Rule(
        "electricity_drop_50pct",
        2,
        "electricity_chg_1m",
        "<=",
        -0.5,
        "用电量单月下降50%以上",
    ),
    Rule("tax_arrears", 1, "tax_arrears", ">=", 0.01, "存在欠税"),
    Rule("complaint", 2, "complaints_3m", ">=", 1, "近3个月有投诉举报"),
    Rule("pay_delay_30d", 2, "pay_delay_days", ">=", 30.01, "工资延迟发放超过30天"),
    Rule("new_lawsuit", 2, "lawsuits_3m", ">=", 1, "近3个月有新增劳动争议/诉讼"),
)


def rule_score(
    frame: pd.DataFrame, rules: tuple[Rule, ...] = BUREAU_RULES
) -> np.ndarray:
    """Points per row: the sum of the points of the rules that fire.

    Examples
    --------
    >>> f = pd.DataFrame({"si_gap_streak": [2, 0], "headcount_chg_1m": [-0.3, 0],
    ...     "electricity_chg_1m": [None, 0], "tax_arrears": [0, 10],
    ...     "complaints_3m": [1, 0], "pay_delay_days": [None, 31],
    ...     "lawsuits_3m": [0, 0]})
    >>> rule_score(f).tolist()
    [7.0, 3.0]
    """
    total = np.zeros(len(frame))
    for rule in rules:
        total += rule.points * rule.fires(frame)
    return total
