"""Running a job: arguments, logging, the project run, exit codes, the summary."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from anxin._failures import describe, redact
from anxin.exceptions import AnxinError, DriftWarning
from anxin.jobs._config import ScoreJobConfig, load_config, resolve_as_of
from anxin.tracking import detached_from_project_run

__all__ = [
    "Outcome",
    "main",
    "report_drift",
    "run_job",
    "setup_logging",
]

# The jobs' own log lines are documented (and grepped for) under this name:
# "ERROR pipelines: score job failed (exit 2): ..." (docs/operations.md).
logger = logging.getLogger("pipelines")


class _Formatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)-7s %(name)s: %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )


def setup_logging(quiet: bool = False, verbose: bool = False) -> None:
    """Timestamped logs on stderr: INFO, WARNING with ``-q``, DEBUG with ``-v``.

    Python warnings go through logging too, so schedulers capture them with a
    timestamp. Calling it again replaces the handler it added.
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


@contextlib.contextmanager
def report_drift(log: logging.Logger) -> Iterator[None]:
    """Log each :class:`~anxin.DriftWarning` of the block as a warning on ``log``.

    Drift is reported, never fatal: the line reads ``drift (漂移): MESSAGE``.
    Other warnings pass on unchanged.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DriftWarning)
        yield
    for w in caught:
        if issubclass(w.category, DriftWarning):
            log.warning("drift (漂移): %s", w.message)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def log_month(result: Any, log: logging.Logger) -> None:
    """Log what a scored month holds: the quarantined rows (a warning naming
    the tables and the report) and the output directory with its levels."""
    r = result.summary
    quarantined = r["quarantine"]["rows"]
    if quarantined:
        log.warning(
            "%d rows quarantined (隔离) by validation: %s; see %s",
            quarantined,
            r["quarantine"]["by_table"],
            result.out_dir / "quarantine.csv",
        )
    log.info(
        "wrote %s: %d enterprises, levels %s", result.out_dir, r["scored"], r["levels"]
    )


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a job returns.

    Attributes
    ----------
    summary : mapping
        Printed on stdout as one JSON line (``{"job": .., "status": "ok", ..}``).
    tags, metrics : mapping
        Recorded on the run of ``mlflow run``, when the job runs under it.
    """

    summary: Mapping[str, Any]
    tags: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    metrics: Mapping[str, float | int | None] = dataclasses.field(default_factory=dict)


def _record(
    run_id: str,
    tracking_uri: str | None,
    tags: Mapping[str, Any],
    metrics: Mapping[str, float | int | None],
    summary: Mapping[str, Any],
) -> None:
    """Log tags, metrics and ``job_summary.json`` to the run of ``mlflow run``.

    Best effort: the job's own outputs are already written, so a failure here
    is logged, not raised.
    """
    from mlflow import MlflowClient

    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        for key, value in tags.items():
            client.set_tag(run_id, key, str(value)[:5000])
        for key, value in metrics.items():
            if value is not None:
                client.log_metric(run_id, key, float(value))
        client.log_dict(run_id, dict(summary), "job_summary.json")
    except Exception as exc:
        logger.warning("could not record on MLflow project run %s: %s", run_id, exc)


def run_job(job: Callable[[], Outcome], name: str) -> int:
    """Run ``job``, print its JSON summary on stdout and return the exit code.

    Errors anxin raises on purpose carry their exit code and a message that
    says what to do; anything else is a failure (1), logged with its
    traceback. Under ``mlflow run`` the job runs apart from the project run
    (see :func:`anxin.tracking.detached_from_project_run`), and its tags,
    metrics, summary and exit code (which ``mlflow run`` itself reduces to
    0/1) are recorded there, the code as the tag ``anxin_exit_code``.
    """
    with detached_from_project_run() as project_run:
        tracking_uri = os.environ.get("MLFLOW_TRACKING_URI")  # of `mlflow run`
        outcome, error = Outcome({}), None
        try:
            outcome, code = job(), 0
        except AnxinError as exc:
            code, error = exc.exit_code, str(exc)
            logger.error("%s job failed (exit %d): %s", name, code, exc)
        except Exception as exc:
            failure = describe(exc)  # read as the command line reads it
            if failure.message.startswith("internal error"):  # a bug
                code, error = 1, redact(f"{type(exc).__name__}: {exc}")
                logger.exception(
                    "%s job failed (exit 1) with an unexpected error", name
                )
            else:  # the machine: a disk, a database, the tracking store
                code, error = failure.code, failure.message
                logger.error("%s job failed (exit %d): %s", name, code, error)
        summary = dict(outcome.summary)
        if error is not None:
            summary = {
                "job": name,
                "status": "failed",
                "exit_code": code,
                "error": error,
            }
        print(json.dumps(summary, ensure_ascii=False, default=str), flush=True)
        if project_run is not None:
            tags = {**outcome.tags, "anxin_exit_code": code}
            _record(project_run, tracking_uri, tags, outcome.metrics, summary)
    return code


JobConfig = TypeVar("JobConfig", bound=BaseModel)


def main(
    name: str,
    job: Callable[[JobConfig], Outcome],
    config: type[JobConfig],
    argv: Sequence[str] | None = None,
    *,
    prog: str,
    description: str,
    epilog: str,
    as_of_option: bool = False,
) -> int:
    """A job's command line: parse ``argv``, set up logging, read the config
    file into ``config``, run ``job(config)``; return the exit code.

    Parameters
    ----------
    name : str
        The job's name in the log lines and the summary (``score``).
    job : callable
        Takes the checked config, calls anxin, returns an :class:`Outcome`.
    config : type
        :class:`~anxin.jobs.ScoreJobConfig` or
        :class:`~anxin.jobs.RetrainJobConfig`.
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).
    prog, description, epilog : str
        The ``--help`` text.
    as_of_option : bool, default False
        Add ``--as-of``, which overrides ``[score] as_of`` (scoring only).

    Returns
    -------
    int
        ``0`` done, ``1`` a failure, ``2`` a bad config file, data that break
        the contract or a usage error (``--help`` is ``0``). Every job takes
        ``--config``, ``--quiet`` and ``--verbose``.
    """
    parser = argparse.ArgumentParser(prog=prog, description=description, epilog=epilog)
    parser.add_argument(
        "--config",
        "-c",
        required=True,
        type=Path,
        help="TOML config file (see pipelines/config.example.toml).",
    )
    if as_of_option:
        parser.add_argument(
            "--as-of",
            default=None,
            help="YYYY-MM, 'latest' or 'previous-month'; overrides [score] as_of.",
        )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="Log warnings and errors only."
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="Debug logs.")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    setup_logging(quiet=args.quiet, verbose=args.verbose)

    def run() -> Outcome:
        loaded = load_config(args.config, config)
        # "" is `mlflow run` without -P as_of: the file's as_of holds
        if as_of_option and args.as_of:
            scoring = cast(ScoreJobConfig, loaded)
            scoring.score.as_of = resolve_as_of(args.as_of, "--as-of")
        return job(loaded)

    return run_job(run, name)
