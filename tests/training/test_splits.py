"""Out-of-time splits: gaps of a horizon, the rows of each split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin import InvalidParameterError, make_splits
from anxin._calendar import index_to_periods, to_index
from anxin.training.splits import Splits, split_rows


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
    n = 6 + valid + test + 2 * horizon + extra
    splits = make_splits(
        _months(n), horizon=horizon, valid_months=valid, test_months=test
    )
    tr_end, va_lo, va_hi, te_lo = (
        to_index(splits.train[1]),
        to_index(splits.valid[0]),
        to_index(splits.valid[1]),
        to_index(splits.test[0]),
    )
    # no training label window (t, t+h] reaches the validation months, and
    # exactly h months lie between the splits
    assert tr_end + horizon < va_lo and va_lo - tr_end - 1 == horizon
    assert va_hi + horizon < te_lo and te_lo - va_hi - 1 == horizon
    assert splits.test[1] == _months(n)[-1]
    assert va_hi - va_lo + 1 == valid
    assigned = splits.assign(np.array(_months(n)))
    assert (assigned == "test").sum() == test
    assert (assigned == "").sum() == 2 * horizon


def test_too_little_history_is_explained() -> None:
    with pytest.raises(InvalidParameterError, match="Not enough labelled history"):
        make_splits(_months(12), horizon=3)


def test_the_shortest_history_that_splits() -> None:
    # 6 training months + 3 + 3 + two gaps of 3
    splits = make_splits(_months(18), horizon=3)
    assert splits.train == ("2022-01", "2022-06")
    with pytest.raises(InvalidParameterError, match="18 are needed"):
        make_splits(_months(17), horizon=3)


@pytest.mark.parametrize("name", ["valid_months", "test_months"])
def test_split_lengths_are_checked(name: str) -> None:
    with pytest.raises(
        InvalidParameterError, match=f"The '{name}' parameter of make_splits"
    ):
        make_splits(_months(30), **{name: 0})  # type: ignore[arg-type]


def test_splits_describe_themselves() -> None:
    splits = make_splits(_months(24), horizon=2, valid_months=2, test_months=1)
    assert splits.to_dict() == {
        "train": ["2022-01", "2023-05"],
        "valid": ["2023-08", "2023-09"],
        "test": ["2023-12", "2023-12"],
        "horizon": 2,
    }
    assert str(splits) == (
        "train 2022-01..2023-05 | gap 2 | valid 2023-08..2023-09 | gap 2 | "
        "test 2023-12..2023-12"
    )


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


def test_a_split_without_positives_is_explained() -> None:
    frame = _frame()
    frame.loc[frame["period"] == "2022-02", "label"] = 0
    with pytest.raises(
        InvalidParameterError,
        match=r"The valid split \(2022-02..2022-02\) has 3 rows and 0 positives",
    ):
        split_rows(frame, ["x"], SPLITS)
