"""Splits: out of time in any cadence, split columns, stratified snapshots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin import InvalidParameterError, make_splits
from anxin._calendar import index_to_periods, to_index
from anxin.training.splits import Splits, split_rows, stratified_folds


def _months(n: int, start: str = "2022-01") -> list[str]:
    s = to_index(start)
    return list(index_to_periods(np.arange(s, s + n)))


@given(
    horizon=st.integers(1, 6),
    valid=st.integers(1, 4),
    test=st.integers(1, 4),
    extra=st.integers(0, 24),
)
def test_splits_keep_a_horizon_gap(
    horizon: int, valid: int, test: int, extra: int
) -> None:
    n = 6 + valid + test + 2 * (horizon - 1) + extra
    splits = make_splits(
        _months(n), horizon=horizon, valid_periods=valid, test_periods=test
    )
    tr_end, va_lo, va_hi, te_lo = (
        to_index(splits.train[1]),
        to_index(splits.valid[0]),
        to_index(splits.valid[1]),
        to_index(splits.test[0]),
    )
    # the last training label window (t, t+h] ends where validation begins:
    # h - 1 months lie between the splits, and no label looks into the next
    assert tr_end + horizon == va_lo and va_lo - tr_end - 1 == horizon - 1
    assert va_hi + horizon == te_lo
    assert splits.test[1] == _months(n)[-1]
    assert va_hi - va_lo + 1 == valid
    assigned = splits.assign(np.array(_months(n)))
    assert (assigned == "test").sum() == test
    assert (assigned == "").sum() == 2 * (horizon - 1)


def test_too_little_history_is_explained_in_python_names() -> None:
    with pytest.raises(InvalidParameterError, match="Not enough labelled history") as e:
        make_splits(_months(12), horizon=3)
    assert "valid_periods / test_periods" in str(e.value)
    assert "--valid-months" not in str(e.value)


def test_the_shortest_history_that_splits() -> None:
    # 6 training months + 3 + 3 + two gaps of 2
    splits = make_splits(_months(16), horizon=3)
    assert splits.train == ("2022-01", "2022-06")
    with pytest.raises(InvalidParameterError, match="16 are needed"):
        make_splits(_months(15), horizon=3)


@pytest.mark.parametrize("name", ["valid_periods", "test_periods"])
def test_split_lengths_are_checked(name: str) -> None:
    with pytest.raises(
        InvalidParameterError, match=f"The '{name}' parameter of make_splits"
    ):
        make_splits(_months(30), **{name: 0})  # type: ignore[arg-type]


def test_splits_describe_themselves() -> None:
    splits = make_splits(_months(24), horizon=2, valid_periods=2, test_periods=1)
    assert splits.to_dict() == {
        "train": ["2022-01", "2023-07"],
        "valid": ["2023-09", "2023-10"],
        "test": ["2023-12", "2023-12"],
        "horizon": 2,
        "freq": "M",
        "kind": "time",
    }
    assert str(splits) == (
        "train 2022-01..2023-07 | gap 1 | valid 2023-09..2023-10 | gap 1 | "
        "test 2023-12..2023-12 (monthly)"
    )


@pytest.mark.parametrize(
    ("periods", "horizon", "expected"),
    [
        # yearly: one year ahead, no gap; a year each for test and validation
        (
            [str(y) for y in range(2008, 2015)],
            None,
            (("2008", "2012"), ("2013", "2013"), ("2014", "2014"), 1),
        ),
        # quarterly: the default horizon is one quarter
        (
            [f"{y}Q{q}" for y in (2020, 2021, 2022) for q in (1, 2, 3, 4)],
            None,
            (("2020Q1", "2022Q2"), ("2022Q3", "2022Q3"), ("2022Q4", "2022Q4"), 1),
        ),
        # quarterly, two quarters ahead: a one-quarter gap
        (
            [f"{y}Q{q}" for y in (2020, 2021, 2022) for q in (1, 2, 3, 4)],
            2,
            (("2020Q1", "2021Q4"), ("2022Q2", "2022Q2"), ("2022Q4", "2022Q4"), 2),
        ),
    ],
)
def test_each_cadence_counts_in_its_own_periods(
    periods: list[str], horizon: int | None, expected: tuple[object, ...]
) -> None:
    splits = make_splits(periods, horizon=horizon)
    assert (splits.train, splits.valid, splits.test, splits.horizon) == expected


def test_windows_grow_until_they_hold_enough_positives() -> None:
    # 30 months, 10 positives a month: 300 in all, so each window wants 30
    months = _months(30)
    periods = np.repeat(months, 100)
    labels = np.tile(np.r_[np.ones(10), np.zeros(90)], 30)
    splits = make_splits(periods, horizon=3, labels=labels)
    assert (splits.test, splits.valid) == (
        ("2024-04", "2024-06"),
        ("2023-11", "2024-01"),
    )
    # with 2 positives a month the windows hold 8 months (30 / 2 rounded up),
    # at most a fifth of the history (6 months)
    labels = np.tile(np.r_[np.ones(2), np.zeros(98)], 30)
    splits = make_splits(periods, horizon=3, labels=labels)
    assert splits.test == ("2024-01", "2024-06")
    assert to_index(splits.valid[1]) - to_index(splits.valid[0]) + 1 == 6


def test_yearly_data_get_a_year_each_not_months() -> None:
    # the bring-your-own case of the issue: 5 years of a yearly panel
    years = np.repeat(["2010", "2011", "2012", "2013", "2014"], 1000)
    labels = np.tile(np.r_[np.ones(40), np.zeros(960)], 5)
    splits = make_splits(years, labels=labels)
    assert (
        str(splits) == "train 2010..2012 | valid 2013..2013 | test 2014..2014 (yearly)"
    )


@pytest.mark.parametrize(
    ("ranges", "match"),
    [
        (
            (("2010", "2013"), ("2013", "2013"), ("2014", "2014")),
            "The splits overlap: train 2010..2013 and valid 2013..2013 share 2013",
        ),
        (
            (("2010", "2011"), ("2014", "2014"), ("2013", "2013")),
            "The splits overlap|out of order",
        ),
        (
            (("2012", "2010"), ("2013", "2013"), ("2014", "2014")),
            r"The train split runs backwards \(2012..2010\)",
        ),
        (
            (("2010-01", "2010-12"), ("2011", "2011"), ("2012", "2012")),
            "must be periods: column 'splits' mixes cadences",
        ),
        (
            (("2010-01", "2010-13"), ("2011-03", "2011-03"), ("2011-06", "2011-06")),
            "'2010-13'",
        ),
    ],
)
def test_bad_explicit_splits_are_explained(
    ranges: tuple[tuple[str, str], ...], match: str
) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        Splits(*ranges, horizon=1)


def test_splits_too_close_for_the_horizon_warn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    Splits(("2010", "2012"), ("2013", "2013"), ("2014", "2014"), horizon=2)
    assert "fewer than horizon - 1 = 1 periods between splits" in caplog.text


def _frame() -> pd.DataFrame:
    months = _months(4)
    return pd.DataFrame(
        {
            "period": months * 3,
            "label": [1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1],  # 2022-01..04, 3 times
            "x": np.arange(12.0),
            "other": "ignored",
        }
    )


SPLITS = Splits(
    ("2022-01", "2022-01"), ("2022-02", "2022-02"), ("2022-04", "2022-04"), 1
)


def test_split_rows_take_each_split_with_its_months() -> None:
    data = split_rows(_frame(), ["x"], SPLITS)
    assert list(data.train.x.columns) == ["x"]
    assert data.train.x["x"].tolist() == [0.0, 4.0, 8.0]
    assert data.valid.y.tolist() == [1, 0, 0]
    assert set(data.test.months) == {"2022-04"}
    assert data.rows() == {"train": 3, "valid": 3, "test": 3}
    assert data.positives() == {"train": 1, "valid": 1, "test": 2}


def test_stratified_folds_balance_the_positives() -> None:
    y = np.r_[np.ones(50), np.zeros(950)].astype(int)
    folds = stratified_folds(y, 5, seed=3)
    assert np.bincount(folds).tolist() == [200] * 5
    assert np.bincount(folds[y == 1]).tolist() == [10] * 5
    assert (folds == stratified_folds(y, 5, seed=3)).all()


def test_a_snapshot_holds_out_a_stratified_test_share() -> None:
    frame = pd.DataFrame(
        {"period": "", "label": np.r_[np.ones(50), np.zeros(450)], "x": 1.0}
    )
    splits = Splits(("", ""), ("", ""), ("", ""), 1, None, "stratified", folds=5)
    data = split_rows(frame, ["x"], splits, seed=0)
    assert data.rows() == {"train": 400, "valid": 400, "test": 100}
    assert data.positives() == {"train": 40, "valid": 40, "test": 10}
    assert data.folds is not None and set(data.folds) == {0, 1, 2, 3, 4}
    assert not splits.out_of_time
    assert splits.describe("test") == "stratified 20% of the rows"


def test_a_split_column_is_honoured() -> None:
    frame = _frame()
    marks = np.array(["test", "train", "valid", "train"] * 3, dtype=object)
    splits = Splits(("", ""), ("", ""), ("", ""), 1, "M", "column", "fold")
    data = split_rows(frame, ["x"], splits, split=marks)
    assert data.train.x["x"].tolist() == [1.0, 3.0, 5.0, 7.0, 9.0, 11.0]
    assert data.valid.x["x"].tolist() == [2.0, 6.0, 10.0]
    assert data.test.x["x"].tolist() == [0.0, 4.0, 8.0]
    assert data.folds is None


def test_a_split_without_positives_is_explained() -> None:
    frame = _frame()
    frame.loc[frame["period"] == "2022-02", "label"] = 0
    with pytest.raises(
        InvalidParameterError,
        match=r"The valid split \(2022-02..2022-02\) has 3 rows and 0 positives",
    ):
        split_rows(frame, ["x"], SPLITS)
