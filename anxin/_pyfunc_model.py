"""MLflow pyfunc for anxin, logged as "models from code" (no pickle).

MLflow stores this file with the model and runs it at load time; the model's
state comes from plain artifact files (LightGBM text and JSON), loaded by
:meth:`anxin.model.ArrearsModel.from_files`. Serving needs anxin installed in
the serving environment (``mlflow models serve --env-manager local``).

Request: a feature frame (the columns of ``anxin.build_features``; extra
columns such as ``enterprise_id`` and ``as_of`` are passed through).
Response: one row per input row with ``risk_score``, ``risk_level``, ``rank``
and ``reasons`` (a JSON list of the top reasons, in Chinese and English).

A bad request (no rows, a param out of range, an infinite feature value)
raises an ``MlflowException`` with ``INVALID_PARAMETER_VALUE``, which MLflow's
scoring server answers with a 400 and anxin's message, not a stack trace.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel


class AnxinPyfunc(PythonModel):
    """Score and explain a feature frame."""

    def load_context(self, context: Any) -> None:
        from anxin.model import ArrearsModel

        self.model = ArrearsModel.from_files(context.artifacts)

    def predict(
        self,
        context: Any,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        from anxin.exceptions import AnxinError
        from anxin.reasons import serve_frame

        params = params or {}
        try:
            return serve_frame(
                self.model,
                model_input,
                top_k=params.get("top_k", 3),
                explain=params.get("explain", "alerts"),
            )
        except AnxinError as exc:
            if exc.exit_code != 2:  # not the request's fault
                raise
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from exc


mlflow.models.set_model(AnxinPyfunc())
