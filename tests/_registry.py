"""Registering models in a test store without training runs."""

from __future__ import annotations

import mlflow

import anxin
from anxin import tracking


def register_version(result: anxin.TrainResult, uri: str, example: anxin.Tables) -> str:
    """Log ``result``'s model in a bare run and register it (as anxin.train
    would); returns the new version."""
    feats = anxin.build_features(example, as_of="2026-06").head(5)
    with tracking.use_tracking(uri):
        exp = tracking.ensure_experiment("anxin-arrears", uri)
        with mlflow.start_run(experiment_id=exp) as run:
            info = tracking.log_model(result.model, feats)
        version, _ = tracking.register(
            info.model_uri, "anxin-arrears", run_id=run.info.run_id, uri=uri
        )
    return version
