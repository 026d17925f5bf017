"""Retrain, register as challenger, and run the promotion rule (重新训练与晋级).

Validates the data (bad rows are quarantined and left out), trains a new model
with :func:`anxin.train` -- registered as ``challenger``, and ``champion`` too
when the registry has none -- and lets :func:`anxin.promote` decide whether it
replaces the champion (a refused promotion is still exit 0)::

    python pipelines/retrain.py --config /etc/anxin/anxin.toml

Config ``[retrain]``, the JSON summary on stdout and the exit codes (0 done,
1 failure, 2 bad config or data that break the contract): :mod:`anxin.jobs`
and ``docs/operations.md``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import anxin
from anxin import jobs

logger = logging.getLogger("pipelines.retrain")

#: Test metrics reported in the job summary (when present).
REPORTED_METRICS = ("test_ap", "test_auc", "rules_test_ap", "logreg_test_ap")


def retrain(config: jobs.RetrainJobConfig) -> jobs.Outcome:
    """Validate, train, register, promote; the job's summary and figures."""
    r, p = config.retrain, config.retrain.promotion
    report = anxin.validate(anxin.load_tables(r.data_dir, encoding=r.encoding))
    if report.n_quarantined:
        logger.warning(
            "%d rows quarantined (隔离) by validation; training on the "
            "valid rows. Breaches by rule: %s",
            report.n_quarantined,
            report.summary()["breaches_by_rule"],
        )
    logger.info(
        "training on %s (horizon %d, refit %s, tune %d, seed %d)",
        r.data_dir,
        r.horizon,
        r.refit,
        r.tune,
        r.seed,
    )
    result = anxin.train(
        report.tables,
        horizon=r.horizon,
        valid_periods=r.valid_months,
        test_periods=r.test_months,
        calibration=r.calibration,
        alert_volume=p.alert_volume,
        refit=r.refit,
        tune=r.tune,
        seed=r.seed,
        tracking_uri=r.tracking_uri,
        model_name=r.model_name,
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
    # when the registry had no champion, the new version took the alias and
    # there is nothing to compare it with; otherwise the promotion rule decides
    promotion: dict[str, Any] = {
        "promoted": True,
        "reason": "first model: champion by default",
        "challenger_version": result.model_version,
        "champion_version": None,
        "months": [],
    }
    if "champion" not in result.aliases:
        decision = anxin.promote(
            report.tables,
            model_name=result.model_name,
            force=p.force,
            alert_volume=p.alert_volume,
            tolerance=p.tolerance,
            eval_months=p.eval_months,
            tracking_uri=r.tracking_uri,
        )
        promotion = {k: getattr(decision, k) for k in promotion}
    champion, decided = promotion["champion_version"], promotion["promoted"]
    logger.info(
        "promotion (晋级) of v%s over %s: %s -- %s",
        promotion["challenger_version"],
        f"v{champion}" if champion else "no champion",
        "PROMOTED" if decided else "refused",
        promotion["reason"],
    )
    summary = {
        "job": "retrain",
        "status": "ok",
        "model_name": result.model_name,
        "model_version": result.model_version,
        "aliases": list(result.aliases),
        "train_run_id": result.run_id,
        "splits": str(result.splits),
        "metrics": metrics,
        "promotion": promotion,
    }
    tags = {
        "anxin_job": "retrain",
        "anxin_train_run_id": result.run_id or "",
        "model": f"{result.model_name}/{result.model_version}",
        "promotion_decision": "promoted" if decided else "refused",
        "promotion_reason": promotion["reason"],
    }
    return jobs.Outcome(summary, tags=tags, metrics=metrics)


def main(argv: list[str] | None = None) -> int:
    """Run the job; return the exit code."""
    return jobs.main(
        "retrain",
        retrain,
        jobs.RetrainJobConfig,
        argv,
        prog="retrain.py",
        description="Retrain the wage-arrears risk model (安薪云), register it as "
        "challenger and run the promotion rule. Exit 0 whether or not it was "
        "promoted, 1 failure, 2 bad config or contract broken.",
        epilog="Example: python pipelines/retrain.py --config anxin.toml",
    )


if __name__ == "__main__":
    sys.exit(main())
