"""The feature catalogue: every feature explained, in both languages."""

from __future__ import annotations

import math
import re
import string

import pytest

from anxin import CATALOGUE, Feature
from anxin.catalogue import GROUPS, render_reason
from anxin.features import feature_names

FEATURES = list(CATALOGUE.values())
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_catalogue_is_the_panel() -> None:
    assert list(CATALOGUE) == feature_names()
    assert all(name == f.name for name, f in CATALOGUE.items())


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_each_feature_is_told_in_both_languages(feature: Feature) -> None:
    assert feature.group in GROUPS
    assert HAN.search(feature.zh) and HAN.search(feature.reason_zh)
    assert re.fullmatch(r"[ -~]+", feature.en) and re.fullmatch(
        r"[ -~]+", feature.reason_en
    )
    # templates name only fields the renderer provides: value, pct, direction,
    # or other features of the same row
    allowed = {"value", "pct", "dir_zh", "dir_en", *CATALOGUE}
    for template in (feature.reason_zh, feature.reason_en):
        used = {n for _, n, _, _ in string.Formatter().parse(template) if n}
        assert used <= allowed, used - allowed


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_each_reason_renders_for_typical_values(feature: Feature) -> None:
    value: object = "C" if feature.kind == "categorical" else 0.5
    zh, en = render_reason(feature, value, {n: 0.25 for n in CATALOGUE})
    assert "{" not in zh + en and "?" not in zh + en
    assert HAN.search(zh) and en


def test_missing_numbers_say_so() -> None:
    zh, en = render_reason(CATALOGUE["tax_arrears"], None)
    assert (zh, en) == ("欠税余额：数据缺失", "Outstanding tax arrears: no data")
    assert render_reason(CATALOGUE["tax_arrears"], math.nan)[1].endswith("no data")


def test_direction_follows_the_sign() -> None:
    assert "下降30%" in render_reason(CATALOGUE["headcount_chg_1m"], -0.3)[0]
    assert "上升30%" in render_reason(CATALOGUE["headcount_chg_1m"], 0.3)[0]


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_each_feature_says_what_its_missing_value_means(feature: Feature) -> None:
    assert feature.missing in ("unknown", "never", "not_applicable")
    zh, en = render_reason(feature, None)
    if feature.missing == "never":
        assert (zh, en) == (feature.missing_zh, feature.missing_en)
        assert HAN.search(zh) and en
    if feature.name.startswith("months_since"):
        # "no event yet" is not "no data"
        assert feature.missing == "never"
    if feature.context:
        assert feature.context in CATALOGUE and feature.context != feature.name
        assert feature.context_zh and feature.context_en


def test_a_level_says_why_it_matters() -> None:
    zh, en = render_reason(
        CATALOGUE["electricity_kwh"], 70.0, {"electricity_rel_mean_12m": -0.82}
    )
    assert zh == "当月用电70千瓦时，比本企业前12个月均值下降82%"
    assert en == "70 kWh used this month, down 82% against its own 12-month mean"
    # without the comparison, the level alone
    assert render_reason(CATALOGUE["electricity_kwh"], 70.0)[1] == (
        "70 kWh used this month"
    )


def test_missing_values_are_told_by_what_they_mean() -> None:
    never = render_reason(CATALOGUE["months_since_last_arrears"], None)
    assert "数据缺失" not in never[0] and "no data" not in never[1]
    assert "不适用" in render_reason(CATALOGUE["pay_delay_days"], None)[0]
    assert render_reason(CATALOGUE["tax_arrears"], None)[1].endswith("no data")
