"""Training: out-of-time splits, LightGBM, calibration, baselines, MLflow.

:func:`train` takes validated contract tables (features are built with
:func:`anxin.build_features`) or a prepared feature frame, splits it by as-of
month into train / validation / test with a ``horizon``-month gap between
them, fits LightGBM with early stopping on validation, calibrates on
validation, evaluates on test beside two baselines (the weighted rule
score bureaus run today and a logistic regression on the same features), and
logs everything to MLflow: parameters, metrics, charts, a model card, the
training data as a dataset input, and the model as a pickle-free pyfunc
registered with the ``challenger`` alias (and ``champion`` if there is none
yet).

The parts, one module each:

==========================================  ====================================
:mod:`~anxin.training.preparation`          tables or a frame -> labelled rows
:mod:`~anxin.training.splits`               out-of-time splits and their rows
:mod:`~anxin.training.fitting`              LightGBM, Optuna, refit, calibration
:mod:`~anxin.training.baselines`            the rule score, logistic regression
:mod:`~anxin.training.evaluation`           metrics side by side, lift, slices
:mod:`~anxin.training.assembly`             the model with spec and drift data
:mod:`~anxin.training.model_card`           the Markdown model card
:mod:`~anxin.training.plots`                the charts of a run
:mod:`~anxin.training.run_logging`          the MLflow run and registration
:mod:`~anxin.training.orchestration`        :func:`train`, step by step
==========================================  ====================================
"""

from anxin.training.fitting import DEFAULT_PARAMS
from anxin.training.orchestration import train
from anxin.training.result import TrainResult
from anxin.training.splits import Splits, make_splits

__all__ = ["DEFAULT_PARAMS", "Splits", "TrainResult", "make_splits", "train"]
