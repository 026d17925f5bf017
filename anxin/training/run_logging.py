"""Logging a training run to MLflow, and registering its model.

One run per training in the ``anxin-arrears`` experiment (by default) holds
parameters, the headline metrics and the per-test-month series, tags, a
description with the headline figures against the rules, the training data
as a dataset input, charts, tables, the model card and the model (a
pickle-free pyfunc); the model is registered with the ``challenger`` alias
(and ``champion`` if there is none yet) and a description linking its run
and model card. MLflow and matplotlib are imported only when a run is
logged.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anxin import _mlflow_ui
from anxin._version import __version__
from anxin.metrics import VOLUMES
from anxin.training.preparation import Prepared, fingerprint
from anxin.training.result import TrainResult
from anxin.training.splits import SplitRows
from anxin.training.summary import run_description, version_description

__all__ = [
    "EXPERIMENT",
    "log_monthly_series",
    "log_run",
    "register_model",
    "run_params",
    "run_tags",
    "write_run_files",
]

#: The MLflow experiment training runs go to by default.
EXPERIMENT = "anxin-arrears"


def log_run(
    result: TrainResult,
    prep: Prepared,
    lgb_params: dict[str, Any],
    test: SplitRows,
    scores: dict[str, np.ndarray],
    *,
    calibration: str,
    level_shares: tuple[float, float, float],
    alert_volume: float,
    tune: int,
    tracking_uri: str | None,
    experiment: str,
    model_name: str,
    register: bool,
) -> None:
    """Log the run (and register the model when ``register``).

    Fills ``result``'s MLflow coordinates (``run_id``, ``model_uri`` and, when
    registered, ``model_name``, ``model_version``, ``aliases``) and names the
    model with its registry name and version.

    Parameters
    ----------
    result : TrainResult
        What training produced.
    prep : Prepared
        The labelled training rows (tags, dataset input).
    lgb_params : dict
        The LightGBM parameters used (logged as ``lgb_*``).
    test : SplitRows
        The test rows (charts, the model's input example).
    scores : dict
        Scorer name -> test scores, for the ROC and PR charts.
    calibration, level_shares, alert_volume, tune
        The options of :func:`~anxin.train`, logged as parameters and tags.
    tracking_uri, experiment, model_name, register
        Where the run and the model go.
    """
    import mlflow

    from anxin import tracking

    with tracking.use_tracking(tracking_uri) as uri:
        exp_id = tracking.ensure_experiment(experiment, uri, training=True)
        tags = run_tags(result, prep, alert_volume=alert_volume)
        tags[_mlflow_ui.NOTE_TAG] = run_description(
            result, alert_volume=alert_volume, calibration=calibration
        )
        with tracking.start_run(exp_id, result.run_name, tags) as run:
            params = run_params(
                result,
                prep,
                lgb_params,
                calibration=calibration,
                level_shares=level_shares,
                tune=tune,
            )
            mlflow.log_params(params)
            mlflow.log_metrics(tracking.clean_metrics(result.metrics))
            log_monthly_series(result.monthly)
            _log_dataset(prep.frame, tags["data_fingerprint"])
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp)
                write_run_files(out, result, test.y, scores)
                mlflow.log_artifacts(str(out / "plots"), artifact_path="plots")
                mlflow.log_artifacts(str(out / "tables"), artifact_path="tables")
                mlflow.log_artifact(str(out / "model_card.md"))
            info = tracking.log_model(result.model, test.x.head(5))
            result.run_id = run.info.run_id
            result.run_link = _mlflow_ui.run_link(
                exp_id, result.run_id, _mlflow_ui.ui_base(uri)
            )
            result.model_uri = info.model_uri
            if register:
                register_model(
                    result,
                    info,
                    model_name=model_name,
                    uri=uri,
                    data_window=tags["data_window"],
                    alert_volume=alert_volume,
                    experiment_id=exp_id,
                )


def run_tags(
    result: TrainResult, prep: Prepared, *, alert_volume: float
) -> dict[str, str]:
    """The run's tags: version, data window and fingerprint, splits, counts."""
    from anxin import tracking

    frame, splits = prep.frame, result.splits
    tags = {
        "anxin_version": __version__,
        "data_window": f"{frame['period'].min()}..{frame['period'].max()}",
        "horizon": str(splits.horizon),
        "rows": str(len(frame)),
        "positives": str(int(frame["label"].sum())),
        "data_fingerprint": fingerprint(frame),
        "splits": str(splits),
        "source": prep.source,
        "alert_volume": str(alert_volume),
    }
    sha = tracking.git_sha()
    if sha:
        tags["git_sha"] = sha
    return tags


def run_params(
    result: TrainResult,
    prep: Prepared,
    lgb_params: dict[str, Any],
    *,
    calibration: str,
    level_shares: tuple[float, float, float],
    tune: int,
) -> dict[str, str]:
    """The run's parameters as MLflow stores them (text, at most 500 chars)."""
    splits = result.splits
    model = result.comparison.loc["model"].astype(float)
    params = {
        **{
            f"lgb_{k}": v
            for k, v in lgb_params.items()
            if k not in ("metric", "verbose")
        },
        "horizon": splits.horizon,
        "test_rows": round(model["rows"]),
        "test_positives": round(model["positives"]),
        "test_base_rate": f"{model['base_rate']:.5f}",
        "split_train": "..".join(splits.train),
        "split_valid": "..".join(splits.valid),
        "split_test": "..".join(splits.test),
        "calibration": calibration,
        "level_shares": ",".join(str(s) for s in level_shares),
        "n_features": len(prep.features),
        "best_iteration": result.best_iteration,
        "refit": result.model.spec.info.get("refit", False),
        "tune_trials": tune,
        "volumes": ",".join(str(v) for v in VOLUMES),
    }
    return {k: str(v)[:500] for k, v in params.items()}


def _log_dataset(frame: pd.DataFrame, digest: str) -> None:
    """Log the training rows as the run's dataset input (a sample: the digest
    names the whole)."""
    import mlflow

    with warnings.catch_warnings():
        # MLflow's hint about integer columns concerns the 0/1 label
        warnings.filterwarnings("ignore", message="Hint: Inferred schema")
        dataset = mlflow.data.from_pandas(  # type: ignore[attr-defined]
            frame.head(10_000), name="anxin-panel", targets="label", digest=digest
        )
        mlflow.log_input(dataset, context="training")


def log_monthly_series(monthly: pd.DataFrame) -> None:
    """Log the model's AUC and AP per test month as two MLflow series
    (``test_auc_by_month``, ``test_ap_by_month``): step ``i`` is the i-th
    test month (period, for quarterly or yearly data) and the timestamp is
    its first day, so the chart view overlays runs by test month (step) or
    by calendar month (time)."""
    import mlflow

    model = monthly[monthly["scorer"] == "model"] if len(monthly) else monthly
    for step, rec in enumerate(model.sort_values("month").itertuples(index=False)):
        start = pd.Period(str(rec.month)).to_timestamp()  # a month, quarter, year
        stamp = int(start.timestamp() * 1000)
        for metric in ("auc", "ap"):
            value = float(getattr(rec, metric))
            if np.isfinite(value):
                mlflow.log_metric(
                    f"test_{metric}_by_month", value, step=step, timestamp=stamp
                )


def write_run_files(
    out: Path, result: TrainResult, y: np.ndarray, scores: dict[str, np.ndarray]
) -> None:
    """Write the run's artifacts into ``out``: ``plots/`` (charts),
    ``tables/`` (metric comparison, lift, slices, months, levels,
    calibration bins, importances) and ``model_card.md``."""
    from anxin.metrics import calibration_bins
    from anxin.training.plots import write_plots

    write_plots(
        out / "plots",
        y,
        scores,
        result.lift,
        result.importance,
        result.group_importance,
        levels=result.levels,
        monthly=result.monthly,
    )
    tables = out / "tables"
    tables.mkdir()
    result.comparison.rename_axis("model").reset_index().to_csv(
        tables / "metrics_comparison.csv", index=False
    )
    result.lift.to_csv(tables / "lift.csv", index=False)
    for kind, table in result.slices.items():
        table.to_csv(tables / f"slices_{kind}.csv", index=False)
    result.monthly.to_csv(tables / "months.csv", index=False)
    result.levels.to_csv(tables / "levels.csv", index=False)
    calibration_bins(y, scores["model"]).to_csv(
        tables / "calibration_bins.csv", index=False
    )
    result.importance.to_csv(tables / "feature_importance.csv", index=False)
    result.group_importance.to_csv(tables / "group_importance.csv", index=False)
    (out / "model_card.md").write_text(result.card, encoding="utf-8")


def register_model(
    result: TrainResult,
    info: Any,
    *,
    model_name: str,
    uri: str,
    data_window: str,
    alert_volume: float = 0.05,
    experiment_id: str | None = None,
) -> None:
    """Register the logged model (see :func:`anxin.tracking.register`) with a
    description (data window, horizon, headline figures against the rules,
    links to the run and the model card), and record the new version on
    ``result``, its model and the active run."""
    import mlflow

    from anxin import tracking

    description = None
    if experiment_id is not None and result.run_id is not None:
        base, run_id = _mlflow_ui.ui_base(uri), result.run_id
        description = version_description(
            result,
            alert_volume=alert_volume,
            data_window=data_window,
            run_link=_mlflow_ui.run_link(experiment_id, run_id, base),
            card_link=_mlflow_ui.run_link(
                experiment_id, run_id, base, artifact="model_card.md"
            ),
        )
    version, aliases = tracking.register(
        info.model_uri,
        model_name,
        run_id=result.run_id,
        uri=uri,
        model_id=getattr(info, "model_id", None),
        tags={
            "test_ap": f"{result.metrics['test_ap']:.5f}",
            "rules_test_ap": f"{result.metrics.get('rules_test_ap', np.nan):.5f}",
            "data_window": data_window,
        },
        description=description,
    )
    result.model_name, result.model_version = model_name, version
    result.aliases = aliases
    result.model.name, result.model.version = model_name, version
    mlflow.set_tags({"registered_model": model_name, "registered_version": version})
