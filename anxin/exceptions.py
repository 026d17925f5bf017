"""Errors and warnings raised by anxin.

Every error derives from :class:`AnxinError` and from the builtin that matches
it, so ``except ValueError`` in a caller keeps working. Each class carries an
``exit_code`` that the command line uses (see ``docs/cli.md``):

* ``1`` -- a failure (a bug, an unreachable service, a missing model);
* ``2`` -- the input broke the contract (bad data, bad parameter, bad request).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AnxinError",
    "CaseConflictError",
    "CaseError",
    "ContractError",
    "DriftWarning",
    "IllegalTransitionError",
    "InvalidParameterError",
    "LockTimeoutError",
    "ModelNotFoundError",
    "NotFittedError",
    "UnknownCaseError",
]


class AnxinError(Exception):
    """Root of every error anxin raises on purpose.

    Parameters
    ----------
    message : str
        What was seen and what to do about it.
    **fields
        Structured context (``table``, ``column``, ``enterprise_id``, ...),
        kept as attributes so services can act on them without parsing text.
    """

    exit_code: int = 1

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        for key, value in fields.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        return self.message


class ContractError(AnxinError, ValueError):
    """Input data breaks the data contract at table level.

    Row-level breaches never raise: they are quarantined (see
    :func:`anxin.validate`). This error is for what makes a whole table
    unusable: a missing required table or column, an unreadable file, an
    undecodable encoding.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        column: str | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(message, table=table, column=column, **fields)


class InvalidParameterError(AnxinError, ValueError):
    """A function or command received a parameter outside its allowed values."""

    exit_code = 2


class NotFittedError(AnxinError, AttributeError):
    """An estimator was used before ``fit``."""


class ModelNotFoundError(AnxinError, LookupError):
    """A model URI, registered model or alias does not resolve."""


class LockTimeoutError(AnxinError, TimeoutError):
    """Another run holds the lock (e.g. of the month being scored) for too long.

    An environment condition, not bad input (exit code 1): wait for the other
    run, or allow a longer wait (``lock_timeout=`` / ``--lock-timeout``). The
    holder is in the fields ``pid``, ``host`` and ``since`` (``None`` when the
    lock file does not say), the lock file in ``path``.
    """


class CaseError(AnxinError):
    """Base class for errors from the case-handling chain."""

    exit_code = 2


class UnknownCaseError(CaseError, LookupError):
    """A case id (or enterprise) is not in the store."""


class IllegalTransitionError(CaseError, ValueError):
    """A state change that the handling chain does not allow."""


class CaseConflictError(CaseError, RuntimeError):
    """Another actor changed the case since it was read (optimistic locking)."""


class DriftWarning(UserWarning):
    """Scoring data has drifted away from the model's training data."""
