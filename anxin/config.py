"""Runtime configuration, read from environment variables.

=========================  ==============================================
variable                   meaning (default)
=========================  ==============================================
``ANXIN_HOME``             working directory for local stores (``.anxin``)
``MLFLOW_TRACKING_URI``    MLflow tracking store
                           (``sqlite:///$ANXIN_HOME/mlflow.db``)
``ANXIN_ARTIFACTS``        artifact root for experiments anxin creates
                           (``$ANXIN_HOME/mlartifacts``)
``ANXIN_MODEL_NAME``       registered model name (``anxin-arrears``)
``ANXIN_CASES_URL``        case store (``sqlite:///$ANXIN_HOME/cases.db``)
``ANXIN_TODAY``            the current month ``YYYY-MM`` used to reject
                           periods in the future (the real current month)
``ANXIN_PERIOD_FLOOR``     the earliest month a table may hold
                           (``1990-01``)
=========================  ==============================================
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["Config", "config_context", "get_config"]

_OVERRIDES: dict[str, Any] = {}


@dataclasses.dataclass(frozen=True)
class Config:
    """Resolved configuration.

    Attributes
    ----------
    home : Path
        Directory for the local MLflow store, artifacts and case database.
    tracking_uri : str
        MLflow tracking URI.
    artifact_root : Path
        Where experiments created by anxin store their artifacts when the
        tracking store is local.
    model_name : str
        Name of the registered model.
    cases_url : str
        SQLAlchemy URL of the case store.
    today : str
        Current month as ``YYYY-MM``; periods after it are "in the future".
    period_floor : str
        Earliest month ``YYYY-MM`` a table may hold; earlier periods are
        quarantined (a typo such as ``0001-01`` would otherwise make the
        feature grid thousands of months wide).
    """

    home: Path
    tracking_uri: str
    artifact_root: Path
    model_name: str
    cases_url: str
    today: str
    period_floor: str = "1990-01"


def _current_month() -> str:
    return _dt.date.today().strftime("%Y-%m")


def get_config() -> Config:
    """Return the configuration from the environment and active overrides.

    Examples
    --------
    >>> with config_context(model_name="demo-model"):
    ...     get_config().model_name
    'demo-model'
    """
    env = os.environ
    home = Path(_OVERRIDES.get("home") or env.get("ANXIN_HOME") or ".anxin")
    tracking_uri = (
        _OVERRIDES.get("tracking_uri")
        or env.get("MLFLOW_TRACKING_URI")
        or f"sqlite:///{(home / 'mlflow.db').as_posix()}"
    )
    artifact_root = Path(
        _OVERRIDES.get("artifact_root")
        or env.get("ANXIN_ARTIFACTS")
        or home / "mlartifacts"
    )
    return Config(
        home=home,
        tracking_uri=tracking_uri,
        artifact_root=artifact_root,
        model_name=_OVERRIDES.get("model_name")
        or env.get("ANXIN_MODEL_NAME")
        or "anxin-arrears",
        cases_url=_OVERRIDES.get("cases_url")
        or env.get("ANXIN_CASES_URL")
        or f"sqlite:///{(home / 'cases.db').as_posix()}",
        today=_OVERRIDES.get("today") or env.get("ANXIN_TODAY") or _current_month(),
        period_floor=_OVERRIDES.get("period_floor")
        or env.get("ANXIN_PERIOD_FLOOR")
        or "1990-01",
    )


@contextlib.contextmanager
def config_context(**overrides: Any) -> Iterator[Config]:
    """Temporarily override configuration fields (for tests and scripts).

    Parameters
    ----------
    **overrides
        Any field of :class:`Config`; ``None`` values are ignored.
    """
    unknown = set(overrides) - {f.name for f in dataclasses.fields(Config)}
    if unknown:
        raise TypeError(f"Unknown configuration fields: {sorted(unknown)}")
    saved = dict(_OVERRIDES)
    _OVERRIDES.update({k: v for k, v in overrides.items() if v is not None})
    try:
        yield get_config()
    finally:
        _OVERRIDES.clear()
        _OVERRIDES.update(saved)
