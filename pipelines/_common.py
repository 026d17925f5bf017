"""What the deployable jobs share: config reading, logging, exit codes.

The jobs (``monthly_scoring.py``, ``retrain.py``) are thin: they read a TOML
config file, call :mod:`anxin`, log what happened and exit with a documented
code (see ``docs/operations.md``):

* ``0`` -- done (drift warnings and a refused promotion are still ``0``);
* ``1`` -- a failure (missing model, unreachable store, a bug);
* ``2`` -- the config file or the input data broke the contract.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import sys
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import anxin

__all__ = [
    "TABLES",
    "ConfigError",
    "Job",
    "ProjectRun",
    "Section",
    "check_sections",
    "detached_from_project_run",
    "load_config",
    "run_job",
    "setup_logging",
]

logger = logging.getLogger("pipelines")

_MISSING: Any = object()
_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    dict: "a table",
}


class ConfigError(anxin.AnxinError, ValueError):
    """The job's config file is missing, unreadable or has a bad key (exit 2)."""

    exit_code = 2


def load_config(path: str | Path) -> tuple[dict[str, Any], Path]:
    """Parse a TOML config file; return its content and the file's path."""
    file = Path(path)
    try:
        with file.open("rb") as fh:
            return tomllib.load(fh), file
    except FileNotFoundError:
        raise ConfigError(f"{file}: config file not found.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}.") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the config file: {exc}.") from None


class Section:
    """Typed access to one ``[table]`` of a config file.

    Every key read is checked (type, allowed values); :meth:`done` rejects the
    keys nobody read, so a typo is an error naming the key, not a silent default.
    Relative paths are resolved against the config file's directory.
    """

    def __init__(self, config: Mapping[str, Any], name: str, file: Path) -> None:
        self.file, self.name = file, name
        data: Any = config
        for part in name.split("."):
            data = data.get(part, {}) if isinstance(data, Mapping) else None
        if not isinstance(data, Mapping):
            raise ConfigError(f"{file}: [{name}] must be a table.", key=name)
        self.data = dict(data)
        self._read: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.file}: [{self.name}] {key}"

    def get(
        self,
        key: str,
        kind: type | tuple[type, ...],
        default: Any = _MISSING,
        *,
        choices: tuple[Any, ...] | None = None,
        hint: str = "",
    ) -> Any:
        """The value of ``key``; ``ConfigError`` if it is absent (and required),
        of the wrong type or not among ``choices``."""
        self._read.add(key)
        if key not in self.data:
            if default is _MISSING:
                raise ConfigError(
                    f"{self.where(key)} is required but missing. {hint}".rstrip(),
                    key=f"{self.name}.{key}",
                )
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool):  # a bool is an int to Python, not to us
            ok = bool in kinds
        elif isinstance(value, int) and float in kinds and int not in kinds:
            value, ok = float(value), True  # `tolerance = 0` means 0.0
        else:
            ok = isinstance(value, kinds)
        if not ok:
            expected = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            raise ConfigError(
                f"{self.where(key)} must be {expected}. Got {value!r} instead. "
                f"{hint}".rstrip(),
                key=f"{self.name}.{key}",
            )
        if choices is not None and value not in choices:
            raise ConfigError(
                f"{self.where(key)} must be one of {list(choices)}. Got {value!r} "
                "instead.",
                key=f"{self.name}.{key}",
            )
        return value

    def path(self, key: str, default: Any = _MISSING, *, hint: str = "") -> Any:
        """A path value, relative paths taken from the config file's directory."""
        value = self.get(key, str, default, hint=hint)
        if not isinstance(value, str):
            return value
        return (self.file.parent / Path(value).expanduser()).resolve()

    def done(self) -> None:
        """Reject keys that were never read (typos, keys of another version)."""
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            raise ConfigError(
                f"{self.file}: [{self.name}] has unknown key(s) {unknown}. Known "
                f"keys: {sorted(self._read)} (see pipelines/config.example.toml).",
                key=f"{self.name}.{unknown[0]}",
            )

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.where(key)}: {message}", key=f"{self.name}.{key}")


#: Top-level tables of a config file; one file serves every job.
TABLES = ("score", "cases", "retrain")


def check_sections(config: Mapping[str, Any], file: Path) -> None:
    """Reject top-level keys no job reads (typos such as ``[scoring]``)."""
    unknown = sorted(set(config) - set(TABLES))
    if unknown:
        raise ConfigError(
            f"{file}: unknown top-level key(s) or table(s) {unknown}. Known tables: "
            f"{list(TABLES)} (see pipelines/config.example.toml).",
            key=unknown[0],
        )


class _Formatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)-7s %(name)s: %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )


def setup_logging(quiet: bool = False, verbose: bool = False) -> None:
    """Timestamped logs on stderr: INFO, WARNING with ``-q``, DEBUG with ``-v``.

    Python warnings (such as :class:`anxin.DriftWarning`) go through logging
    too, so schedulers capture them with a timestamp.
    """
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    # MLflow sets up its own handler when first imported; keep it to warnings
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_anxin_job", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    handler._anxin_job = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("anxin", "pipelines", "py.warnings"):
        logging.getLogger(name).setLevel(level)
    noisy = logging.INFO if verbose else logging.WARNING
    for name in ("mlflow", "alembic", "urllib3", "git", "sqlalchemy"):
        logging.getLogger(name).setLevel(max(noisy, level))
    logging.captureWarnings(True)


@dataclasses.dataclass(frozen=True)
class ProjectRun:
    """The run that ``mlflow run`` started for this job, and its store."""

    run_id: str
    tracking_uri: str | None

    def record(
        self,
        *,
        tags: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float | int | None] | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> None:
        """Log tags, metrics and ``job_summary.json`` to the project run.

        Best effort: the job's own outputs are already written, so a failure
        here is logged, not raised.
        """
        from mlflow import MlflowClient

        try:
            client = MlflowClient(tracking_uri=self.tracking_uri)
            for key, value in (tags or {}).items():
                client.set_tag(self.run_id, key, str(value)[:5000])
            for key, value in (metrics or {}).items():
                if value is not None:
                    client.log_metric(self.run_id, key, float(value))
            if summary is not None:
                client.log_dict(self.run_id, dict(summary), "job_summary.json")
        except Exception as exc:
            logger.warning(
                "could not record on MLflow project run %s: %s", self.run_id, exc
            )


@contextlib.contextmanager
def detached_from_project_run() -> Iterator[ProjectRun | None]:
    """Keep the run that ``mlflow run`` started apart from anxin's own runs.

    ``mlflow run`` starts a run in the project's experiment and passes it to
    the job as ``MLFLOW_RUN_ID`` (with ``MLFLOW_EXPERIMENT_ID`` and
    ``MLFLOW_TRACKING_URI``). MLflow's ``start_run`` resumes that run whatever
    ``experiment_id`` it is given, so anxin's training or scoring run would
    land in the project run, outside the ``anxin-arrears`` / ``anxin-scoring``
    experiments, and end it. The variables are removed for the block and the
    project run is yielded, so the job can record its outcome there.
    """
    saved = {
        k: os.environ.pop(k)
        for k in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID")
        if k in os.environ
    }
    project = None
    if "MLFLOW_RUN_ID" in saved:
        project = ProjectRun(
            saved["MLFLOW_RUN_ID"], os.environ.get("MLFLOW_TRACKING_URI")
        )
    try:
        yield project
    finally:
        os.environ.update(saved)


Job = Callable[[ProjectRun | None], dict[str, Any]]


def run_job(job: Job, name: str) -> int:
    """Run ``job``, print its JSON summary and return the exit code.

    Errors anxin raises on purpose carry their exit code and a message that
    says what to do; anything else is a failure (1) and logged with its
    traceback. Under ``mlflow run`` the exit code (which ``mlflow run`` itself
    reduces to 0/1) is recorded on the project run as ``anxin_exit_code``.
    """
    with detached_from_project_run() as project:
        error = None
        try:
            summary = job(project)
            code = 0
        except anxin.AnxinError as exc:
            code, error = exc.exit_code, str(exc)
            logger.error("%s job failed (exit %d): %s", name, code, exc)
        except Exception as exc:
            code, error = 1, f"{type(exc).__name__}: {exc}"
            logger.exception("%s job failed (exit 1) with an unexpected error", name)
        if error is not None:
            summary = {
                "job": name,
                "status": "failed",
                "exit_code": code,
                "error": error,
            }
        print(json.dumps(summary, ensure_ascii=False, default=str), flush=True)
        if project is not None:
            project.record(tags={"anxin_exit_code": code}, summary=summary)
    return code
