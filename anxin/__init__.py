"""anxin (安薪云): wage-arrears early warning.

The public API, in the order of the work:

* the data contract -- :func:`load_tables`, :func:`validate`, :class:`Tables`;
* a synthetic world -- :func:`synth`;
* features and labels -- :func:`build_features`, :func:`build_labels`,
  :data:`CATALOGUE`;
* training and versioning -- :func:`train`, :func:`promote`;
* scoring -- :func:`load_model`, :func:`predict`, :func:`explain`,
  :func:`score_month`;
* the handling chain -- :class:`CaseStore`, :func:`merge_outcomes`.

Configuration comes from ``ANXIN_*`` and ``MLFLOW_TRACKING_URI`` environment
variables (:func:`get_config`, :func:`config_context`).
"""

from anxin._version import __version__
from anxin.cases import CaseStore, log_field_performance, merge_outcomes
from anxin.catalogue import CATALOGUE, Feature
from anxin.config import Config, config_context, get_config
from anxin.exceptions import (
    AnxinError,
    CaseConflictError,
    CaseError,
    ContractError,
    DriftWarning,
    IllegalTransitionError,
    InvalidParameterError,
    LockTimeoutError,
    ModelNotFoundError,
    NotFittedError,
    UnknownCaseError,
)
from anxin.features import build_features
from anxin.labels import build_labels
from anxin.levels import LevelPolicy
from anxin.model import ArrearsModel
from anxin.prediction import load_model, predict
from anxin.promotion import PromotionDecision, promote
from anxin.reasons import explain
from anxin.scoring import ScoreResult, score_month
from anxin.synthetic import SyntheticWorld, synth
from anxin.tables import Tables, load_tables, write_tables
from anxin.training import Splits, TrainResult, make_splits, train
from anxin.validation import ValidationReport, validate

__all__ = [
    "CATALOGUE",
    "AnxinError",
    "ArrearsModel",
    "CaseConflictError",
    "CaseError",
    "CaseStore",
    "Config",
    "ContractError",
    "DriftWarning",
    "Feature",
    "IllegalTransitionError",
    "InvalidParameterError",
    "LevelPolicy",
    "LockTimeoutError",
    "ModelNotFoundError",
    "NotFittedError",
    "PromotionDecision",
    "ScoreResult",
    "Splits",
    "SyntheticWorld",
    "Tables",
    "TrainResult",
    "UnknownCaseError",
    "ValidationReport",
    "__version__",
    "build_features",
    "build_labels",
    "config_context",
    "explain",
    "get_config",
    "load_model",
    "load_tables",
    "log_field_performance",
    "make_splits",
    "merge_outcomes",
    "predict",
    "promote",
    "score_month",
    "synth",
    "train",
    "validate",
    "write_tables",
]
