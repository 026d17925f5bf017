"""Parameter checks with anxin's one message shape, and the ``n_jobs`` rule.

Every public function validates its arguments here, so a bad value always
reads the same way: "The 'horizon' parameter of train must be an int in
[1, 12]. Got 0 instead."

``n_jobs`` means the same everywhere (features, training, scoring): ``None``
(the default) or ``-1`` use every core available to this process, a positive
number uses that many.
"""

from __future__ import annotations

import os
from typing import Any

from anxin.exceptions import InvalidParameterError

__all__ = ["available_cores", "check_horizon", "check_param", "resolve_n_jobs"]

#: Largest horizon (months ahead) a model may be trained for.
MAX_HORIZON = 12


def check_param(
    name: str,
    value: Any,
    owner: str,
    expected: str,
    ok: bool,
) -> None:
    """Raise :class:`InvalidParameterError` with anxin's one message shape.

    Examples
    --------
    >>> check_param("horizon", 3, "train", "an int in [1, 12]", 1 <= 3 <= 12)
    >>> check_param("horizon", 0, "train", "an int in [1, 12]", False)
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'horizon' parameter of train must be an int in [1, 12]. Got 0 instead.
    """  # noqa: E501
    if not ok:
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {expected}. "
            f"Got {value!r} instead.",
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
