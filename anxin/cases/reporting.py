"""Field performance to MLflow: the live hit rate next to the offline metrics.

One run per call in the experiment ``anxin-field``, created like every anxin
experiment (:func:`anxin.tracking.ensure_experiment`) and started like every
anxin run (:func:`anxin.tracking.start_run`).
"""

from __future__ import annotations

import datetime as _dt
import logging

from anxin.cases.store import CaseStore

__all__ = ["FIELD_EXPERIMENT", "log_field_performance"]

logger = logging.getLogger(__name__)

#: Experiment the field figures go to by default.
FIELD_EXPERIMENT = "anxin-field"


def log_field_performance(
    store: CaseStore,
    tracking_uri: str | None = None,
    experiment: str = FIELD_EXPERIMENT,
    *,
    now: _dt.datetime | str | None = None,
) -> str:
    """Log :meth:`CaseStore.stats` to MLflow as one run; return its id.

    Metrics are those of :meth:`FieldStats.metrics
    <anxin.cases.FieldStats.metrics>` (``field_hit_rate``,
    ``field_hit_rate_red``, ``field_verified``, ``field_status_new``, ...);
    tags name the store (password hidden), the model versions seen and the
    time of the figures.

    Parameters
    ----------
    store : CaseStore
        The case store.
    tracking_uri : str, optional
        MLflow tracking URI; default ``get_config().tracking_uri``.
    experiment : str
        Experiment name, created if missing.
    now : datetime or ISO str, optional
        Time of the figures (for the overdue count).

    Returns
    -------
    str
        The MLflow run id.
    """
    # MLflow is imported only when something is logged.
    import mlflow

    from anxin.tracking import ensure_experiment, start_run, use_tracking

    stats = store.stats(now)
    models = sorted(
        {f"{r.model_name}:{r.model_version}" for r in stats.by_model.itertuples()}
    )
    tags = {
        "anxin.kind": "field-performance",
        "anxin.cases_db": repr(store),
        "anxin.models": ",".join(models),
        "anxin.at": stats.at.isoformat(sep=" "),
        "mlflow.note.content": "Hit rate of warnings verified in the field "
        "(cases), by level and model version.",
    }
    with use_tracking(tracking_uri) as uri:
        experiment_id = ensure_experiment(experiment, uri)
        with start_run(experiment_id, f"field-{stats.at:%Y-%m-%d}", tags) as run:
            mlflow.log_metrics(stats.metrics(), step=0)
            run_id = str(run.info.run_id)
    logger.info("field performance -> run %s in %s", run_id, experiment)
    return run_id
