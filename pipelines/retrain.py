"""Retrain, register as challenger, and run the promotion rule (重新训练与晋级).

Reads the ``[retrain]`` table of a TOML config file, validates the data
directory (bad rows are quarantined and left out), trains and evaluates a new
model with :func:`anxin.train` -- which registers it with the ``challenger``
alias, and ``champion`` too when the registry has none -- then lets
:func:`anxin.promote` decide whether the challenger replaces the champion.
The decision and its figures are logged and recorded as registry tags.

Usage::

    python pipelines/retrain.py --config /etc/anxin/anxin.toml

Exit codes: ``0`` done, whether or not the challenger was promoted; ``1``
failure; ``2`` bad config file or data that break the contract. A one-line
JSON summary is printed on stdout. See ``docs/operations.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
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

logger = logging.getLogger("pipelines.retrain")

#: Test metrics reported in the job summary (when present).
REPORTED_METRICS = ("test_ap", "test_auc", "rules_test_ap", "logreg_test_ap")


@dataclasses.dataclass(frozen=True)
class RetrainConfig:
    """The ``[retrain]`` and ``[retrain.promotion]`` tables, checked."""

    data_dir: Path
    horizon: int
    refit: bool
    tune: int
    seed: int
    valid_months: int
    test_months: int
    calibration: str
    encoding: str | None
    tracking_uri: str | None
    model_name: str | None
    alert_volume: float
    tolerance: float
    eval_months: int
    force: bool


def read_config(path: str | Path) -> RetrainConfig:
    """Read and check the retraining job's config."""
    raw, file = load_config(path)
    check_sections(raw, file)
    if "retrain" not in raw:
        raise ConfigError(f"{file}: table [retrain] is missing.", key="retrain")
    r = Section(raw, "retrain", file)
    r.get("promotion", dict, {})  # read below as its own table
    p = Section(raw, "retrain.promotion", file)
    config = RetrainConfig(
        data_dir=r.path("data_dir", hint="The directory with the contract tables."),
        horizon=r.get("horizon", int, 3),
        refit=r.get("refit", bool, False),
        tune=r.get("tune", int, 0),
        seed=r.get("seed", int, 0),
        valid_months=r.get("valid_months", int, 3),
        test_months=r.get("test_months", int, 3),
        calibration=r.get("calibration", str, "sigmoid"),
        encoding=r.get("encoding", str, None),
        tracking_uri=r.get("tracking_uri", str, None),
        model_name=r.get("model_name", str, None),
        alert_volume=p.get("alert_volume", float, 0.05),
        tolerance=p.get("tolerance", float, 0.01),
        eval_months=p.get("eval_months", int, 3),
        force=p.get("force", bool, False),
    )
    r.done()
    p.done()
    return config


def retrain(config: RetrainConfig, project: ProjectRun | None = None) -> dict[str, Any]:
    """Validate, train, register, promote; return the job summary."""
    tables = anxin.load_tables(config.data_dir, encoding=config.encoding)
    report = anxin.validate(tables)
    if report.n_quarantined:
        logger.warning(
            "%d rows quarantined (隔离) by validation; training on the "
            "valid rows. Breaches by rule: %s",
            report.n_quarantined,
            report.summary()["breaches_by_rule"],
        )
    logger.info(
        "training on %s (horizon %d, refit %s, tune %d, seed %d)",
        config.data_dir,
        config.horizon,
        config.refit,
        config.tune,
        config.seed,
    )
    result = anxin.train(
        report.tables,
        horizon=config.horizon,
        valid_months=config.valid_months,
        test_months=config.test_months,
        calibration=config.calibration,
        alert_volume=config.alert_volume,
        refit=config.refit,
        tune=config.tune,
        seed=config.seed,
        tracking_uri=config.tracking_uri,
        model_name=config.model_name,
        register=True,
    )
    metrics = {k: result.metrics[k] for k in REPORTED_METRICS if k in result.metrics}
    logger.info(
        "registered %s v%s as %s; test metrics %s",
        result.model_name,
        result.model_version,
        result.aliases,
        {k: round(v, 4) for k, v in metrics.items()},
    )
    summary: dict[str, Any] = {
        "job": "retrain",
        "status": "ok",
        "model_name": result.model_name,
        "model_version": result.model_version,
        "aliases": list(result.aliases),
        "train_run_id": result.run_id,
        "splits": str(result.splits),
        "metrics": metrics,
    }
    if "champion" in result.aliases:
        # the registry had no champion: the new version took the alias
        # and there is nothing to compare it with
        promotion: dict[str, Any] = {
            "promoted": True,
            "reason": "first model: champion by default",
            "challenger_version": result.model_version,
            "champion_version": None,
            "months": [],
        }
    else:
        decision = anxin.promote(
            report.tables,
            model_name=result.model_name,
            force=config.force,
            alert_volume=config.alert_volume,
            tolerance=config.tolerance,
            eval_months=config.eval_months,
            tracking_uri=config.tracking_uri,
        )
        promotion = {
            "promoted": decision.promoted,
            "reason": decision.reason,
            "challenger_version": decision.challenger_version,
            "champion_version": decision.champion_version,
            "months": decision.months,
        }
    summary["promotion"] = promotion
    champion = promotion["champion_version"]
    logger.info(
        "promotion (晋级) of v%s over %s: %s -- %s",
        promotion["challenger_version"],
        f"v{champion}" if champion else "no champion",
        "PROMOTED" if promotion["promoted"] else "refused",
        promotion["reason"],
    )
    if project is not None:
        project.record(
            tags={
                "anxin_job": "retrain",
                "anxin_train_run_id": result.run_id or "",
                "model": f"{result.model_name}/{result.model_version}",
                "promotion_decision": "promoted"
                if promotion["promoted"]
                else "refused",
                "promotion_reason": promotion["reason"],
            },
            metrics=metrics,
            summary=summary,
        )
    return summary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="retrain.py",
        description="Retrain the wage-arrears risk model (安薪云), register it as "
        "challenger and run the promotion rule. Exit 0 whether or not it was "
        "promoted, 1 failure, 2 bad config or contract broken.",
        epilog="Example: python pipelines/retrain.py --config anxin.toml",
    )
    parser.add_argument(
        "--config",
        "-c",
        required=True,
        type=Path,
        help="TOML config file (see pipelines/config.example.toml).",
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
        config = read_config(args.config)
        return retrain(config, project)

    return run_job(job, "retrain")


if __name__ == "__main__":
    sys.exit(main())
