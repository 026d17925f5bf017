"""Parameter checks with anxin's one message shape, and the ``n_jobs`` rule.

Every public function validates its arguments here, so a bad value always
reads the same way: "The 'horizon' parameter of train must be an int in
[1, 12]. Got 0 instead." The command line checks its options with the same
functions before any work starts ("The '--top-k' option of anxin score must
be an int in [1, 11]. Got -1 instead."), including the paths it reads from
and writes to.

``n_jobs`` means the same everywhere (features, training, scoring): ``None``
(the default) or ``-1`` use every core available to this process, a positive
number uses that many.
"""

from __future__ import annotations

import codecs
import errno
import os
import re
from pathlib import Path
from typing import Any

from anxin.exceptions import InvalidParameterError

__all__ = [
    "available_cores",
    "check_argv",
    "check_choice",
    "check_encoding",
    "check_horizon",
    "check_input_dir",
    "check_int",
    "check_model_name",
    "check_month",
    "check_output_dir",
    "check_output_file",
    "check_param",
    "is_utf8",
    "resolve_n_jobs",
    "shown",
]

#: Largest horizon (months ahead) a model may be trained for.
MAX_HORIZON = 12
#: A month, ``YYYY-MM`` in ASCII digits.
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
#: Longest shown value in a message; longer ones are cut, with their length.
MAX_SHOWN = 120
#: Errors of the machine, not of the path asked for (exit 1, not 2).
ENVIRONMENT_ERRNOS = frozenset(
    {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EIO}
)


def shown(value: Any) -> str:
    """``repr(value)`` for a message: long values cut, with their length.

    Examples
    --------
    >>> shown("2026-13")
    "'2026-13'"
    >>> shown("x" * 500)[-25:]
    "xxxx...' (500 characters)"
    """
    text = repr(str(value) if isinstance(value, Path) else value)
    if len(text) <= MAX_SHOWN:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return f"{text[: MAX_SHOWN // 2]}...{text[0]}{size}"


def is_utf8(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8.

    Bytes that were not UTF-8 in ``argv`` reach Python as lone surrogates,
    which no file format, database or MLflow store takes.

    Examples
    --------
    >>> is_utf8("安薪云"), is_utf8("data" + chr(0xDCFF))
    (True, False)
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_param(
    name: str,
    value: Any,
    owner: str,
    expected: str,
    ok: bool,
    *,
    kind: str = "parameter",
) -> None:
    """Raise :class:`InvalidParameterError` with anxin's one message shape.

    ``kind`` is ``"parameter"`` for a function, ``"option"`` or
    ``"argument"`` for the command line.

    Examples
    --------
    >>> check_param("horizon", 3, "train", "an int in [1, 12]", 1 <= 3 <= 12)
    >>> check_param("horizon", 0, "train", "an int in [1, 12]", False)
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'horizon' parameter of train must be an int in [1, 12]. Got 0 instead.
    >>> check_param("--top-k", -1, "anxin score", "an int in [1, 11]", False,
    ...             kind="option")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The '--top-k' option of anxin score must be an int in [1, 11]. Got -1 instead.
    """  # noqa: E501
    if not ok:
        raise InvalidParameterError(
            f"The {name!r} {kind} of {owner} must be {expected}. "
            f"Got {shown(value)} instead.",
            parameter=name,
            value=value,
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_horizon(horizon: Any, owner: str) -> int:
    """Return ``horizon`` if it is an int in [1, 12], else raise.

    Examples
    --------
    >>> check_horizon(3, "train")
    3
    >>> check_horizon(13, "train")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'horizon' parameter of train must be an int in [1, 12]. Got 13 instead.
    """  # noqa: E501
    check_param(
        "horizon",
        horizon,
        owner,
        f"an int in [1, {MAX_HORIZON}]",
        _is_int(horizon) and 1 <= horizon <= MAX_HORIZON,
    )
    return int(horizon)


def check_int(
    name: str,
    value: Any,
    owner: str,
    low: int,
    high: int | None = None,
    *,
    kind: str = "parameter",
) -> int:
    """Return ``value`` if it is an int in ``[low, high]`` (no bound: ``>= low``).

    Examples
    --------
    >>> check_int("top_k", 3, "explain", 1, 11)
    3
    >>> check_int("tune", -1, "train", 0)
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'tune' parameter of train must be an int >= 0. Got -1 instead.
    """  # noqa: E501
    expected = f"an int >= {low}" if high is None else f"an int in [{low}, {high}]"
    ok = _is_int(value) and low <= value and (high is None or value <= high)
    check_param(name, value, owner, expected, ok, kind=kind)
    return int(value)


def check_choice(
    name: str, value: Any, owner: str, choices: Any, *, kind: str = "parameter"
) -> str:
    """Return ``value`` if it is one of ``choices``.

    Examples
    --------
    >>> check_choice("format", "xml", "synth", ("parquet", "csv"))
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'format' parameter of synth must be one of ['parquet', 'csv']. Got 'xml' instead.
    """  # noqa: E501
    listed = list(choices)
    check_param(name, value, owner, f"one of {listed}", value in listed, kind=kind)
    return str(value)


def check_month(name: str, value: Any, owner: str, *, kind: str = "parameter") -> str:
    """Return ``value`` if it is a month ``YYYY-MM`` (ASCII digits, month 01-12).

    Examples
    --------
    >>> check_month("as_of", "2026-06", "score_month")
    '2026-06'
    >>> check_month("as_of", "2026-13", "score_month")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'as_of' parameter of score_month must be a month 'YYYY-MM' (e.g. '2026-06'). Got '2026-13' instead.
    """  # noqa: E501
    ok = isinstance(value, str) and MONTH.fullmatch(value) is not None
    check_param(name, value, owner, "a month 'YYYY-MM' (e.g. '2026-06')", ok, kind=kind)
    return str(value)


def check_model_name(
    name: str, value: Any, owner: str, *, kind: str = "parameter"
) -> str | None:
    """Return ``value`` if it is ``None`` or a name MLflow can register.

    Examples
    --------
    >>> check_model_name("model_name", "anxin/arrears", "train")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'model_name' parameter of train must be a registered model name (UTF-8, not empty, no '/' or ':'). Got 'anxin/arrears' instead.
    """  # noqa: E501
    ok = value is None or (
        isinstance(value, str)
        and bool(value.strip())
        and not any(c in value for c in "/:\x00")
        and value != ".."
        and is_utf8(value)
    )
    expected = "a registered model name (UTF-8, not empty, no '/' or ':')"
    check_param(name, value, owner, expected, ok, kind=kind)
    return value


def check_argv(args: list[str], owner: str) -> None:
    """Refuse a command-line argument with a NUL byte, naming its option.

    No file name, URL or database value may hold one, and each library
    below would fail differently.

    Examples
    --------
    >>> check_argv(["score", "data", "--as-of", "2026-06" + chr(0)], "anxin")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The '--as-of' option of anxin must be free of NUL bytes. Got '2026-06\\x00' instead.
    """  # noqa: E501
    for i, arg in enumerate(args):
        if "\x00" not in arg:
            continue
        if arg.startswith("--") and "=" in arg:
            name, arg = arg.split("=", 1)
        elif i and args[i - 1].startswith("-"):
            name = args[i - 1]
        else:
            raise InvalidParameterError(
                f"Argument {i + 1} of {owner} must be free of NUL bytes. Got "
                f"{shown(arg)} instead.",
                parameter=f"argument {i + 1}",
                value=arg,
            )
        check_param(name, arg, owner, "free of NUL bytes", False, kind="option")


def check_encoding(
    name: str, value: Any, owner: str, *, kind: str = "parameter"
) -> str | None:
    """Return ``value`` if it is ``None`` or a text encoding Python knows.

    Examples
    --------
    >>> check_encoding("encoding", "gbk", "load_tables")
    'gbk'
    >>> check_encoding("encoding", "base64", "load_tables")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'encoding' parameter of load_tables must be a text encoding Python knows (utf-8, gbk, gb18030, ...). Got 'base64' instead.
    """  # noqa: E501
    if value is None:
        return None
    try:
        # codecs such as base64 or rot13 turn bytes into bytes, not text
        ok = getattr(codecs.lookup(value), "_is_text_encoding", True)
    except (LookupError, TypeError, ValueError):
        ok = False
    expected = "a text encoding Python knows (utf-8, gbk, gb18030, ...)"
    check_param(name, value, owner, expected, bool(ok), kind=kind)
    return str(value)


def _bad_path(
    name: str, path: Path, owner: str, expected: str, reason: str, kind: str
) -> InvalidParameterError:
    return InvalidParameterError(
        f"The {name!r} {kind} of {owner} must be {expected}. Got {shown(path)} "
        f"instead ({reason}).",
        parameter=name,
        value=str(path),
    )


def _creating(
    name: str, path: Path, owner: str, expected: str, kind: str, directory: Path
) -> None:
    """Create ``directory``; a path that cannot serve is bad input (exit 2).

    A path must be valid UTF-8 to be written (pyarrow, JSON, MLflow). Errors
    of the machine (permission denied, read-only file system, disk
    full) are raised as they are: the path may be right.
    """
    if not is_utf8(str(path)):
        why = "not valid UTF-8: Parquet files, summaries and MLflow need UTF-8"
        raise _bad_path(name, path, owner, expected, why, kind)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS:
            raise
        reason = getattr(exc, "strerror", None) or str(exc)
        raise _bad_path(name, path, owner, expected, reason, kind) from None


def check_output_dir(
    name: str, path: str | Path, owner: str, *, kind: str = "parameter"
) -> Path:
    """Create directory ``path`` (and its parents) now, before any work.

    A path that cannot be a directory (it is a file, lies under one, or has
    an invalid name) raises :class:`InvalidParameterError`; permission
    denied, a read-only file system or a full disk raise their ``OSError``.
    """
    target = Path(path)
    expected = "a directory that exists or can be created"
    _creating(name, target, owner, expected, kind, target)
    return target


def check_output_file(
    name: str, path: str | Path, owner: str, *, kind: str = "parameter"
) -> Path:
    """Check that file ``path`` can be written; its directory is created now.

    Examples
    --------
    >>> check_output_file("report", ".", "validate")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'report' parameter of validate must be a file, not a directory. Got '.' instead.
    """  # noqa: E501
    target = Path(path)
    check_param(
        name,
        target,
        owner,
        "a file, not a directory",
        not _is(target, "dir"),
        kind=kind,
    )
    expected = "a file in a directory that exists or can be created"
    _creating(name, target, owner, expected, kind, target.parent)
    return target


def check_input_dir(
    name: str, path: str | Path, owner: str, *, kind: str = "parameter"
) -> Path:
    """Check that directory ``path`` exists and that it and its files are readable.

    A missing path or a file raises :class:`InvalidParameterError`; a
    directory or file this process may not read raises ``PermissionError``
    naming it.
    """
    root = Path(path)
    if not _is(root, "dir"):
        why = "it is a file" if _is(root, "file") else "no such directory"
        raise _bad_path(name, root, owner, "an existing directory", why, kind)
    _readable(root)
    for item in root.iterdir():
        if _is(item, "file"):
            _readable(item)
    return root


def _is(path: Path, what: str) -> bool:
    try:
        return path.is_dir() if what == "dir" else path.is_file()
    except (OSError, ValueError):  # a NUL in the name, a name too long
        return False


def _readable(path: Path) -> None:
    mode = os.R_OK | (os.X_OK if path.is_dir() else 0)
    if not os.access(path, mode):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):  # Linux; not on macOS or Windows
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def resolve_n_jobs(n_jobs: int | None, owner: str) -> int:
    """The number of threads ``n_jobs`` asks for.

    Examples
    --------
    >>> resolve_n_jobs(2, "predict")
    2
    >>> resolve_n_jobs(None, "predict") == resolve_n_jobs(-1, "predict") >= 1
    True
    >>> resolve_n_jobs(0, "predict")
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'n_jobs' parameter of predict must be None, -1 (all available cores) or a positive int. Got 0 instead.
    """  # noqa: E501
    check_param(
        "n_jobs",
        n_jobs,
        owner,
        "None, -1 (all available cores) or a positive int",
        n_jobs is None or (_is_int(n_jobs) and (n_jobs == -1 or n_jobs >= 1)),
    )
    if n_jobs is None or n_jobs == -1:
        return available_cores()
    return int(n_jobs)
