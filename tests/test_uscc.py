"""统一社会信用代码 check characters (GB 32100-2015)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin import _uscc

VALID = [
    "91310110666007217T",
    "91110000600037341L",
    "9144030071526726XG",
    "91310115MA1K3BTP2B",
]
INVALID = ["91110000600037341N", "91350211M00013FA1N"]

bodies = st.text(alphabet=_uscc.ALPHABET, min_size=17, max_size=17)


@pytest.mark.parametrize("code", VALID)
def test_real_codes_validate(code: str) -> None:
    assert _uscc.is_valid(code)
    assert _uscc.check_character(code[:17]) == code[17]


@pytest.mark.parametrize(
    "code",
    [
        *INVALID,
        "",
        "9131011066600721",
        "91310110666007217TT",
        "91310110666007217t",
        "9131011066600I217T",
        "9131011066600721ÄT",
    ],
)
def test_malformed_or_wrong_check_is_invalid(code: str) -> None:
    assert not _uscc.is_valid(code)


def test_missing_values_are_invalid() -> None:
    mask = _uscc.valid_mask(pd.Series([VALID[0], None, float("nan")], dtype=object))
    assert mask.tolist() == [True, False, False]


@given(bodies)
def test_any_code_built_with_the_algorithm_validates(body: str) -> None:
    assert _uscc.is_valid(body + _uscc.check_character(body))


@given(bodies, st.integers(0, 16), st.integers(1, 30))
def test_single_character_change_is_caught(body: str, pos: int, shift: int) -> None:
    code = body + _uscc.check_character(body)
    i = _uscc.ALPHABET.index(code[pos])
    changed = code[:pos] + _uscc.ALPHABET[(i + shift) % 31] + code[pos + 1 :]
    # weights 3^i mod 31 are never 0 mod 31, so any single substitution
    # in the body changes the check character
    assert not _uscc.is_valid(changed)


@given(st.lists(bodies, min_size=1, max_size=30))
def test_vectorised_and_scalar_agree(bodies_: list[str]) -> None:
    codes = [b + _uscc.check_character(b) for b in bodies_]
    codes[0] = codes[0][:17] + ("0" if codes[0][17] != "0" else "1")
    mask = _uscc.valid_mask(pd.Series(codes))
    assert mask.tolist() == [_uscc.is_valid(c) for c in codes]
    assert not mask[0]


def test_make_codes_round_trips() -> None:
    import numpy as np

    bodies_ = np.random.default_rng(0).integers(0, 31, size=(50, 17))
    codes = _uscc.make_codes(bodies_)
    assert all(_uscc.is_valid(c) for c in codes)
