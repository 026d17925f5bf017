"""Warning levels: red / orange / yellow (红/橙/黄), as in the 安薪云 risk map.

A :class:`LevelPolicy` is stored with the model. By default its probability
thresholds are chosen at training time so that, on validation data, red,
orange and yellow cover about the top 1%, next 2% and next 5% of enterprises.
A bureau can override it with its own thresholds, or with quotas (the top
share of each month's enterprises), optionally per region since each county
has its own inspectors.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from anxin._params import check_param
from anxin.exceptions import InvalidParameterError
from anxin.schemas import LEVELS

__all__ = ["LEVEL_LABELS", "LEVEL_SHORT_ZH", "LEVEL_STYLES", "LevelPolicy", "styled"]

#: Level -> (Chinese, English) label.
LEVEL_LABELS = {
    "red": ("红色预警", "red"),
    "orange": ("橙色预警", "orange"),
    "yellow": ("黄色预警", "yellow"),
    "none": ("无", "none"),
}
#: Level -> one-character Chinese label for tables (红/橙/黄).
LEVEL_SHORT_ZH = {"red": "红", "orange": "橙", "yellow": "黄", "none": "-"}
#: Level -> rich style used wherever a level is printed.
LEVEL_STYLES = {
    "red": "bold red",
    "orange": "dark_orange",
    "yellow": "yellow",
    "none": "dim",
}


def styled(level: str) -> str:
    """A level as rich markup: ``红 red`` in the level's colour.

    Examples
    --------
    >>> styled("red")
    '[bold red]红 red[/]'
    >>> styled("unknown")
    'unknown'
    """
    if level not in LEVEL_STYLES:
        return level
    return f"[{LEVEL_STYLES[level]}]{LEVEL_SHORT_ZH[level]} {level}[/]"


@dataclasses.dataclass(frozen=True)
class LevelPolicy:
    """How risk scores become warning levels.

    Parameters
    ----------
    kind : {"threshold", "quota"}
        ``threshold``: a score at or above ``red`` is red, and so on.
        ``quota``: ``red``, ``orange`` and ``yellow`` are shares of enterprises
        (the top 1%, the next 2%, the next 5%), counted per ``by`` group.
    red, orange, yellow : float
        Thresholds (probabilities) or shares, depending on ``kind``.
    by : {None, "region"}
        For quotas, apply them within each region.

    Examples
    --------
    >>> p = LevelPolicy("threshold", red=0.3, orange=0.2, yellow=0.1)
    >>> p.assign(np.array([0.35, 0.25, 0.15, 0.05])).tolist()
    ['red', 'orange', 'yellow', 'none']
    >>> q = LevelPolicy("quota", red=0.25, orange=0.25, yellow=0.25)
    >>> q.assign(np.array([0.9, 0.1, 0.5, 0.2])).tolist()
    ['red', 'none', 'orange', 'yellow']
    """

    kind: Literal["threshold", "quota"]
    red: float
    orange: float
    yellow: float
    by: Literal["region"] | None = None

    def __post_init__(self) -> None:
        check_param(
            "kind",
            self.kind,
            "LevelPolicy",
            "'threshold' or 'quota'",
            self.kind in ("threshold", "quota"),
        )
        check_param(
            "by",
            self.by,
            "LevelPolicy",
            "None or 'region'",
            self.by in (None, "region"),
        )
        values = (self.red, self.orange, self.yellow)
        ok = all(_is_number(v) and 0 <= v <= 1 for v in values)
        check_param("red/orange/yellow", values, "LevelPolicy", "numbers in [0, 1]", ok)
        if self.kind == "threshold" and not self.red >= self.orange >= self.yellow:
            raise InvalidParameterError(
                "LevelPolicy thresholds must satisfy red >= orange >= yellow. "
                f"Got red={self.red}, orange={self.orange}, yellow={self.yellow}.",
                parameter="thresholds",
            )
        if self.kind == "quota" and self.red + self.orange + self.yellow > 1:
            raise InvalidParameterError(
                "LevelPolicy quotas must add up to at most 1. Got "
                f"{self.red + self.orange + self.yellow}.",
                parameter="quotas",
            )

    @classmethod
    def from_validation(
        cls,
        scores: np.ndarray,
        shares: tuple[float, float, float] = (0.01, 0.02, 0.05),
        weight: np.ndarray | None = None,
    ) -> LevelPolicy:
        """Thresholds that give the ``shares`` on validation scores (of the
        weighted rows, with ``weight``: a down-sampled frame's)."""
        scores = np.asarray(scores, dtype=np.float64)
        cum = np.cumsum(shares)
        if weight is None:
            red, orange, yellow = (float(np.quantile(scores, 1 - c)) for c in cum)
        else:
            red, orange, yellow = (
                float(np.quantile(scores, 1 - c, weights=weight, method="inverted_cdf"))
                for c in cum
            )
        return cls("threshold", red=red, orange=orange, yellow=yellow)

    def assign(
        self, scores: np.ndarray, groups: np.ndarray | None = None
    ) -> np.ndarray:
        """Level of each score (``groups`` = region codes, for per-region quotas)."""
        return np.asarray(LEVELS, dtype=object)[self.codes(scores, groups)]

    def codes(self, scores: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
        """Like :meth:`assign`, as int8 positions in ``LEVELS`` (0 = red).

        Examples
        --------
        >>> LevelPolicy("threshold", red=0.3, orange=0.2, yellow=0.1).codes(
        ...     np.array([0.35, 0.05])).tolist()
        [0, 3]
        """
        scores = np.asarray(scores, dtype=np.float64)
        if self.kind == "threshold":
            out = np.full(scores.shape, 3, dtype=np.int8)
            out[scores >= self.yellow] = 2
            out[scores >= self.orange] = 1
            out[scores >= self.red] = 0
            return out
        if self.by == "region":
            if groups is None:
                raise InvalidParameterError(
                    "A per-region quota policy needs the region of each enterprise."
                )
            out = np.full(scores.shape, 3, dtype=np.int8)
            keys = pd.Series(np.asarray(groups, dtype=object))
            for _, idx in keys.groupby(keys, sort=True).indices.items():
                out[idx] = self._quota(scores[idx])
            return out
        return self._quota(scores)

    def _quota(self, scores: np.ndarray) -> np.ndarray:
        n = scores.size
        order = np.argsort(-scores, kind="stable")
        position = np.empty(n, dtype=np.int64)
        position[order] = np.arange(n)
        return self.quota_codes(position, np.full(n, n, dtype=np.int64))

    def quota_codes(self, position: np.ndarray, size: np.ndarray) -> np.ndarray:
        """Levels under quotas from each score's place in its group.

        ``position`` is 0 for the highest score of the group (ties: the rows'
        order), ``size`` the group's number of scores. A cluster run
        (:mod:`anxin.spark`) ranks globally and calls this, so its levels are
        exactly one machine's.

        Examples
        --------
        >>> q = LevelPolicy("quota", red=0.25, orange=0.25, yellow=0.25)
        >>> q.quota_codes(np.array([0, 3, 1, 2]), np.array([4, 4, 4, 4])).tolist()
        [0, 3, 1, 2]
        """
        position = np.asarray(position, dtype=np.int64)
        size = np.asarray(size, dtype=np.float64)
        shares = np.cumsum([self.red, self.orange, self.yellow])
        out = np.full(position.shape, 3, dtype=np.int8)
        for code in (2, 1, 0):
            cut = np.ceil(shares[code] * size - 1e-9)
            out[position < cut] = code
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> LevelPolicy:
        """A policy from :meth:`to_dict`'s mapping.

        Raises
        ------
        InvalidParameterError
            If a key is missing or unknown, or a value is out of range.

        Examples
        --------
        >>> LevelPolicy.from_dict({"kind": "threshold", "red": "high"})
        Traceback (most recent call last):
        ...
        anxin.exceptions.InvalidParameterError: A LevelPolicy needs the keys ['kind', 'red', 'orange', 'yellow'] (and optionally 'by'). Missing: ['orange', 'yellow'].
        """  # noqa: E501
        fields = [f.name for f in dataclasses.fields(cls)]
        required = fields[:4]
        if not isinstance(state, dict):
            raise InvalidParameterError(
                "A LevelPolicy is a JSON object such as "
                '{"kind": "threshold", "red": 0.3, "orange": 0.2, "yellow": 0.1}. '
                f"Got {type(state).__name__} instead.",
                parameter="policy",
            )
        missing = [k for k in required if k not in state]
        unknown = sorted(str(k) for k in state if k not in fields)
        if missing or unknown:
            raise InvalidParameterError(
                f"A LevelPolicy needs the keys {required} (and optionally 'by'). "
                + (f"Missing: {missing}." if missing else "")
                + (" " if missing and unknown else "")
                + (f"Unknown: {unknown}." if unknown else ""),
                parameter="policy",
            )
        return cls(**state)

    @classmethod
    def from_file(cls, path: str | Path) -> LevelPolicy:
        """Read a policy from JSON (``{"kind": "quota", "red": 0.01, ...}``).

        Raises
        ------
        InvalidParameterError
            If the file is missing, is not JSON, or does not hold a valid
            policy; the message names the file.
        """
        file = Path(path)
        try:
            text = file.read_text("utf-8")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise _bad_file(file, exc.strerror or "cannot be read") from None
        except UnicodeDecodeError as exc:
            raise _bad_file(file, f"not UTF-8 text ({exc.reason})") from None
        except ValueError as exc:  # a NUL byte in the path
            raise _bad_file(file, str(exc)) from None
        try:
            state = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _bad_file(file, f"not JSON: {exc}") from None
        try:
            return cls.from_dict(state)
        except InvalidParameterError as exc:
            raise _bad_file(file, str(exc)) from None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bad_file(path: Path, problem: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"{path}: not a usable level policy: {problem}. Write a JSON object "
        'such as {"kind": "threshold", "red": 0.3, "orange": 0.2, '
        '"yellow": 0.1} or {"kind": "quota", "red": 0.01, "orange": 0.02, '
        '"yellow": 0.05, "by": "region"}.',
        parameter="policy",
        value=str(path),
    )


assert set(LEVEL_LABELS) == set(LEVELS)
