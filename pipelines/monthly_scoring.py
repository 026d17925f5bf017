"""Scheduled monthly batch scoring (月度批量预警).

Reads the ``[score]`` (and optional ``[cases]``) table of a TOML config file,
scores one month with :func:`anxin.score_month` -- which validates the data,
quarantines bad rows, writes ``OUT/as_of=YYYY-MM/`` atomically and logs the
run to MLflow -- and, when ``[cases]`` is set, opens or escalates cases for the
flagged enterprises. Re-running a month replaces its output and opens no
duplicate cases.

Usage::

    python pipelines/monthly_scoring.py --config /etc/anxin/anxin.toml
    python pipelines/monthly_scoring.py --config anxin.toml --as-of 2026-06 -q

Exit codes: ``0`` done (drift is reported in the log and in ``summary.json``
but does not fail the job), ``1`` failure (e.g. the model alias does not
resolve), ``2`` bad config file or data that break the contract. A one-line
JSON summary is printed on stdout. See ``docs/operations.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any

from _common import (
    ConfigError,
    ProjectRun,
    Section,
    check_sections,
    load_config,
    run_job,
    setup_logging,
)

import anxin
from anxin.reasons import EXPLAIN_MODES

logger = logging.getLogger("pipelines.monthly_scoring")

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclasses.dataclass(frozen=True)
class ScoringConfig:
    """The ``[score]`` and ``[cases]`` tables, checked."""

    data_dir: Path
    out_dir: Path
    as_of: str | None
    model: str | None
    tracking_uri: str | None
    policy: anxin.LevelPolicy | None
    explain: str
    top_k: int
    encoding: str | None
    log: bool
    cases_url: str | None
    cases_min_level: str


def resolve_as_of(value: str | None, where: str = "--as-of") -> str | None:
    """``YYYY-MM`` as given; ``None`` for ``latest``; the month before
    ``ANXIN_TODAY`` (default: this month) for ``previous-month``."""
    if value in (None, "", "latest"):
        return None
    if value == "previous-month":
        today = dt.date.fromisoformat(anxin.get_config().today + "-01")
        return (today - dt.timedelta(days=1)).strftime("%Y-%m")
    if not _MONTH.fullmatch(str(value)):
        raise ConfigError(
            f"{where} must be YYYY-MM, 'latest' or 'previous-month'. Got {value!r} "
            "instead.",
            key="score.as_of",
        )
    return str(value)


def _policy(section: Section) -> anxin.LevelPolicy | None:
    value = section.get(
        "policy",
        (str, dict),
        None,
        hint="Give a JSON file or a table {kind, red, orange, yellow}.",
    )
    if value is None:
        return None
    try:
        if isinstance(value, str):
            return anxin.LevelPolicy.from_file(section.path("policy"))
        return anxin.LevelPolicy.from_dict(dict(value))
    except anxin.AnxinError as exc:
        raise section.fail("policy", str(exc)) from None
    except (OSError, ValueError, TypeError) as exc:
        raise section.fail(
            "policy",
            f"cannot read the level policy ({type(exc).__name__}: {exc}). Expected "
            '{"kind": "threshold"|"quota", "red": .., "orange": .., "yellow": .., '
            '"by": null|"region"}.',
        ) from None


def read_config(path: str | Path, as_of: str | None = None) -> ScoringConfig:
    """Read and check the scoring job's config (``as_of`` overrides the file's)."""
    raw, file = load_config(path)
    check_sections(raw, file)
    if "score" not in raw:
        raise ConfigError(f"{file}: table [score] is missing.", key="score")
    s = Section(raw, "score", file)
    data_dir = s.path("data_dir", hint="The directory with the contract tables.")
    out_dir = s.path("out_dir", hint="Root of the as_of=YYYY-MM output directories.")
    month = resolve_as_of(
        as_of if as_of is not None else s.get("as_of", str, "latest"),
        "--as-of" if as_of is not None else s.where("as_of"),
    )
    config = ScoringConfig(
        data_dir=data_dir,
        out_dir=out_dir,
        as_of=month,
        model=s.get("model", str, None),
        tracking_uri=s.get("tracking_uri", str, None),
        policy=_policy(s),
        explain=s.get("explain", str, "alerts", choices=EXPLAIN_MODES),
        top_k=s.get("top_k", int, 3),
        encoding=s.get("encoding", str, None),
        log=s.get("log", bool, True),
        cases_url=None,
        cases_min_level="yellow",
    )
    if config.top_k < 1:
        raise s.fail("top_k", f"must be at least 1. Got {config.top_k}.")
    s.done()
    if "cases" in raw:
        c = Section(raw, "cases", file)
        url = c.get("url", str, None)
        url_env = c.get("url_env", str, None)
        if (url is None) == (url_env is None):
            raise c.fail(
                "url",
                "give exactly one of 'url' or 'url_env' (the name "
                "of an environment variable holding the URL).",
            )
        if url_env is not None:
            url = os.environ.get(url_env)
            if not url:
                raise c.fail("url_env", f"environment variable {url_env} is not set.")
        level = c.get("min_level", str, "yellow", choices=("yellow", "orange", "red"))
        c.done()
        config = dataclasses.replace(config, cases_url=url, cases_min_level=level)
    return config


def score(config: ScoringConfig, project: ProjectRun | None = None) -> dict[str, Any]:
    """Score the month, open cases; return the job summary."""
    try:
        model = anxin.load_model(config.model, tracking_uri=config.tracking_uri)
    except anxin.ModelNotFoundError as exc:
        # fail before reading the data; say which config key to change
        raise anxin.ModelNotFoundError(
            f"{exc} Check [score] model in the config (default "
            "models:/anxin-arrears@champion), or run pipelines/retrain.py to "
            "register a champion.",
        ) from exc
    logger.info(
        "scoring %s with %s v%s (data %s)",
        config.as_of or "the latest month",
        model.name,
        model.version,
        config.data_dir,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", anxin.DriftWarning)
        result = anxin.score_month(
            config.data_dir,
            config.as_of,
            config.out_dir,
            model=model,
            policy=config.policy,
            explain=config.explain,
            top_k=config.top_k,
            encoding=config.encoding,
            log=config.log,
            tracking_uri=config.tracking_uri,
        )
    for w in caught:  # drift is reported, never fatal; other warnings pass on
        if issubclass(w.category, anxin.DriftWarning):
            logger.warning("drift (漂移): %s", w.message)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    s = result.summary
    quarantined = s["quarantine"]["rows"]
    if quarantined:
        logger.warning(
            "%d rows quarantined (隔离) by validation: %s; see %s",
            quarantined,
            s["quarantine"]["by_table"],
            result.out_dir / "quarantine.csv",
        )
    logger.info(
        "wrote %s: %d enterprises, levels %s", result.out_dir, s["scored"], s["levels"]
    )
    summary: dict[str, Any] = {
        "job": "score",
        "status": "ok",
        "as_of": s["as_of"],
        "out_dir": str(result.out_dir),
        "model": f"{s['model_name']}/{s['model_version']}",
        "scored": s["scored"],
        "levels": s["levels"],
        "quarantined_rows": quarantined,
        "drift_alerts": s["drift"]["alerts"],
        "psi_score": s["drift"]["psi_score"],
        "mlflow_run_id": result.run_id,
        "cases": None,
    }
    if config.cases_url is not None:
        with anxin.CaseStore(config.cases_url) as store:
            opened = store.open_from_scores(
                result.scores, min_level=config.cases_min_level
            )
            logger.info(
                "cases in %r: %d opened, %d escalated, %d unchanged",
                store,
                opened.opened,
                opened.escalated,
                opened.unchanged,
            )
        summary["cases"] = {
            "opened": opened.opened,
            "escalated": opened.escalated,
            "unchanged": opened.unchanged,
        }
    if project is not None:
        project.record(
            tags={
                "anxin_job": "score",
                "as_of": s["as_of"],
                "anxin_scoring_run_id": result.run_id or "",
                "model": summary["model"],
                "out_dir": summary["out_dir"],
                "drift_alerts": ",".join(s["drift"]["alerts"]),
            },
            metrics={
                "scored": s["scored"],
                "quarantined_rows": quarantined,
                "psi_score": s["drift"]["psi_score"],
                **{f"level_{k}": v for k, v in s["levels"].items()},
                **{f"cases_{k}": v for k, v in (summary["cases"] or {}).items()},
            },
            summary=summary,
        )
    return summary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="monthly_scoring.py",
        description="Score one month of wage-arrears risk (安薪云) and write "
        "OUT/as_of=YYYY-MM/ atomically. Exit 0 ok, 1 failure, 2 bad config or "
        "contract broken.",
        epilog="Example: python pipelines/monthly_scoring.py --config anxin.toml "
        "--as-of 2026-06",
    )
    parser.add_argument(
        "--config",
        "-c",
        required=True,
        type=Path,
        help="TOML config file (see pipelines/config.example.toml).",
    )
    parser.add_argument(
        "--as-of",
        default=None,
        help="YYYY-MM, 'latest' or 'previous-month'; overrides [score] as_of.",
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="Log warnings and errors only."
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="Debug logs.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the job; return the exit code."""
    try:
        args = parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    setup_logging(quiet=args.quiet, verbose=args.verbose)

    def job(project: ProjectRun | None) -> dict[str, Any]:
        config = read_config(args.config, args.as_of or None)
        return score(config, project)

    return run_job(job, "score")


if __name__ == "__main__":
    sys.exit(main())
