"""统一社会信用代码 (Unified Social Credit Code, GB 32100-2015) check characters.

The code has 18 characters from a 31-character alphabet (no I, O, S, V, Z).
Positions 1-17 carry weights ``3**i mod 31``; the 18th character is
``(31 - sum(value * weight) mod 31) mod 31``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)

_LOOKUP = np.full(128, -1, dtype=np.int64)
for _value, _char in enumerate(ALPHABET):
    _LOOKUP[ord(_char)] = _value
_LOOKUP8 = _LOOKUP.astype(np.int8)


def check_character(body: str) -> str:
    """Return the check character for the first 17 characters of a code.

    Examples
    --------
    >>> check_character("91310110666007217")
    'T'
    """
    if len(body) != 17 or any(c not in ALPHABET for c in body):
        raise ValueError(
            f"A USCC body is 17 characters from {ALPHABET!r}; got {body!r}."
        )
    total = sum(ALPHABET.index(c) * int(w) for c, w in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """Whether ``code`` is a well-formed USCC with a correct check character.

    Examples
    --------
    >>> is_valid("91110000600037341L"), is_valid("91110000600037341N")
    (True, False)
    """
    return bool(valid_mask(pd.Series([code]))[0])


def valid_mask(codes: pd.Series) -> np.ndarray:
    """Vectorised validity of many codes (missing values are invalid)."""
    values = codes.astype("string").fillna("")
    ok = (values.str.len() == 18).to_numpy(dtype=bool)
    out = np.zeros(len(values), dtype=bool)
    if not ok.any():
        return out
    fixed = values[ok].to_numpy(dtype="U18")
    chars = fixed.view(np.uint32).reshape(-1, 18)
    ascii_ok = (chars < 128).all(axis=1)
    mapped = _LOOKUP8[np.minimum(chars, 127)]  # int8: -1 outside the alphabet
    alphabet_ok = (mapped >= 0).all(axis=1) & ascii_ok
    total = mapped[:, :17].astype(np.int32) @ WEIGHTS.astype(np.int32)
    check = (31 - total % 31) % 31
    out[ok] = alphabet_ok & (check == mapped[:, 17])
    return out


def make_codes(bodies: np.ndarray) -> np.ndarray:
    """Append check characters to an ``(n, 17)`` int array of alphabet indices.

    Returns an array of 18-character strings; used by the synthetic world.
    """
    bodies = np.asarray(bodies, dtype=np.int64)
    check = (31 - (bodies @ WEIGHTS) % 31) % 31
    full = np.concatenate([bodies, check[:, None]], axis=1)
    letters = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)[full]
    return letters.view("S18").ravel().astype(str)
