"""How a failure reads on the command line: an exit code and one line.

:func:`describe` is the one mapping :func:`anxin.cli.main` applies to every
command (the case commands included); it names no command, so whatever a
command raises reads the same way.

* an :class:`~anxin.exceptions.AnxinError` -> its ``exit_code`` and message;
* ``PermissionError`` -> 1, naming the path and the fix;
* another ``OSError`` (disk full, read-only file system, no such device, a
  network error) -> 1, naming what failed, the path and the fix;
* SQLAlchemy: a database unreachable or failing -> 1, naming its URL without
  the password (a URL it cannot parse -> 2);
* MLflow: the tracking store failing -> 1 (a value MLflow refuses -> 2);
* out of memory -> 1;
* ``KeyboardInterrupt`` (Ctrl-C) -> 130, "interrupted";
* anything else is a bug -> 1, "internal error" with its type and a hint to
  rerun with ``--debug``.
"""

from __future__ import annotations

import errno
import re
import sys
from typing import Any, NamedTuple

from anxin.exceptions import AnxinError

__all__ = ["INTERRUPTED", "Failure", "describe", "printable", "redact"]

#: Exit code after Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130
#: Longest reason quoted from a third-party exception.
MAX_REASON = 300

_FIXES = {
    errno.ENOSPC: "free some space, or write somewhere else",
    errno.EDQUOT: "free some space, or write somewhere else",
    errno.EROFS: "write somewhere else, or remount the file system read-write",
    errno.ENODEV: "check that the disk or network share is mounted",
    errno.ENXIO: "check that the disk or network share is mounted",
    errno.EIO: "check the disk or network share, then retry",
    errno.ENOENT: "check the path (was it moved or deleted while anxin ran?)",
}
_PASSWORD = re.compile(r"(?P<user>[A-Za-z][\w+.-]*://[^:/@\s]*):[^@/\s]*@")


class Failure(NamedTuple):
    """What the command line prints (one line) and the code it exits with."""

    code: int
    message: str


def redact(text: str) -> str:
    """``text`` with the password of any URL in it masked.

    Examples
    --------
    >>> redact("postgresql://anxin:s3cret@db:5432/cases is down")
    'postgresql://anxin:***@db:5432/cases is down'
    """
    return _PASSWORD.sub(r"\g<user>:***@", text)


def printable(text: str) -> str:
    """``text`` safe to print on any terminal: no NUL, no undecodable bytes.

    Examples
    --------
    >>> printable("data\\udcff/x\\x00")
    'data\\\\udcff/x\\\\x00'
    """
    text = text.replace("\x00", "\\x00")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _reason(exc: BaseException) -> str:
    """The first line of a third-party message, cut to ``MAX_REASON``."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= MAX_REASON else f"{text[:MAX_REASON]}..."


def describe(exc: BaseException) -> Failure:
    """The exit code and the one-line message for ``exc``.

    Examples
    --------
    >>> from anxin.exceptions import InvalidParameterError
    >>> describe(InvalidParameterError("The 'top_k' parameter ..."))
    Failure(code=2, message="The 'top_k' parameter ...")
    >>> describe(PermissionError(13, "Permission denied", "/srv/data"))[0]
    1
    >>> describe(KeyError("boom")).message.split(":")[0]
    'internal error (KeyError)'
    """
    if isinstance(exc, KeyboardInterrupt):
        return Failure(INTERRUPTED, "interrupted")
    if isinstance(exc, AnxinError):
        return Failure(exc.exit_code, _clean(str(exc)))
    found = _environment(exc)
    if found is not None:
        return Failure(found.code, _clean(found.message))
    return Failure(
        1,
        _clean(
            f"internal error ({type(exc).__name__}): {_reason(exc)}. This is a "
            "bug in anxin: rerun with --debug to see the traceback, and report it."
        ),
    )


def _clean(text: str) -> str:
    return printable(redact(text))


def _environment(exc: BaseException) -> Failure | None:
    """A failure of the machine or of a service, not of anxin."""
    for check in (_database, _tracking_store):
        found = check(exc)
        if found is not None:
            return found
    if isinstance(exc, MemoryError):
        return Failure(
            1,
            "out of memory. Process less data at once (fewer enterprises or "
            "months), or run on a machine with more memory.",
        )
    if isinstance(exc, OSError):
        return Failure(1, _os_message(exc))
    return None


def _os_message(exc: OSError) -> str:
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    where = f": {' -> '.join(paths)}" if paths else ""
    if isinstance(exc, PermissionError):
        return (
            f"permission denied{where}. Let the user running anxin read (or "
            "write) it, or choose another path."
        )
    if exc.strerror is None:  # raised with a message of its own
        return _reason(exc)
    fix = _FIXES.get(exc.errno or 0, "check the path and the machine, then retry")
    return f"{exc.strerror.lower()}{where}. {fix[0].upper()}{fix[1:]}."


def _database(exc: BaseException) -> Failure | None:
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None:  # SQLAlchemy never loaded: not one of its errors
        return None
    if isinstance(exc, sa_exc.ArgumentError):  # a URL it cannot parse or load
        return Failure(
            2,
            f"bad database URL: {_reason(exc)}. Give a URL such as "
            "sqlite:///cases.db or postgresql://user@host:5432/anxin.",
        )
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    url = _database_url(exc)
    where = f" {url}" if url else ""
    reason = _reason(exc.orig if exc.orig is not None else exc)
    if isinstance(exc, sa_exc.OperationalError):
        return Failure(
            1,
            f"database{where} unreachable or unavailable: {reason}. Check the "
            "URL (--db or ANXIN_CASES_URL), that the server is up and that this "
            "machine may connect to it.",
        )
    return Failure(
        1,
        f"database{where} refused the operation ({type(exc).__name__}): {reason}.",
    )


def _database_url(exc: BaseException) -> str | None:
    """The URL of the engine the failing call ran on, without its password.

    SQLAlchemy's errors do not carry it; the engine or connection is found in
    the frames the error went through.
    """
    import sqlalchemy as sa

    tb = exc.__traceback__
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            url: Any = None
            if isinstance(value, sa.engine.Engine):
                url = value.url
            elif isinstance(value, sa.engine.Connection):
                url = value.engine.url
            elif isinstance(value, sa.engine.URL):
                url = value
            if url is not None:
                return str(url.render_as_string(hide_password=True))
        tb = tb.tb_next
    return None


def _tracking_store(exc: BaseException) -> Failure | None:
    mlflow_exc = sys.modules.get("mlflow.exceptions")
    if mlflow_exc is None or not isinstance(exc, mlflow_exc.MlflowException):
        return None
    if getattr(exc, "error_code", None) == "INVALID_PARAMETER_VALUE":
        return Failure(2, f"MLflow refused a value: {_reason(exc)}.")
    return Failure(
        1,
        f"the MLflow tracking store failed: {_reason(exc)}. Check --tracking-uri "
        "(or MLFLOW_TRACKING_URI) and that the store is reachable.",
    )
