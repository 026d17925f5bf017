"""anxin (安薪云): wage-arrears early warning.

The public API, in the order of the work:

* the data contract -- :func:`load_tables`, :func:`validate`, :class:`Tables`;
* a synthetic world -- :func:`synth`;
* features and labels -- :func:`build_features`, :func:`build_labels`;
"""

from anxin._version import __version__
from anxin.config import Config, config_context, get_config
from anxin.exceptions import (
    AnxinError,
    CaseConflictError,
    CaseError,
    ContractError,
    DriftWarning,
    IllegalTransitionError,
    InvalidParameterError,
    ModelNotFoundError,
    NotFittedError,
    UnknownCaseError,
)
from anxin.features import CATALOGUE, build_features, build_labels
from anxin.synth import SyntheticWorld, synth
from anxin.tables import Tables, load_tables, write_tables
from anxin.validation import ValidationReport, validate

__all__ = [
    "CATALOGUE",
    "AnxinError",
    "CaseConflictError",
    "CaseError",
    "Config",
    "ContractError",
    "DriftWarning",
    "IllegalTransitionError",
    "InvalidParameterError",
    "ModelNotFoundError",
    "NotFittedError",
    "SyntheticWorld",
    "Tables",
    "UnknownCaseError",
    "ValidationReport",
    "__version__",
    "build_features",
    "build_labels",
    "config_context",
    "get_config",
    "load_tables",
    "synth",
    "validate",
    "write_tables",
]
