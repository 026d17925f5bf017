"""The jobs' config file: typed tables read from TOML, errors in anxin's shape.

One TOML file serves every job; each job checks the tables it reads
(``[score]`` and ``[cases]``, or ``[retrain]``) and only the names of the
others. An unknown key is an error naming it, never a silent default.
Relative paths are taken from the config file's directory: cron, systemd and
``mlflow run`` all start the jobs somewhere else.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails

from anxin.config import get_config
from anxin.exceptions import AnxinError
from anxin.levels import LevelPolicy

__all__ = [
    "CasesConfig",
    "ConfigError",
    "PromotionConfig",
    "RetrainConfig",
    "RetrainJobConfig",
    "ScoreConfig",
    "ScoreJobConfig",
    "load_config",
    "resolve_as_of",
]

EXAMPLE = "pipelines/config.example.toml"


class ConfigError(AnxinError, ValueError):
    """The job's config file is missing, unreadable or has a bad key (exit 2).

    ``key`` is the dotted path of the offending key (``score.top_k``) and
    ``file`` the config file.
    """

    exit_code = 2


# ---------------------------------------------------------------------------
# value checks shared by the tables
# ---------------------------------------------------------------------------

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _month(value: object) -> str | None:
    if value in (None, "", "latest"):
        return None
    if value == "previous-month":
        today = dt.date.fromisoformat(get_config().today + "-01")
        return (today - dt.timedelta(days=1)).strftime("%Y-%m")
    if isinstance(value, str) and _MONTH.fullmatch(value):
        return value
    raise ValueError(
        f"must be YYYY-MM, 'latest' or 'previous-month'. Got {value!r} instead."
    )


def resolve_as_of(value: str | None, where: str = "--as-of") -> str | None:
    """The month to score: ``YYYY-MM`` as given, ``None`` for ``latest``.

    ``previous-month`` is the month before ``ANXIN_TODAY`` (default: this
    month). ``where`` names the value's origin in the error message.

    Raises
    ------
    ConfigError
        If ``value`` is none of these.

    Examples
    --------
    >>> from anxin import config_context
    >>> with config_context(today="2026-01"):
    ...     resolve_as_of("previous-month")
    '2025-12'
    >>> resolve_as_of("latest") is None
    True
    """
    try:
        return _month(value)
    except ValueError as exc:
        raise ConfigError(f"{where} {exc}", key="score.as_of") from None


def _path(value: object, info: ValidationInfo) -> object:
    """A path from the config file's directory (``context["base"]``)."""
    if not isinstance(value, str | Path):
        return value  # the type check reports it
    base = Path((info.context or {}).get("base", "."))
    return (base / Path(value).expanduser()).resolve()


def _policy(value: object, info: ValidationInfo) -> LevelPolicy | None:
    if value is None or isinstance(value, LevelPolicy):
        return value
    if not isinstance(value, str | dict):
        raise ValueError(
            "must be a string (a JSON file) or a table {kind, red, orange, "
            f"yellow}}. Got {value!r} instead."
        )
    try:
        if isinstance(value, dict):
            return LevelPolicy.from_dict(dict(value))
        return LevelPolicy.from_file(str(_path(value, info)))
    except AnxinError as exc:
        raise ValueError(f"is not a valid level policy: {exc}") from None
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(
            f"cannot be read as a level policy ({type(exc).__name__}: {exc}). "
            'Expected {"kind": "threshold"|"quota", "red": .., "orange": .., '
            '"yellow": .., "by": null|"region"}.'
        ) from None


#: A path in the config file, resolved against the file's directory.
ConfigPath = Annotated[Path, BeforeValidator(_path)]


# ---------------------------------------------------------------------------
# the tables
# ---------------------------------------------------------------------------


class _Table(BaseModel):
    # strict: TOML has types, so "3" is not an int and 1 is not a boolean
    model_config = ConfigDict(extra="forbid", strict=True)


class ScoreConfig(_Table):
    """``[score]``: what to score, with which model, and where to write."""

    data_dir: ConfigPath = Field(description="The directory with the contract tables.")
    out_dir: ConfigPath = Field(
        description="Root of the as_of=YYYY-MM output directories."
    )
    as_of: Annotated[str | None, BeforeValidator(_month)] = Field(
        None, description="YYYY-MM, 'latest' (None) or 'previous-month'."
    )
    model: str | None = None
    tracking_uri: str | None = None
    policy: Annotated[LevelPolicy | None, BeforeValidator(_policy)] = Field(
        None, description="A JSON file or a table {kind, red, orange, yellow}."
    )
    explain: Literal["alerts", "all", "none"] = "alerts"
    top_k: int = Field(3, ge=1)
    encoding: str | None = None
    log: bool = True


class CasesConfig(_Table):
    """``[cases]``: the case store that flagged enterprises are opened in.

    Either ``url``, or ``url_env``: the name of an environment variable
    holding the URL, which keeps a password out of the file (and out of this
    model's repr); :attr:`resolved_url` is the URL either way.
    """

    url: str | None = None
    url_env: str | None = None
    min_level: Literal["yellow", "orange", "red"] = "yellow"

    @model_validator(mode="after")
    def _one_url(self) -> CasesConfig:
        if (self.url is None) == (self.url_env is None):
            raise ValueError(
                "needs exactly one of 'url' or 'url_env' (the name of an "
                "environment variable holding the URL)."
            )
        if self.url_env is not None and not os.environ.get(self.url_env):
            raise ValueError(
                f"url_env: environment variable {self.url_env} is not set."
            )
        return self

    @property
    def resolved_url(self) -> str:
        """The case store's URL: ``url``, or the value of ``url_env``."""
        return self.url or os.environ[self.url_env or ""]


class PromotionConfig(_Table):
    """``[retrain.promotion]``: the rule that moves ``champion``."""

    alert_volume: float = 0.05
    tolerance: float = 0.01
    eval_months: int = 3
    force: bool = False


class RetrainConfig(_Table):
    """``[retrain]``: what to train on and how."""

    data_dir: ConfigPath = Field(description="The directory with the contract tables.")
    horizon: int = 3
    refit: bool = False
    tune: int = 0
    seed: int = 0
    valid_months: int = 3
    test_months: int = 3
    calibration: str = "sigmoid"
    encoding: str | None = None
    tracking_uri: str | None = None
    model_name: str | None = None
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)


class ScoreJobConfig(_Table):
    """The config file as the scoring job reads it."""

    score: ScoreConfig
    cases: CasesConfig | None = None
    retrain: dict[str, Any] | None = Field(None, description="Read by retrain.")


class RetrainJobConfig(_Table):
    """The config file as the retraining job reads it."""

    retrain: RetrainConfig
    score: dict[str, Any] | None = Field(None, description="Read by scoring.")
    cases: dict[str, Any] | None = Field(None, description="Read by scoring.")


# ---------------------------------------------------------------------------
# reading a file
# ---------------------------------------------------------------------------

JobConfig = TypeVar("JobConfig", bound=BaseModel)


def load_config(path: str | Path, model: type[JobConfig]) -> JobConfig:
    """Read a TOML config file into ``model``, paths resolved from its directory.

    Parameters
    ----------
    path : str or Path
        The config file.
    model : type
        :class:`ScoreJobConfig` or :class:`RetrainJobConfig`.

    Raises
    ------
    ConfigError
        If the file is missing or not TOML, or a key is unknown, missing or
        of the wrong type; the one-line message names the file and the key.
    """
    file = Path(path)
    try:
        with file.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{file}: config file not found.", file=file) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}.", file=file) from None
    except OSError as exc:
        raise ConfigError(
            f"{file}: cannot read the config file: {exc}.", file=file
        ) from None
    try:
        return model.model_validate(raw, context={"base": file.parent})
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        message = _describe(file, model, first)
        if len(errors) > 1:
            others = ", ".join(_where(tuple(map(str, e["loc"]))) for e in errors[1:])
            message += f" (Also check {others}.)"
        key = ".".join(map(str, first["loc"]))
        raise ConfigError(message, key=key, file=file) from None


_EXPECTED = {
    "bool_type": "a boolean",
    "int_type": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "dict_type": "a table",
    "model_type": "a table",
    "is_instance_of": "a string (a path)",
}


def _table_at(model: type[BaseModel], loc: tuple[str, ...]) -> type[BaseModel] | None:
    """The table (model) that ``loc`` points at, if it points at one."""
    for part in loc:
        field = model.model_fields.get(part)
        if field is None:
            return None
        sub = [
            t
            for t in (field.annotation, *get_args(field.annotation))
            if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        if not sub:
            return None
        model = sub[0]
    return model


def _where(loc: tuple[str, ...]) -> str:
    """``[score] top_k`` for ``("score", "top_k")``; a top-level key as is."""
    return f"[{'.'.join(loc[:-1])}] {loc[-1]}" if len(loc) > 1 else loc[-1]


def _describe(file: Path, model: type[BaseModel], error: ErrorDetails) -> str:
    """One error as ``FILE: [table] key must be X. Got Y instead.``"""
    loc = tuple(str(part) for part in error["loc"])
    kind, got = error["type"], error.get("input")
    if not loc:  # the file as a whole (no such check today)
        return f"{file}: {error['msg']}."
    if kind == "value_error" and _table_at(model, loc) is not None:
        # a check of the table as a whole ([cases] url / url_env)
        return f"{file}: [{'.'.join(loc)}] {error.get('ctx', {}).get('error', '')}"
    table, key = loc[:-1], loc[-1]
    parent = _table_at(model, table)
    known = sorted(parent.model_fields) if parent is not None else []
    where = _where(loc)
    if kind == "extra_forbidden":
        if not table:
            return (
                f"{file}: unknown top-level key or table {key!r}. Known tables: "
                f"{known} (see {EXAMPLE})."
            )
        return (
            f"{file}: [{'.'.join(table)}] has unknown key {key!r}. Known keys: "
            f"{known} (see {EXAMPLE})."
        )
    if kind == "missing":
        if not table:
            return f"{file}: table [{key}] is missing."
        field = parent.model_fields[key] if parent is not None else None
        hint = f" {field.description}" if field and field.description else ""
        return f"{file}: {where} is required but missing.{hint}"
    if kind == "value_error":
        return f"{file}: {where} {error.get('ctx', {}).get('error', '')}"
    if kind == "literal_error" and parent is not None:
        expected = f"one of {list(get_args(parent.model_fields[key].annotation))}"
    elif kind == "greater_than_equal":
        expected = f"at least {error.get('ctx', {}).get('ge')}"
    else:
        expected = _EXPECTED.get(kind, f"valid ({error['msg']})")
    return f"{file}: {where} must be {expected}. Got {got!r} instead."
