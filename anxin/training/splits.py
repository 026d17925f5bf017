"""Out-of-time splits by as-of month, and the rows that fall in each.

Training, validation and test are consecutive ranges of as-of months with a
gap of ``horizon`` months between them, so that no training label window
(``t+1 .. t+horizon``) reaches a later split.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from anxin._calendar import to_index, to_period
from anxin._params import check_horizon, check_param
from anxin.exceptions import InvalidParameterError

__all__ = [
    "SPLIT_NAMES",
    "SplitData",
    "SplitRows",
    "Splits",
    "make_splits",
    "split_rows",
]

#: The three splits, in time order.
SPLIT_NAMES = ("train", "valid", "test")


@dataclasses.dataclass(frozen=True)
class Splits:
    """As-of month ranges (inclusive) of the three splits.

    Between consecutive splits there is a gap of ``horizon`` months, so no
    training label window (``t+1 .. t+horizon``) reaches a later split.

    Examples
    --------
    >>> s = Splits(("2023-01", "2023-12"), ("2024-04", "2024-06"),
    ...     ("2024-10", "2024-12"), horizon=3)
    >>> s.assign(["2023-05", "2024-02", "2024-05", "2024-11"]).tolist()
    ['train', '', 'valid', 'test']
    """

    train: tuple[str, str]
    valid: tuple[str, str]
    test: tuple[str, str]
    horizon: int

    def assign(self, periods: pd.Series | np.ndarray | list[str]) -> np.ndarray:
        """Split name of each period (``""`` for gap months)."""
        p = np.asarray(periods, dtype=object).astype(str)
        out = np.full(p.shape, "", dtype=object)
        for name in SPLIT_NAMES:
            lo, hi = getattr(self, name)
            out[(p >= lo) & (p <= hi)] = name
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ranges and horizon (stored in the model's spec)."""
        return {
            "train": list(self.train),
            "valid": list(self.valid),
            "test": list(self.test),
            "horizon": self.horizon,
        }

    def __str__(self) -> str:
        return (
            f"train {self.train[0]}..{self.train[1]} | gap {self.horizon} | "
            f"valid {self.valid[0]}..{self.valid[1]} | gap {self.horizon} | "
            f"test {self.test[0]}..{self.test[1]}"
        )


def make_splits(
    periods: pd.Series | np.ndarray | list[str],
    *,
    horizon: int = 3,
    valid_months: int = 3,
    test_months: int = 3,
    min_train_months: int = 6,
) -> Splits:
    """Out-of-time splits over the labelled as-of months.

    The test split is the last ``test_months`` labelled months; validation is
    the ``valid_months`` before it, ``horizon`` months earlier; training is
    everything up to ``horizon`` months before validation.

    Parameters
    ----------
    periods : array-like of str
        As-of months (YYYY-MM) of the labelled rows; repeats are fine.
    horizon : int, default 3
        Months ahead (1-12), and the gap between consecutive splits.
    valid_months, test_months : int, default 3
        Length of the validation and test splits.
    min_train_months : int, default 6
        Fewest training months accepted.

    Returns
    -------
    Splits

    Raises
    ------
    InvalidParameterError
        If a length is out of range or the history is too short.

    Examples
    --------
    >>> months = [f"2023-{m:02d}" for m in range(1, 13)] + [
    ...     f"2024-{m:02d}" for m in range(1, 13)]
    >>> print(make_splits(months, horizon=3))
    train 2023-01..2023-12 | gap 3 | valid 2024-04..2024-06 | gap 3 | test 2024-10..2024-12
    """  # noqa: E501
    check_horizon(horizon, "make_splits")
    for name, value in (("valid_months", valid_months), ("test_months", test_months)):
        check_param(
            name,
            value,
            "make_splits",
            "an int >= 1",
            isinstance(value, int) and value >= 1,
        )
    idx = sorted({to_index(str(p)) for p in pd.unique(np.asarray(periods))})
    if not idx:
        raise InvalidParameterError("No labelled months to split.")
    last = idx[-1]
    test = (last - test_months + 1, last)
    valid = (test[0] - horizon - valid_months, test[0] - horizon - 1)
    train_end = valid[0] - horizon - 1
    train_start = idx[0]
    n_train = train_end - train_start + 1
    if n_train < min_train_months:
        have = last - idx[0] + 1
        need = min_train_months + valid_months + test_months + 2 * horizon
        raise InvalidParameterError(
            f"Not enough labelled history for out-of-time splits: {have} months "
            f"({to_period(idx[0])}..{to_period(last)}); "
            f"{need} are needed for {min_train_months} training months, "
            f"{valid_months} validation and {test_months} test months with "
            f"{horizon}-month gaps. Supply more history or lower "
            "--valid-months / --test-months.",
            parameter="periods",
        )
    return Splits(
        train=(to_period(train_start), to_period(train_end)),
        valid=(to_period(valid[0]), to_period(valid[1])),
        test=(to_period(test[0]), to_period(test[1])),
        horizon=horizon,
    )


@dataclasses.dataclass(frozen=True)
class SplitRows:
    """The rows of one split: feature columns, 0/1 labels and as-of months."""

    x: pd.DataFrame
    y: np.ndarray
    months: np.ndarray


@dataclasses.dataclass(frozen=True)
class SplitData:
    """The rows of the three splits (see :func:`split_rows`)."""

    train: SplitRows
    valid: SplitRows
    test: SplitRows

    def rows(self) -> dict[str, int]:
        """Number of rows per split."""
        return {name: len(getattr(self, name).y) for name in SPLIT_NAMES}

    def positives(self) -> dict[str, int]:
        """Number of positive labels per split."""
        return {name: int(getattr(self, name).y.sum()) for name in SPLIT_NAMES}


def split_rows(frame: pd.DataFrame, features: list[str], splits: Splits) -> SplitData:
    """Take the rows of each split out of a labelled frame.

    Parameters
    ----------
    frame : DataFrame
        ``period``, ``label`` and the ``features`` columns.
    features : list of str
        The columns that go into each split's ``x``.
    splits : Splits

    Returns
    -------
    SplitData

    Raises
    ------
    InvalidParameterError
        If a split has no rows or no positives.

    Examples
    --------
    >>> frame = pd.DataFrame({"period": ["2024-01", "2024-02", "2024-03"] * 2,
    ...     "label": [1, 1, 1, 0, 0, 0], "x": range(6)})
    >>> s = Splits(("2024-01", "2024-01"), ("2024-02", "2024-02"),
    ...     ("2024-03", "2024-03"), horizon=1)
    >>> split_rows(frame, ["x"], s).test.x["x"].tolist()
    [2, 5]
    """
    part = splits.assign(frame["period"])
    taken = {}
    for name in SPLIT_NAMES:
        mask = part == name
        # one take per split (rows and feature columns together: no second copy)
        rows = SplitRows(
            x=frame.loc[mask, features],
            y=frame.loc[mask, "label"].to_numpy(),
            months=frame.loc[mask, "period"].to_numpy(),
        )
        if len(rows.y) == 0 or rows.y.sum() == 0:
            raise InvalidParameterError(
                f"The {name} split ({'..'.join(getattr(splits, name))}) "
                f"has {len(rows.y)} rows and {int(rows.y.sum())} positives; every "
                "split needs positives. Supply more history or change the splits.",
                parameter="splits",
            )
        taken[name] = rows
    return SplitData(**taken)
