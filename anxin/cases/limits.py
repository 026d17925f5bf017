"""What the case store accepts: one set of limits for SQLite and PostgreSQL.

PostgreSQL refuses a name longer than its column, a NUL byte in text or an
integer beyond 32 bits (``DataError``); SQLite stores them all. The case
store checks every value in Python before it reaches either database, so
both refuse the same input with the same message
(:class:`~anxin.exceptions.InvalidParameterError`, exit code 2 on the command
line):

=====================  =====================================================
value                  accepted
=====================  =====================================================
``by`` (the actor),    1 to :data:`MAX_NAME_LENGTH` (200) characters, the
unit, grid             size of their columns; valid UTF-8; no control
                       characters (NUL, escape, line breaks, tabs) and no
                       bidirectional overrides
``note``               0 to :data:`MAX_NOTE_LENGTH` (10,000) characters;
                       line breaks (``\\n``, ``\\r``) and tabs are kept, any
                       other control character is refused
case ids, versions,    whole numbers in [1, :data:`MAX_INTEGER`]
workers affected       (2,147,483,647: PostgreSQL's ``INTEGER``)
amount owed            a finite number > 0 and at most
                       :data:`MAX_AMOUNT_OWED` (10^13 CNY, so the fen stays
                       exact in the float column)
times (``now``)        from :data:`EARLIEST_TIME` (1970-01-01) to before
                       :data:`LATEST_TIME` (2100-01-01)
deadlines              at most :data:`MAX_DEADLINE_HOURS` hours and
                       :data:`MAX_DEADLINE_WORKING_DAYS` working days
=====================  =====================================================

Text read from a scores file is held to the sizes of the columns it goes to
(:data:`SCORES_TEXT_LIMITS`); a scores frame that breaks them is refused
whole with a :class:`~anxin.exceptions.ContractError` naming the column and
the row (see :mod:`anxin.cases.scores`).
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
from typing import Any, NoReturn

import pandas as pd

from anxin.exceptions import InvalidParameterError

__all__ = [
    "EARLIEST_TIME",
    "LATEST_TIME",
    "MAX_AMOUNT_OWED",
    "MAX_DEADLINE_HOURS",
    "MAX_DEADLINE_WORKING_DAYS",
    "MAX_INTEGER",
    "MAX_NAME_LENGTH",
    "MAX_NOTE_LENGTH",
    "SCORES_TEXT_LIMITS",
    "check_amount",
    "check_integer",
    "check_name",
    "check_note",
    "check_time",
    "invalid_text",
    "refuse",
    "shown",
    "text_problem",
]

#: Longest actor (``by``), unit or grid name: the size of their columns.
MAX_NAME_LENGTH = 200
#: Longest note of a move.
MAX_NOTE_LENGTH = 10_000
#: Largest case id, version or worker count (PostgreSQL ``INTEGER``).
MAX_INTEGER = 2**31 - 1
#: Largest amount owed, CNY.
MAX_AMOUNT_OWED = 1e13
#: Earliest time a change may be recorded at.
EARLIEST_TIME = _dt.datetime(1970, 1, 1)
#: Times must be before this one.
LATEST_TIME = _dt.datetime(2100, 1, 1)
#: Longest deadline, hours part (one leap year).
MAX_DEADLINE_HOURS = 24 * 366
#: Longest deadline, working-days part (about one year).
MAX_DEADLINE_WORKING_DAYS = 261
#: Scores column -> longest text the case store keeps from it.
SCORES_TEXT_LIMITS: dict[str, int] = {
    "enterprise_id": 32,
    "as_of": 7,
    "risk_level": 8,
    "model_name": 200,
    "model_version": 100,
    "industry": 8,
    "region": 16,
}

# Control characters (Unicode category Cc), bidirectional embeddings,
# overrides and isolates (text that displays other than it is stored), and
# lone surrogates (bytes that were not UTF-8, as Python decodes ``argv``).
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# The same, allowing tabs and line breaks.
_FORBIDDEN_IN_NOTES = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)

_NAME_RULE = (
    f"a name of 1 to {MAX_NAME_LENGTH} characters in valid UTF-8, without "
    "control characters"
)
_NOTE_RULE = (
    f"text of at most {MAX_NOTE_LENGTH} characters in valid UTF-8, without "
    "control characters other than line breaks and tabs"
)


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, shortened for messages.

    Examples
    --------
    >>> shown("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'..."
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[: max(limit - 20, 40)]!r}..."
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def refuse(
    name: str, value: Any, owner: str, expected: str, why: str = "", *, limit: int = 60
) -> NoReturn:
    """Raise :class:`~anxin.exceptions.InvalidParameterError` in the message
    shape of :func:`anxin._params.check_param`, the value shortened and
    ``why`` saying what is wrong with it."""
    got = shown(value, limit) + (f" ({why})" if why else "")
    raise InvalidParameterError(
        f"The {name!r} parameter of {owner} must be {expected}. Got {got} instead.",
        parameter=name,
        value=value,
    )


def text_problem(value: str, *, max_length: int, multiline: bool = False) -> str:
    """What is wrong with ``value`` as stored text; ``""`` when nothing.

    Examples
    --------
    >>> text_problem("张三", max_length=200)
    ''
    >>> text_problem("a\\x00b", max_length=200)
    'a NUL byte at position 1'
    >>> text_problem("ok\\nthen", max_length=200, multiline=True)
    ''
    >>> text_problem("x\\udcff", max_length=200)
    'the byte 0xFF at position 1 is not UTF-8: pass text in UTF-8 (e.g. LANG=C.UTF-8)'
    """
    if len(value) > max_length:
        return f"{len(value)} characters, more than {max_length}"
    pattern = _FORBIDDEN_IN_NOTES if multiline else _FORBIDDEN
    found = pattern.search(value)
    if found is None:
        return ""
    char, at = found.group(), found.start()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # how Python keeps a byte that is not UTF-8
        return (
            f"the byte 0x{code - 0xDC00:02X} at position {at} is not UTF-8: pass "
            "text in UTF-8 (e.g. LANG=C.UTF-8)"
        )
    if 0xD800 <= code <= 0xDFFF:
        return f"a lone surrogate U+{code:04X} at position {at}: not valid UTF-8"
    if char == "\x00":
        return f"a NUL byte at position {at}"
    if 0x202A <= code <= 0x2069:
        return f"the bidirectional control U+{code:04X} at position {at}"
    return f"the control character U+{code:04X} at position {at}"


def invalid_text(values: pd.Series, *, max_length: int) -> pd.Series:
    """Which of ``values`` (text, or missing) :func:`text_problem` refuses.

    Examples
    --------
    >>> invalid_text(pd.Series(["ok", "a\x1b[2J", None, "x" * 9]), max_length=8)
    0    False
    1     True
    2    False
    3     True
    dtype: bool
    """
    text = values.dropna().astype(object).map(str)
    bad = text.map(lambda v: len(v) > max_length or _FORBIDDEN.search(v) is not None)
    return bad.reindex(values.index, fill_value=False).astype(bool)


def check_name(name: str, value: Any, owner: str) -> str:
    """An actor, unit or grid name: refused unless it fits its column.

    Examples
    --------
    >>> check_name("by", "张三", "move")
    '张三'
    >>> check_name("by", "x" * 201, "move")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'by' parameter of move must be a name of 1 to 200 characters in valid UTF-8, without control characters. Got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... (201 characters, more than 200) instead.
    """  # noqa: E501
    if not isinstance(value, str) or not value:
        refuse(name, value, owner, _NAME_RULE)
    why = text_problem(value, max_length=MAX_NAME_LENGTH)
    if why:
        refuse(name, value, owner, _NAME_RULE, why)
    return str(value)


def check_note(value: Any, owner: str) -> str:
    """A note: text, line breaks and tabs allowed, no other control character.

    Examples
    --------
    >>> check_note("现场核实\\n已约谈", "move")
    '现场核实\\n已约谈'
    """
    if not isinstance(value, str):
        refuse("note", value, owner, _NOTE_RULE)
    why = text_problem(value, max_length=MAX_NOTE_LENGTH, multiline=True)
    if why:
        refuse("note", value, owner, _NOTE_RULE, why)
    return str(value)


def check_integer(
    name: str, value: Any, owner: str, what: str = "", *, low: int = 1
) -> int:
    """A whole number in [``low``, :data:`MAX_INTEGER`]; ``what`` says what
    it counts.

    Examples
    --------
    >>> check_integer("case_id", 12, "show")
    12
    >>> check_integer("case_id", 10**23, "show")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'case_id' parameter of show must be an int in [1, 2147483647]. Got 100000000000000000000000 instead.
    """  # noqa: E501
    expected = f"an int in [{low}, {MAX_INTEGER}]" + (f" ({what})" if what else "")
    ok = (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and low <= int(value) <= MAX_INTEGER
    )
    if not ok:
        refuse(name, value, owner, expected)
    return int(value)


def check_amount(name: str, value: Any, owner: str, what: str = "") -> float:
    """A finite amount in (0, :data:`MAX_AMOUNT_OWED`].

    Examples
    --------
    >>> check_amount("amount_owed", 186_000, "move")
    186000.0
    """
    expected = f"a number > 0 and <= {MAX_AMOUNT_OWED:.0e}" + (
        f" ({what})" if what else ""
    )
    ok = (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
        and 0 < float(value) <= MAX_AMOUNT_OWED
    )
    if not ok:
        refuse(name, value, owner, expected)
    return float(value)


def check_time(
    name: str, value: _dt.datetime, owner: str, given: Any = None
) -> _dt.datetime:
    """A naive time in [:data:`EARLIEST_TIME`, :data:`LATEST_TIME`);
    ``given`` is what the caller passed, shown in the message.

    Examples
    --------
    >>> check_time("now", _dt.datetime(9999, 12, 31, 23), "move")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'now' parameter of move must be a time from 1970-01-01 to before 2100-01-01. Got datetime.datetime(9999, 12, 31, 23, 0) instead.
    """  # noqa: E501
    if not EARLIEST_TIME <= value < LATEST_TIME:
        refuse(
            name,
            value if given is None else given,
            owner,
            f"a time from {EARLIEST_TIME:%Y-%m-%d} to before {LATEST_TIME:%Y-%m-%d}",
        )
    return value
