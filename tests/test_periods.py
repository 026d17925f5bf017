"""Periods of any cadence: months, quarters, years, dates; clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anxin import ContractError
from anxin.periods import default_horizon, parse_periods, period_text, unit


@pytest.mark.parametrize(
    ("values", "freq", "text"),
    [
        (["2024-03", "2024-12"], "M", ["2024-03", "2024-12"]),
        (["2024Q1", "2024-Q4", "2025q2"], "Q", ["2024Q1", "2024Q4", "2025Q2"]),
        (["2014", " 2015 "], "Y", ["2014", "2015"]),
        # a float year as text is a year, not December of the year before
        (["2014.0", "2015.0"], "Y", ["2014", "2015"]),
        ([2014, 2015], "Y", ["2014", "2015"]),
        ([2014.0, 2015.0], "Y", ["2014", "2015"]),
    ],
)
def test_text_and_numbers_carry_their_cadence(
    values: list[object], freq: str, text: list[str]
) -> None:
    periods = parse_periods(values)
    assert periods.freq == freq and not periods.inferred
    assert periods.text().tolist() == text


def test_positions_count_in_the_cadence() -> None:
    quarters = parse_periods(["2023Q4", "2024Q1", "2024Q3"])
    assert np.diff(quarters.position).tolist() == [1, 2]
    months = parse_periods(["2023-12", "2024-01"])
    assert np.diff(months.position).tolist() == [1]
    assert period_text(quarters.position, "Q").tolist() == [
        "2023Q4",
        "2024Q1",
        "2024Q3",
    ]


def test_pandas_periods_keep_their_frequency() -> None:
    values = pd.Series(pd.period_range("2023Q3", periods=3, freq="Q"))
    periods = parse_periods(values)
    assert periods.freq == "Q" and periods.text().tolist() == [
        "2023Q3",
        "2023Q4",
        "2024Q1",
    ]


@pytest.mark.parametrize(
    ("dates", "entities", "freq"),
    [
        # one row per firm and fiscal year, year ends in March or December
        (
            ["2019-03-31", "2020-03-31", "2019-12-31", "2020-12-31"],
            ["a", "a", "b", "b"],
            "Y",
        ),
        (["2020-03-31", "2020-06-30", "2020-09-30"], ["a", "a", "a"], "Q"),
        (["2020-01-31", "2020-02-29", "2020-03-31"], ["a", "a", "a"], "M"),
    ],
)
def test_the_cadence_of_dates_is_inferred_from_each_entity(
    dates: list[str], entities: list[str], freq: str
) -> None:
    periods = parse_periods(dates, entities=pd.Series(entities))
    assert periods.freq == freq and periods.inferred
    assert "inferred" in periods.describe()


def test_dates_are_grouped_by_a_declared_freq() -> None:
    dates = pd.to_datetime(["2020-02-15", "2020-11-30", "2021-01-02"])
    periods = parse_periods(dates, freq="Q")
    assert periods.text().tolist() == ["2020Q1", "2020Q4", "2021Q1"]
    assert not periods.inferred
    assert parse_periods(dates, freq="Y").text().tolist() == ["2020", "2020", "2021"]


@pytest.mark.parametrize(
    ("values", "kwargs", "match"),
    [
        (
            ["2014-13"],
            {},
            r"column 'fyear': 1 value\(s\) are not periods, e.g. '2014-13'",
        ),
        (["2014-3"], {}, "e.g. '2014-3'. Write months as YYYY-MM"),
        (["2014", "2014-03"], {}, "mixes cadences .*yearly '2014'.*monthly '2014-03'"),
        ([2014.5], {}, "e.g. 2014.5. Numbers are read as years"),
        (["2014", None], {}, r"1 row\(s\) have no period"),
        (["2014Q1"], {"freq": "M"}, "holds quarterly periods .* freq='M'"),
        (
            ["2020-01-01", "2020-01-02"],
            {"entities": pd.Series(["a", "a"])},
            "entity 'a' has two dates in one month",
        ),
        (["2020-06-30", "2020-06-30"], {}, "every date falls in one month"),
    ],
)
def test_malformed_or_ambiguous_periods_name_the_column_and_a_value(
    values: list[object], kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ContractError, match=match) as err:
        parse_periods(values, column="fyear", **kwargs)  # type: ignore[arg-type]
    assert err.value.column == "fyear"


def test_horizons_and_units() -> None:
    assert [default_horizon(f) for f in ("M", "Q", "Y")] == [3, 1, 1]
    assert unit("Q", 1) == "1 quarter" and unit(None, 2) == "2 periods"
