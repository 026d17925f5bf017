"""Scheduled monthly batch scoring (月度批量预警).

Scores one month with :func:`anxin.score_month` -- which validates the data,
quarantines bad rows, writes ``OUT/as_of=YYYY-MM/`` atomically and logs the
run to MLflow -- and, with a ``[cases]`` table in the config, opens or
escalates cases for the flagged enterprises. Re-running a month replaces its
output and opens no duplicate cases; drift is logged, never fatal::

    python pipelines/monthly_scoring.py --config /etc/anxin/anxin.toml
    python pipelines/monthly_scoring.py --config anxin.toml --as-of 2026-06 -q

Config ``[score]`` and ``[cases]``, the JSON summary on stdout and the exit
codes (0 done, 1 failure, 2 bad config or data that break the contract):
:mod:`anxin.jobs` and ``docs/operations.md``.
"""

from __future__ import annotations

import logging
import sys

import anxin
from anxin import jobs

logger = logging.getLogger("pipelines.monthly_scoring")


def score(config: jobs.ScoreJobConfig) -> jobs.Outcome:
    """Score the month, open cases; the job's summary and figures."""
    s = config.score
    try:  # fail before reading the data; say which config key to change
        model = anxin.load_model(s.model, tracking_uri=s.tracking_uri)
    except anxin.ModelNotFoundError as exc:
        raise anxin.ModelNotFoundError(
            f"{exc} Check [score] model in the config (default "
            "models:/anxin-arrears@champion), or run pipelines/retrain.py to "
            "register a champion.",
        ) from exc
    month = s.as_of or "the latest month"
    logger.info(
        "scoring %s with %s v%s (data %s)", month, model.name, model.version, s.data_dir
    )
    with jobs.report_drift(logger):
        result = anxin.score_month(
            s.data_dir,
            out_dir=s.out_dir,
            as_of=s.as_of,
            model=model,
            policy=s.policy,
            explain=s.explain,
            top_k=s.top_k,
            encoding=s.encoding,
            log=s.log,
            tracking_uri=s.tracking_uri,
        )
    jobs.log_month(result, logger)
    r = result.summary
    quarantined, drift = r["quarantine"]["rows"], r["drift"]
    cases = None
    if config.cases is not None:
        with anxin.CaseStore(config.cases.resolved_url) as store:
            opened = store.open_from_scores(
                result.scores, min_level=config.cases.min_level
            )
            logger.info(
                "cases in %r: %d opened, %d escalated, %d unchanged",
                store,
                opened.opened,
                opened.escalated,
                opened.unchanged,
            )
        cases = {k: getattr(opened, k) for k in ("opened", "escalated", "unchanged")}
    summary = {
        "job": "score",
        "status": "ok",
        "as_of": r["as_of"],
        "out_dir": str(result.out_dir),
        "model": f"{r['model_name']}/{r['model_version']}",
        "scored": r["scored"],
        "levels": r["levels"],
        "quarantined_rows": quarantined,
        "drift_alerts": drift["alerts"],
        "psi_score": drift["psi_score"],
        "mlflow_run_id": result.run_id,
        "cases": cases,
    }
    tags = {"anxin_job": "score", "anxin_scoring_run_id": result.run_id or ""}
    tags |= {k: summary[k] for k in ("as_of", "model", "out_dir")}
    tags["drift_alerts"] = ",".join(drift["alerts"])
    metrics = {k: summary[k] for k in ("scored", "quarantined_rows", "psi_score")}
    metrics |= {f"level_{k}": v for k, v in r["levels"].items()}
    metrics |= {f"cases_{k}": v for k, v in (cases or {}).items()}
    return jobs.Outcome(summary, tags=tags, metrics=metrics)


def main(argv: list[str] | None = None) -> int:
    """Run the job; return the exit code."""
    return jobs.main(
        "score",
        score,
        jobs.ScoreJobConfig,
        argv,
        prog="monthly_scoring.py",
        description="Score one month of wage-arrears risk (安薪云) and write "
        "OUT/as_of=YYYY-MM/ atomically. Exit 0 ok, 1 failure, 2 bad config or "
        "contract broken.",
        epilog="Example: python pipelines/monthly_scoring.py --config anxin.toml "
        "--as-of 2026-06",
        as_of_option=True,
    )


if __name__ == "__main__":
    sys.exit(main())
