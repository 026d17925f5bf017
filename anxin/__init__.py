"""anxin (安薪云): wage-arrears early warning.

The public API, in the order of the work:

* the data contract -- :func:`load_tables`, :func:`validate`, :class:`Tables`;
* a synthetic world -- :func:`synth`;
* features and labels -- :func:`build_features`, :func:`build_labels`,
  :data:`CATALOGUE`;
* training and versioning -- :func:`train`, :func:`promote`, :func:`compare`;
* scoring -- :func:`load_model`, :func:`predict`, :func:`explain`,
  :func:`score_month`;
* the handling chain -- :class:`CaseStore`, :func:`merge_outcomes`.

Configuration comes from ``ANXIN_*`` and ``MLFLOW_TRACKING_URI`` environment
variables (:func:`get_config`, :func:`config_context`).
"""

from typing import TYPE_CHECKING, Any

from anxin._version import __version__

if TYPE_CHECKING:  # for type checkers and IDEs; at run time see __getattr__
    from anxin.cases import CaseStore, log_field_performance, merge_outcomes
    from anxin.catalogue import CATALOGUE, Feature
    from anxin.comparison import Comparison, compare
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


#: Public name -> the module that defines it; imported on first use (PEP 562),
#: so `import anxin` and `anxin --help` do not load LightGBM, pandera or MLflow.
_HOMES = {
    "CaseStore": "anxin.cases",
    "log_field_performance": "anxin.cases",
    "merge_outcomes": "anxin.cases",
    "CATALOGUE": "anxin.catalogue",
    "Feature": "anxin.catalogue",
    "Comparison": "anxin.comparison",
    "compare": "anxin.comparison",
    "Config": "anxin.config",
    "config_context": "anxin.config",
    "get_config": "anxin.config",
    "AnxinError": "anxin.exceptions",
    "CaseConflictError": "anxin.exceptions",
    "CaseError": "anxin.exceptions",
    "ContractError": "anxin.exceptions",
    "DriftWarning": "anxin.exceptions",
    "IllegalTransitionError": "anxin.exceptions",
    "InvalidParameterError": "anxin.exceptions",
    "LockTimeoutError": "anxin.exceptions",
    "ModelNotFoundError": "anxin.exceptions",
    "NotFittedError": "anxin.exceptions",
    "UnknownCaseError": "anxin.exceptions",
    "build_features": "anxin.features",
    "build_labels": "anxin.labels",
    "LevelPolicy": "anxin.levels",
    "ArrearsModel": "anxin.model",
    "load_model": "anxin.prediction",
    "predict": "anxin.prediction",
    "PromotionDecision": "anxin.promotion",
    "promote": "anxin.promotion",
    "explain": "anxin.reasons",
    "ScoreResult": "anxin.scoring",
    "score_month": "anxin.scoring",
    "SyntheticWorld": "anxin.synthetic",
    "synth": "anxin.synthetic",
    "Tables": "anxin.tables",
    "load_tables": "anxin.tables",
    "write_tables": "anxin.tables",
    "Splits": "anxin.training",
    "TrainResult": "anxin.training",
    "make_splits": "anxin.training",
    "train": "anxin.training",
    "ValidationReport": "anxin.validation",
    "validate": "anxin.validation",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is used."""
    if name in _HOMES:
        import importlib

        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    raise AttributeError(f"module 'anxin' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "CATALOGUE",
    "AnxinError",
    "ArrearsModel",
    "CaseConflictError",
    "CaseError",
    "CaseStore",
    "Comparison",
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
    "compare",
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
