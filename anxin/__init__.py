"""anxin (安薪云): wage-arrears early warning."""

from anxin._version import __version__
from anxin.config import Config, config_context, get_config
from anxin.exceptions import AnxinError, ContractError
from anxin.synth import SyntheticWorld, synth
from anxin.tables import Tables, load_tables, write_tables
from anxin.validation import ValidationReport, validate

__all__ = [
    "AnxinError",
    "Config",
    "ContractError",
    "SyntheticWorld",
    "Tables",
    "ValidationReport",
    "__version__",
    "config_context",
    "get_config",
    "load_tables",
    "synth",
    "validate",
    "write_tables",
]
