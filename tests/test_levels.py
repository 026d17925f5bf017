"""Warning levels from thresholds and quotas."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin import InvalidParameterError, LevelPolicy


def test_thresholds() -> None:
    p = LevelPolicy("threshold", red=0.5, orange=0.3, yellow=0.1)
    got = p.assign(np.array([0.5, 0.49, 0.3, 0.1, 0.099, 0.0]))
    assert got.tolist() == ["red", "orange", "orange", "yellow", "none", "none"]


@given(n=st.integers(1, 500), seed=st.integers(0, 1000))
def test_quotas_are_exact(n: int, seed: int) -> None:
    scores = np.random.default_rng(seed).random(n)
    p = LevelPolicy("quota", red=0.01, orange=0.02, yellow=0.05)
    levels = p.assign(scores)
    red = int(np.ceil(0.01 * n - 1e-9))
    orange = int(np.ceil(0.03 * n - 1e-9)) - red
    yellow = int(np.ceil(0.08 * n - 1e-9)) - red - orange
    assert (levels == "red").sum() == red
    assert (levels == "orange").sum() == orange
    assert (levels == "yellow").sum() == yellow
    # levels follow the scores: every red outranks every orange, and so on
    order = {"red": 3, "orange": 2, "yellow": 1, "none": 0}
    rank = np.vectorize(order.get)(levels)
    assert np.all(np.diff(rank[np.argsort(-scores, kind="stable")]) <= 0)


def test_quotas_per_region() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.1, 0.05, 0.04, 0.03])
    regions = np.array(["A"] * 4 + ["B"] * 4)
    p = LevelPolicy("quota", red=0.25, orange=0, yellow=0, by="region")
    levels = p.assign(scores, regions)
    # each county gets its own top quarter, however low its scores
    assert levels.tolist() == [
        "red",
        "none",
        "none",
        "none",
        "red",
        "none",
        "none",
        "none",
    ]
    with pytest.raises(InvalidParameterError, match="region"):
        p.assign(scores)


def test_from_validation_covers_shares() -> None:
    scores = np.random.default_rng(0).random(100_000)
    p = LevelPolicy.from_validation(scores)
    levels = p.assign(scores)
    assert (levels == "red").mean() == pytest.approx(0.01, abs=0.001)
    assert (levels == "orange").mean() == pytest.approx(0.02, abs=0.001)
    assert (levels == "yellow").mean() == pytest.approx(0.05, abs=0.001)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "bands", "red": 0.1, "orange": 0.05, "yellow": 0.01},
        {"kind": "threshold", "red": 0.1, "orange": 0.2, "yellow": 0.01},
        {"kind": "quota", "red": 0.5, "orange": 0.4, "yellow": 0.2},
        {"kind": "threshold", "red": 1.5, "orange": 0.2, "yellow": 0.01},
        {"kind": "quota", "red": 0.1, "orange": 0.1, "yellow": 0.1, "by": "county"},
    ],
)
def test_bad_policies(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidParameterError):
        LevelPolicy(**kwargs)  # type: ignore[arg-type]


def test_json_round_trip(tmp_path: Path) -> None:
    p = LevelPolicy("quota", red=0.02, orange=0.03, yellow=0.05, by="region")
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(p.to_dict()))
    assert LevelPolicy.from_file(path) == p


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "No such file or directory"),
        (b"garbage{", "not JSON"),
        (b'{"kind": "threshold", "red": "high"}', "Missing: ['orange', 'yellow']"),
        (
            b'{"kind": "threshold", "red": "high", "orange": 0.2, "yellow": 0.1}',
            "must be numbers in [0, 1]",
        ),
        (b'{"kind": "threshold", "red": true, "orange": 0, "yellow": 0}', "numbers"),
        (b'{"kind": "quota", "red": 0.1, "orange": 0.1, "yellow": 0.1, "x": 1}', "x"),
        (b"[0.3, 0.2, 0.1]", "Got list instead"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"", "not JSON"),
    ],
)
def test_a_bad_policy_file_names_the_file_and_the_problem(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    path = tmp_path / "policy.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InvalidParameterError) as info:
        LevelPolicy.from_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a usable level policy")
    assert problem in message
    assert "\n" not in message


def test_a_directory_is_not_a_policy(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="not a usable level policy"):
        LevelPolicy.from_file(tmp_path)
