"""Monthly batch scoring, written safely.

:func:`score_month` validates a data directory (row-level breaches are
quarantined and reported), builds features for one month, predicts and
explains, checks drift against the model's training distributions, writes

``OUT_DIR/as_of=YYYY-MM/``
    ``scores.parquet``, ``summary.json``, ``drift.csv``, ``quarantine.csv``
    and ``quarantine/NAME.csv`` (the quarantined input rows)

and logs the run to MLflow. The month's directory is written under a
temporary name and swapped in with renames, so a crash or kill at any moment
leaves either the previous complete output or none (a half-finished swap is
rolled back on the next run); re-running a month replaces it.

One run of a month at a time: a run holds ``OUT_DIR/.as_of=YYYY-MM.lock``
(see :mod:`anxin._lock`) from the moment its month is known until the new
directory is in place; a second run of the same month waits for it, up to
``lock_timeout`` seconds. Other months run in parallel.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import math
import os
import shutil
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anxin._lock import month_lock
from anxin._params import check_month, check_param, resolve_n_jobs
from anxin._version import __version__
from anxin.drift import drift_report, drift_summary
from anxin.exceptions import ContractError, DriftWarning
from anxin.features import build_features
from anxin.levels import LevelPolicy
from anxin.model import ArrearsModel
from anxin.prediction import as_policy, load_model, score_frame
from anxin.reasons import attach_reasons
from anxin.schemas import LEVELS
from anxin.tables import load_tables
from anxin.validation import ValidationReport, validate

__all__ = [
    "ScoreResult",
    "StepClock",
    "begin_month",
    "commit_month",
    "log_scoring",
    "month_dir",
    "score_month",
]

logger = logging.getLogger(__name__)

SCORING_EXPERIMENT = "anxin-scoring"
Step = Callable[[str], None]


@dataclasses.dataclass
class ScoreResult:
    """What :func:`score_month` did.

    Attributes
    ----------
    scores : DataFrame
        The written scores (predict columns plus reasons).
    summary : dict
        The content of ``summary.json``.
    drift : DataFrame
        PSI per feature and for the score (``feature``, ``psi``, ``alert``).
    validation : ValidationReport
    out_dir : Path
        The month's output directory.
    run_id : str or None
        MLflow run of this scoring (``None`` when not logged).
    """

    scores: pd.DataFrame
    summary: dict[str, Any]
    drift: pd.DataFrame
    validation: ValidationReport
    out_dir: Path
    run_id: str | None = None


def month_dir(out_dir: str | Path, as_of: str) -> Path:
    """``OUT_DIR/as_of=YYYY-MM``."""
    return Path(out_dir) / f"as_of={as_of}"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(
    out_dir: str | Path, as_of: str, *, lock_timeout: float | None = None
) -> None:
    """Finish or roll back an interrupted swap of a month's directory.

    If the month's directory is missing but a previous complete version was
    set aside (``.as_of=YYYY-MM.old-*``), it is put back. Unfinished
    temporary directories are removed. The month's lock is taken first
    (waiting up to ``lock_timeout`` seconds), so the work of a live run is
    never touched: whatever is left over belongs to runs that ended.
    """
    root = Path(out_dir)
    if not root.is_dir():
        return
    with month_lock(root, as_of, timeout=_lock_timeout(lock_timeout, "recover")):
        _recover(root, as_of)


def _recover(root: Path, as_of: str) -> None:
    """:func:`recover` for a caller holding the month's lock."""
    final = month_dir(root, as_of)
    olds = sorted(root.glob(f".as_of={as_of}.old-*"), key=lambda p: p.stat().st_mtime)
    if not final.exists() and olds:
        olds[-1].rename(final)
        logger.warning("restored %s after an interrupted run", final)
        olds = olds[:-1]
    for stale in [*olds, *root.glob(f".as_of={as_of}.tmp-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def _lock_timeout(value: float | None, owner: str) -> float | None:
    """``None`` (wait as long as it takes) or a finite number of seconds >= 0."""
    check_param(
        "lock_timeout",
        value,
        owner,
        "None (wait as long as it takes) or a number of seconds >= 0",
        value is None
        or (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and value >= 0
        ),
    )
    return None if value is None else float(value)


def _write_month(
    out_dir: Path, as_of: str, writers: Mapping[str, Callable[[Path], None]]
) -> Path:
    """Write files into a temporary directory, then swap it in atomically.

    The caller holds the month's lock: leftovers are from runs that ended.
    """
    tmp = begin_month(out_dir, as_of)
    for name, write in writers.items():
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        write(target)
        with open(target, "rb") as fh:
            os.fsync(fh.fileno())
    return commit_month(out_dir, as_of, tmp)


def begin_month(out_dir: Path, as_of: str) -> Path:
    """A fresh hidden work directory for the month (leftovers cleared first).

    The caller holds the month's lock; :func:`commit_month` swaps it in.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    _recover(out_dir, as_of)
    tmp = out_dir / f".as_of={as_of}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    return tmp


def commit_month(out_dir: Path, as_of: str, tmp: Path) -> Path:
    """Swap the finished work directory ``tmp`` in as ``as_of=YYYY-MM``.

    The files are on disk already (their writers sync them); the
    directories' entries are synced here, the deepest first, then the swap.
    """
    for directory in sorted((p for p in tmp.rglob("*") if p.is_dir()), reverse=True):
        _fsync_dir(directory)
    _fsync_dir(tmp)
    final = month_dir(out_dir, as_of)
    old = out_dir / f".as_of={as_of}.old-{tmp.name.rsplit('-', 1)[-1]}"
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    _fsync_dir(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return final


class StepClock:
    """Times each named step and passes the name on (to a progress display).

    ``timings`` holds the seconds of each finished step; ``t0`` is when the
    clock started. :func:`score_month` and :func:`anxin.spark.score` time
    their steps with it.
    """

    def __init__(self, step: Step | None) -> None:
        self.step = step
        self.timings: dict[str, float] = {}
        self._name = ""
        self.t0 = self._start = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        if self._name:
            self.timings[self._name] = round(now - self._start, 2)
        self._name, self._start = name, now
        if self.step is not None:
            self.step(name)


def _csv_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        frame.to_csv(path, index=False)

    return write


def score_month(
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    as_of: str | None = None,
    model: Any = None,
    policy: LevelPolicy | Mapping[str, Any] | str | Path | None = None,
    explain: str = "alerts",
    top_k: int = 3,
    encoding: str | None = None,
    log: bool = True,
    tracking_uri: str | None = None,
    step: Step | None = None,
    n_jobs: int | None = None,
    lock_timeout: float | None = None,
) -> ScoreResult:
    """Score one month of a data directory and write the results atomically.

    Parameters
    ----------
    data_dir : str or Path
        Directory with the contract tables.
    out_dir : str or Path
        Output root; results go to ``out_dir/as_of=YYYY-MM/``.
    as_of : str, optional
        Month to score, ``YYYY-MM``; default the last payroll month.
    model : ArrearsModel or str, optional
        A model or URI (default ``models:/anxin-arrears@champion``).
    policy : LevelPolicy, dict or path, optional
        Warning-level policy overriding the model's.
    explain : {"alerts", "all", "none"}, default "alerts"
    top_k : int, default 3
    encoding : str, optional
        CSV encoding of the data files (default: detect).
    log : bool, default True
        Log the run to MLflow (experiment ``anxin-scoring``).
    tracking_uri : str, optional
    step : callable, optional
        Called with the name of each step (for progress displays).
    n_jobs : int, optional
        Threads: ``None`` or ``-1`` all available cores, else that many.
    lock_timeout : float, optional
        Seconds to wait while another run of the same month holds its lock
        (``OUT_DIR/.as_of=YYYY-MM.lock``); ``None`` (the default) waits as
        long as it takes, ``0`` does not wait. The lock is taken before the
        data are read when ``as_of`` is given, else once validation has found
        the month; it is held until the month's directory is in place.

    Returns
    -------
    ScoreResult

    Raises
    ------
    ContractError
        If the data break the contract at table level (nothing is written).
    LockTimeoutError
        If another run of the month still holds the lock after
        ``lock_timeout`` seconds (the message names its pid, host and start).
    """
    if as_of is not None:  # before anything, the lock file's name included
        check_month("as_of", as_of, "score_month")
    t0 = time.perf_counter()
    jobs = resolve_n_jobs(n_jobs, "score_month")
    wait = _lock_timeout(lock_timeout, "score_month")
    say = StepClock(step)

    say("load model")  # first: a missing model fails before any data is read
    m = load_model(model, tracking_uri=tracking_uri)
    with contextlib.ExitStack() as held:
        if as_of is not None:  # one run of the month at a time from here on
            held.enter_context(month_lock(out_dir, as_of, timeout=wait))
        say("read tables")
        raw = load_tables(data_dir, encoding=encoding)
        say("validate")
        report = validate(raw)
        del raw  # the report's tables are what the month needs
        tables = report.tables
        month = as_of or tables.last_period()
        if month is None:
            raise ContractError(
                "payroll: no valid rows, so there is no month to score. Check the "
                "quarantine report (anxin validate) and the payroll export.",
                table="payroll",
            )
        if as_of is None:
            held.enter_context(month_lock(out_dir, month, timeout=wait))
        say("features")
        feats = build_features(tables, as_of=month, n_jobs=jobs)
        say("predict")
        out, levels = score_frame(m, feats, month, as_policy(policy), jobs)
        say("explain")
        scored = attach_reasons(m, feats, out, levels, explain, top_k, n_jobs=jobs)
        say("drift")
        drift = drift_report(m, feats, out["risk_score"].to_numpy(), as_of=month)
        _warn_drift(drift, month)
        policy_used = as_policy(policy) or m.policy
        summary = _summary(m, month, scored, levels, drift, report, policy_used)
        say("write")

        def write_json(path: Path) -> None:
            say("write summary")
            summary["seconds"] = round(time.perf_counter() - t0, 2)
            summary["timings"] = dict(say.timings)
            text = json.dumps(summary, ensure_ascii=False, indent=2)
            path.write_text(text, "utf-8")

        writers = _writers(scored, drift, report)
        writers["summary.json"] = write_json  # last: a summary means all is there
        final = _write_month(Path(out_dir), month, writers)
    result = ScoreResult(scored, summary, drift, report, final)
    if log:
        say("log")
        result.run_id = log_scoring(result.summary, result.drift, tracking_uri)
    logger.info("scored %s: %d enterprises, %s", month, len(scored), summary["levels"])
    return result


def _warn_drift(drift: pd.DataFrame, month: str) -> None:
    alerts = drift[drift["alert"]]
    if not alerts.empty:
        names = ", ".join(f"{r.feature} (PSI {r.psi:.2f})" for r in alerts.itertuples())
        warnings.warn(
            f"Scoring data for {month} have drifted from the same months of the "
            f"training data (act): {names}. Check the inputs (see "
            "docs/operations.md) and consider retraining.",
            DriftWarning,
            stacklevel=3,
        )


def _summary(
    model: ArrearsModel,
    month: str,
    scored: pd.DataFrame,
    levels: pd.Categorical[str],
    drift: pd.DataFrame,
    report: ValidationReport,
    policy: LevelPolicy,
) -> dict[str, Any]:
    """The content of ``summary.json`` (``seconds`` and ``timings`` come last)."""
    by_region = (
        scored.groupby(["region", "risk_level"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=list(LEVELS), fill_value=0)
    )
    risk = scored["risk_score"]
    is_score = drift["feature"] == "risk_score"
    alert_share = float(np.mean(np.asarray(levels != "none"))) if len(scored) else 0.0
    return {
        "as_of": month,
        "model_name": model.name,
        "model_version": str(model.version),
        "anxin_version": __version__,
        "scored": len(scored),
        "levels": {lvl: int((levels == lvl).sum()) for lvl in LEVELS},
        "levels_by_region": {
            str(r): {k: int(v) for k, v in row.items()}
            for r, row in by_region.iterrows()
        },
        "policy": policy.to_dict(),
        "quarantine": {
            "rows": report.n_quarantined,
            "by_table": report.summary()["rows_quarantined"],
            "by_rule": report.summary()["breaches_by_rule"],
        },
        "drift": {
            **drift_summary(
                drift,
                alert_share=alert_share,
                reference_share=model.reference.alert_share,
            ),
            "psi_max_feature": float(drift.loc[~is_score, "psi"].max()),
        },
        "score": {
            "mean": float(risk.mean()) if len(risk) else None,
            "p50": float(risk.quantile(0.5)) if len(risk) else None,
            "p95": float(risk.quantile(0.95)) if len(risk) else None,
            "p99": float(risk.quantile(0.99)) if len(risk) else None,
        },
        "seconds": None,
    }


def _writers(
    scored: pd.DataFrame, drift: pd.DataFrame, report: ValidationReport
) -> dict[str, Callable[[Path], None]]:
    """File name -> writer, for every file of the month but the summary."""

    def write_scores(path: Path) -> None:
        scored.to_parquet(path, index=False)

    writers: dict[str, Callable[[Path], None]] = {
        "scores.parquet": write_scores,
        "drift.csv": _csv_writer(drift),
        "quarantine.csv": _csv_writer(report.quarantine),
    }
    for name in report.rows_in:
        if report.rows_in[name] > report.rows_valid[name]:
            writers[f"quarantine/{name}.csv"] = functools.partial(
                report.write_quarantined, name
            )
    return writers


def log_scoring(
    summary: dict[str, Any],
    drift: pd.DataFrame,
    tracking_uri: str | None,
    engine: str = "local",
) -> str:
    """Log a scored month to the ``anxin-scoring`` experiment; the run id.

    ``engine`` (``local`` or ``spark``) is a tag and a parameter.
    """
    import mlflow

    from anxin import tracking

    s = summary
    with tracking.use_tracking(tracking_uri) as uri:
        exp = tracking.ensure_experiment(SCORING_EXPERIMENT, uri)
        with tracking.start_run(
            exp,
            f"score-{s['as_of']}",
            tags={
                "as_of": s["as_of"],
                "model_name": s["model_name"],
                "model_version": s["model_version"],
                "anxin_version": __version__,
                "drift_alerts": ",".join(s["drift"]["alerts"]),
                "engine": engine,
            },
        ) as run:
            mlflow.log_params(
                {
                    "as_of": s["as_of"],
                    "model_version": s["model_version"],
                    "policy_kind": s["policy"]["kind"],
                    "engine": engine,
                }
            )
            metrics = {
                "scored": s["scored"],
                "quarantined_rows": s["quarantine"]["rows"],
                **{f"level_{k}": v for k, v in s["levels"].items()},
                "psi_score": s["drift"]["psi_score"],
                "psi_max_feature": s["drift"]["psi_max_feature"],
                **{f"score_{k}": v for k, v in s["score"].items() if v is not None},
            }
            mlflow.log_metrics(tracking.clean_metrics(metrics))
            mlflow.log_dict(s, "summary.json")
            tracking.log_frame(drift, "drift.csv")
            return str(run.info.run_id)
