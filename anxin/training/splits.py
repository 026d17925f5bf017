"""Splits: out of time by period, from a split column, or stratified folds.

Three kinds, one :class:`Splits`:

* ``time`` -- training, validation and test are consecutive ranges of
  periods (months, quarters or years: :mod:`anxin.periods`) with a gap of
  ``horizon - 1`` periods between them: the last training period's label
  window ends exactly where validation begins, which is what a bureau knows
  when it scores the first validation period. :func:`make_splits` sizes the
  windows from the number of periods and of positives.
* ``column`` -- the rows say which split they are in (a column holding
  ``train``, ``valid``, ``test``); without ``valid`` rows, validation is by
  stratified folds of the training rows.
* ``stratified`` -- a snapshot without periods: a seeded stratified test
  share, and stratified folds of the rest for early stopping and
  calibration. Such an evaluation is not out of time, and the model card
  says so.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from anxin._params import check_horizon, check_param
from anxin.exceptions import ContractError, InvalidParameterError
from anxin.periods import (
    FREQS,
    MONTHS,
    default_horizon,
    parse_periods,
    period_position,
    period_text,
    unit,
)

__all__ = [
    "FOLDS",
    "SPLIT_NAMES",
    "TEST_SHARE",
    "SplitData",
    "SplitRows",
    "Splits",
    "make_splits",
    "resolve_splits",
    "split_rows",
    "stratified_folds",
]

logger = logging.getLogger(__name__)

#: The three splits, in time order.
SPLIT_NAMES = ("train", "valid", "test")
#: Folds of the training rows when there is no validation split.
FOLDS = 5
#: Share of a snapshot's rows held out for test (stratified).
TEST_SHARE = 0.2
#: Kinds of splits.
KINDS = ("time", "column", "stratified")


@dataclasses.dataclass(frozen=True)
class Splits:
    """Which rows train, validate and test.

    Parameters
    ----------
    train, valid, test : tuple of str
        Period ranges (inclusive) of a ``time`` split, written as the data's
        periods (``2024-03``, ``2024Q1``, ``2024``); for the other kinds, the
        periods the rows of each split cover (``("", "")`` for a snapshot).
    horizon : int
        Periods ahead the labels look.
    freq : {"M", "Q", "Y"}, optional
        The cadence; read from the ranges when omitted.
    kind : {"time", "column", "stratified"}, default "time"
    column : str, optional
        The split column (kind ``column``).
    folds : int, default 0
        Stratified folds of the training rows that stand in for validation
        (0: a validation split exists).

    Raises
    ------
    InvalidParameterError
        If a range is malformed or reversed, or two splits overlap.

    Examples
    --------
    >>> s = Splits(("2023-01", "2023-12"), ("2024-03", "2024-05"),
    ...     ("2024-08", "2024-10"), horizon=3)
    >>> s.assign(["2023-05", "2024-02", "2024-05", "2024-09"]).tolist()
    ['train', '', 'valid', 'test']
    >>> print(Splits(("2010", "2012"), ("2013", "2013"), ("2014", "2014"), 1))
    train 2010..2012 | valid 2013..2013 | test 2014..2014 (yearly)
    >>> Splits(("2010", "2013"), ("2013", "2013"), ("2014", "2014"), 1)
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The splits overlap: train 2010..2013 and valid 2013..2013 share 2013. Each period belongs to one split; end train before valid begins.
    """  # noqa: E501

    train: tuple[str, str]
    valid: tuple[str, str]
    test: tuple[str, str]
    horizon: int
    freq: str | None = None
    kind: str = "time"
    column: str | None = None
    folds: int = 0

    def __post_init__(self) -> None:
        check_param("kind", self.kind, "Splits", f"one of {KINDS}", self.kind in KINDS)
        if self.kind == "time":
            object.__setattr__(self, "freq", self._read_freq())
            self._check_ranges()

    def _read_freq(self) -> str:
        """The cadence of the ranges (all of them must agree)."""
        bounds = [b for name in SPLIT_NAMES for b in getattr(self, name)]
        try:
            found = parse_periods(pd.Series(bounds, dtype="str"), column="splits")
        except ContractError as exc:
            raise InvalidParameterError(
                f"The splits' ranges must be periods: {exc}", parameter="splits"
            ) from exc
        if self.freq is not None and self.freq != found.freq:
            raise InvalidParameterError(
                f"The splits' ranges are {FREQS[found.freq]} but freq="
                f"{self.freq!r} was given.",
                parameter="splits",
            )
        return found.freq

    def _check_ranges(self) -> None:
        pos = {name: self.positions(name) for name in SPLIT_NAMES}
        for name, (lo, hi) in pos.items():
            if lo > hi:
                lo_text, hi_text = getattr(self, name)
                raise InvalidParameterError(
                    f"The {name} split runs backwards ({lo_text}..{hi_text}): "
                    "give its first period, then its last.",
                    parameter="splits",
                )
        for a, b in (("train", "valid"), ("valid", "test"), ("train", "test")):
            if pos[a][1] >= pos[b][0] and pos[b][1] >= pos[a][0]:
                shared = period_text(
                    [max(pos[a][0], pos[b][0]), min(pos[a][1], pos[b][1])],
                    str(self.freq),
                )
                share = shared[0] if shared[0] == shared[1] else "..".join(shared)
                raise InvalidParameterError(
                    f"The splits overlap: {a} {'..'.join(getattr(self, a))} and "
                    f"{b} {'..'.join(getattr(self, b))} share {share}. Each "
                    f"period belongs to one split; end {a} before {b} begins.",
                    parameter="splits",
                )
            if pos[a][0] > pos[b][0]:
                raise InvalidParameterError(
                    f"The splits are out of order: {a} ({'..'.join(getattr(self, a))}) "
                    f"comes after {b} ({'..'.join(getattr(self, b))}). Train on "
                    "the oldest periods, validate on later ones, test on the latest.",
                    parameter="splits",
                )
        gap = min(pos["valid"][0] - pos["train"][1], pos["test"][0] - pos["valid"][1])
        if gap - 1 < self.horizon - 1:
            logger.warning(
                "splits %s: fewer than horizon - 1 = %d periods between splits, "
                "so some training labels look into the next split",
                self,
                self.horizon - 1,
            )

    def positions(self, name: str) -> tuple[int, int]:
        """Integer positions of a split's first and last period."""
        lo, hi = getattr(self, name)
        return period_position(lo, str(self.freq)), period_position(hi, str(self.freq))

    def assign(self, periods: pd.Series | np.ndarray | Sequence[str]) -> np.ndarray:
        """Split name of each period (``""`` for gaps; kind ``time`` only)."""
        if self.kind != "time":
            raise InvalidParameterError(
                f"Splits of kind {self.kind!r} are not ranges of periods; the "
                "rows of each split come from split_rows."
            )
        text = pd.Series(np.asarray(periods, dtype=object)).astype("str")
        distinct = pd.unique(text)
        lookup = {p: period_position(p, str(self.freq)) for p in distinct}
        pos = text.map(lookup).to_numpy(dtype=np.int64)
        out = np.full(pos.shape, "", dtype=object)
        for name in SPLIT_NAMES:
            lo, hi = self.positions(name)
            out[(pos >= lo) & (pos <= hi)] = name
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ranges, horizon and kind (stored in the model's spec)."""
        out: dict[str, Any] = {
            "train": list(self.train),
            "valid": list(self.valid),
            "test": list(self.test),
            "horizon": self.horizon,
            "freq": self.freq,
            "kind": self.kind,
        }
        if self.column:
            out["column"] = self.column
        if self.folds:
            out["folds"] = self.folds
        return out

    def describe(self, name: str) -> str:
        """What the rows of one split are, in a few words."""
        lo, hi = getattr(self, name)
        if self.kind == "stratified":
            if name == "test":
                return f"stratified {TEST_SHARE:.0%} of the rows"
            return f"the other rows ({self.folds} stratified folds)"
        covered = f"{lo}..{hi}" if lo else ""
        if self.kind == "column":
            marked = "train" if name == "valid" and self.folds else name
            what = f"rows marked {marked!r} in {self.column!r}"
            if name == "valid" and self.folds:
                what += f" ({self.folds} stratified folds)"
            return f"{what}, {covered}" if covered else what
        return covered

    @property
    def out_of_time(self) -> bool:
        """Whether test rows are all later than training and validation."""
        return self.kind == "time"

    def __str__(self) -> str:
        if self.kind != "time":
            parts = " | ".join(f"{n} {self.describe(n)}" for n in SPLIT_NAMES)
            return f"{parts} ({self.kind})"
        text = []
        for name in SPLIT_NAMES:
            text.append(f"{name} {'..'.join(getattr(self, name))}")
        gap = self.horizon - 1
        joint = f" | gap {gap} | " if gap else " | "
        return joint.join(text) + f" ({FREQS[str(self.freq)]})"


# long: the sizes of two windows from the positives per period, within bounds
# on the history, each step a named quantity; then one clear error
def make_splits(
    periods: pd.Series | np.ndarray | Sequence[str],
    *,
    horizon: int | None = None,
    freq: str | None = None,
    labels: pd.Series | np.ndarray | Sequence[int] | None = None,
    valid_periods: int | None = None,
    test_periods: int | None = None,
    min_train_periods: int | None = None,
) -> Splits:
    """Out-of-time splits over the labelled periods.

    The test split is the last ``test_periods`` labelled periods; validation
    ends ``horizon`` periods before test begins; training ends ``horizon``
    periods before validation begins (so ``horizon - 1`` periods lie between
    the splits). Without explicit sizes, each window is the shortest run of
    recent periods holding enough positives -- a tenth of all positives,
    between 30 and 300 -- but at least 3 months (one quarter, one year), and
    at most a fifth of the history.

    Parameters
    ----------
    periods : array-like of str
        Periods of the labelled rows (``YYYY-MM``, ``YYYYQn`` or ``YYYY``);
        repeats are fine.
    horizon : int, optional
        Periods ahead (1-12) the labels look; default 3 months in the
        cadence (3 months, 1 quarter, 1 year).
    freq : {"M", "Q", "Y"}, optional
        The cadence (read from ``periods`` when omitted).
    labels : array-like of 0/1, optional
        The labels of the same rows, to size the windows by positives.
    valid_periods, test_periods : int, optional
        Lengths of the validation and test splits, in periods.
    min_train_periods : int, optional
        Fewest training periods accepted (default 6 months, 2 quarters,
        1 year).

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
    train 2023-01..2024-02 | gap 2 | valid 2024-05..2024-07 | gap 2 | test 2024-10..2024-12 (monthly)
    >>> print(make_splits(["2010", "2011", "2012", "2013", "2014"]))
    train 2010..2012 | valid 2013..2013 | test 2014..2014 (yearly)
    """  # noqa: E501
    text = pd.Series(np.asarray(periods, dtype=object)).astype("str")
    if text.empty:
        raise InvalidParameterError(
            "No labelled periods to split.", parameter="periods"
        )
    found = parse_periods(text, freq=freq, column="period")
    horizon = check_horizon(
        default_horizon(found.freq) if horizon is None else horizon, "make_splits"
    )
    for name, value in (
        ("valid_periods", valid_periods),
        ("test_periods", test_periods),
    ):
        check_param(
            name, value, "make_splits", "None or an int >= 1",
            value is None or (isinstance(value, int) and value >= 1),
        )  # fmt: skip
    step = MONTHS[found.freq]
    shortest = max(1, 3 // step)
    min_train = min_train_periods or max(1, 6 // step)
    pos = found.position
    first, last = int(pos.min()), int(pos.max())
    span = last - first + 1
    counts = _positives_by_period(pos, labels, first, span)
    room = span - 2 * (horizon - 1) - min_train  # periods left for valid + test
    longest = max(shortest, span // 5)
    test_n = test_periods or _window(counts, span, (shortest, longest, room // 2))
    test_lo = last - test_n + 1
    valid_hi = test_lo - horizon
    # the valid window's target counts the positives it may draw from
    valid_n = valid_periods or _window(
        None if counts is None else counts[: max(valid_hi - first + 1, 0)],
        valid_hi - first + 1,
        (shortest, longest, room - test_n),
    )
    valid_lo = valid_hi - valid_n + 1
    train_hi = valid_lo - horizon
    if train_hi - first + 1 < min_train:
        need = min_train + valid_n + test_n + 2 * (horizon - 1)
        raise InvalidParameterError(
            f"Not enough labelled history for out-of-time splits: "
            f"{unit(found.freq, span)} ({period_text([first, last], found.freq)[0]}"
            f"..{period_text([last], found.freq)[0]}); {need} are needed for "
            f"{min_train} training, {valid_n} validation and {test_n} test "
            f"periods with {horizon - 1}-period gaps (horizon={horizon}). "
            "Supply more history, lower valid_periods / test_periods or the "
            "horizon, or pass splits= (a column of train/valid/test, or "
            "anxin.Splits).",
            parameter="periods",
        )
    bounds = period_text(
        [first, train_hi, valid_lo, valid_hi, test_lo, last], found.freq
    ).tolist()
    return Splits(
        train=(bounds[0], bounds[1]),
        valid=(bounds[2], bounds[3]),
        test=(bounds[4], bounds[5]),
        horizon=horizon,
        freq=found.freq,
    )


def _positives_by_period(
    pos: np.ndarray, labels: Any, first: int, span: int
) -> np.ndarray | None:
    if labels is None:
        return None
    y = np.asarray(labels, dtype=np.float64)
    if y.shape != pos.shape:
        raise InvalidParameterError(
            f"The 'labels' parameter of make_splits must have one label per "
            f"period ({pos.size}). Got {y.size} instead.",
            parameter="labels",
        )
    return np.bincount(pos - first, weights=np.nan_to_num(y), minlength=span)


def _window(counts: np.ndarray | None, span: int, bounds: tuple[int, int, int]) -> int:
    """The shortest run of the latest periods (``counts[-1]`` is the latest)
    holding a tenth of all positives (30 to 300), within ``bounds``
    (shortest, longest, room left)."""
    shortest, longest, room = bounds
    if counts is None or span <= 0:
        return shortest
    target = min(300.0, max(30.0, 0.1 * float(counts.sum())))
    recent = np.cumsum(counts[::-1])
    reached = np.flatnonzero(recent >= target)
    length = int(reached[0]) + 1 if reached.size else longest
    return max(shortest, min(length, longest, max(room, shortest)))


def resolve_splits(
    frame: pd.DataFrame,
    splits: Splits | str | None,
    *,
    freq: str | None,
    split: np.ndarray | None,
    horizon: int,
    valid_periods: int | None = None,
    test_periods: int | None = None,
) -> Splits:
    """The splits :func:`anxin.train` uses for labelled rows ``frame``.

    Explicit :class:`Splits` as given (their cadence must be the data's); a
    split column's rows (``split``) as they say; a snapshot (``freq`` None)
    stratified; otherwise :func:`make_splits` sized by the positives.
    """
    if isinstance(splits, Splits):
        if splits.kind == "time" and splits.freq != freq:
            raise InvalidParameterError(
                f"The splits are {FREQS.get(str(splits.freq), 'not periods')} "
                f"({splits}) but the data's periods are "
                f"{FREQS.get(str(freq), 'absent (a snapshot)')}. Write the "
                "splits' ranges as the data's periods.",
                parameter="splits",
            )
        return splits
    if isinstance(splits, str):
        part = np.asarray(split, dtype=object)
        ranges = []
        for name in SPLIT_NAMES:
            periods = frame.loc[part == name, "period"]
            ranges.append(("", "") if freq is None or periods.empty else (
                str(periods.min()), str(periods.max())
            ))  # fmt: skip
        folds = 0 if (part == "valid").any() else FOLDS
        train, valid, test = ranges
        return Splits(train, valid, test, horizon, freq, "column", splits, folds)
    if freq is None:
        empty = ("", "")
        return Splits(empty, empty, empty, horizon, None, "stratified", None, FOLDS)
    return make_splits(
        frame["period"],
        horizon=horizon,
        freq=freq,
        labels=frame["label"],
        valid_periods=valid_periods,
        test_periods=test_periods,
    )


@dataclasses.dataclass(frozen=True)
class SplitRows:
    """The rows of one split: feature columns, 0/1 labels, periods and the
    row weights of a down-sampled frame (``None``: every row weighs 1)."""

    x: pd.DataFrame
    y: np.ndarray
    months: np.ndarray
    w: np.ndarray | None = None

    def take(self, mask: np.ndarray) -> SplitRows:
        """The rows where ``mask`` holds."""
        w = None if self.w is None else self.w[mask]
        return SplitRows(self.x[mask], self.y[mask], self.months[mask], w)


@dataclasses.dataclass(frozen=True)
class SplitData:
    """The rows of the three splits (see :func:`split_rows`).

    With ``folds`` (stratified fold of each training row), validation is by
    those folds: ``valid`` holds the same rows as ``train``.
    """

    train: SplitRows
    valid: SplitRows
    test: SplitRows
    folds: np.ndarray | None = None

    def rows(self) -> dict[str, int]:
        """Number of rows per split."""
        return {name: len(getattr(self, name).y) for name in SPLIT_NAMES}

    def positives(self) -> dict[str, int]:
        """Number of positive labels per split."""
        return {name: int(getattr(self, name).y.sum()) for name in SPLIT_NAMES}


def split_rows(
    frame: pd.DataFrame,
    features: list[str],
    splits: Splits,
    *,
    split: np.ndarray | None = None,
    seed: int = 0,
    weight: np.ndarray | None = None,
) -> SplitData:
    """Take the rows of each split out of a labelled frame.

    Parameters
    ----------
    frame : DataFrame
        ``period``, ``label`` and the ``features`` columns.
    features : list of str
        The columns that go into each split's ``x``.
    splits : Splits
    split : array of str, optional
        Each row's split (kind ``column``); for kind ``stratified`` the rows
        are drawn here (seeded).
    seed : int, default 0
        Seeds the stratified draws.
    weight : array of float, optional
        Each row's weight (a down-sampled frame), kept with its split.

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
    y = frame["label"].to_numpy()
    if splits.kind == "time":
        part = splits.assign(frame["period"])
    elif splits.kind == "column":
        part = np.asarray(split, dtype=object)
    else:
        part = _stratified_test(y, seed)
    folds = None
    if splits.folds:
        part = np.where(part == "valid", "train", part)
        folds = stratified_folds(y[part == "train"], splits.folds, seed)
    taken = {}
    for name in SPLIT_NAMES:
        mask = part == ("train" if name == "valid" and splits.folds else name)
        # one take per split (rows and feature columns together: no second copy)
        rows = SplitRows(
            x=frame.loc[mask, features],
            y=y[mask],
            months=frame.loc[mask, "period"].to_numpy(),
            w=None if weight is None else np.asarray(weight, np.float64)[mask],
        )
        if len(rows.y) == 0 or rows.y.sum() == 0:
            raise InvalidParameterError(
                f"The {name} split ({splits.describe(name) or 'no rows'}) has "
                f"{len(rows.y)} rows and {int(rows.y.sum())} positives; every "
                "split needs positives. Supply more history or change the splits.",
                parameter="splits",
            )
        taken[name] = rows
    return SplitData(**taken, folds=folds)


def _stratified_test(y: np.ndarray, seed: int) -> np.ndarray:
    """``test`` for a seeded stratified share of the rows, ``train`` for the rest."""
    rng = np.random.default_rng([seed, 1])
    part = np.full(y.shape, "train", dtype=object)
    for value in (0, 1):
        where = np.flatnonzero(y == value)
        take = rng.choice(where, size=round(TEST_SHARE * where.size), replace=False)
        part[take] = "test"
    return part


def stratified_folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A seeded stratified fold number (0..folds-1) for each row.

    Examples
    --------
    >>> f = stratified_folds(np.array([1, 0, 0, 1, 0, 0, 1, 0, 0, 1]), 2, 0)
    >>> np.bincount(f).tolist(), np.bincount(f[[0, 3, 6, 9]]).tolist()
    ([5, 5], [2, 2])
    """
    rng = np.random.default_rng([seed, 2])
    out = np.empty(y.shape, dtype=np.int64)
    start = 0
    for value in np.unique(y):
        where = rng.permutation(np.flatnonzero(y == value))
        out[where] = (np.arange(where.size) + start) % folds
        start += where.size
    return out
