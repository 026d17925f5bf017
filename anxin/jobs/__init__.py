"""What the deployable jobs in ``pipelines/`` share.

A job (``pipelines/monthly_scoring.py``, ``pipelines/retrain.py``) is a short
script: a function that takes its config (:class:`ScoreJobConfig`,
:class:`RetrainJobConfig`, typed models of the TOML config file), calls
:mod:`anxin` and returns a summary, and a ``main`` that hands it to
:func:`main`. That parses the command line, sets up logging, reads and checks
the config file (:func:`load_config`), keeps the run of ``mlflow run`` apart,
prints the one-line JSON summary and maps errors to the documented exit codes
(``docs/operations.md``):

* ``0`` -- done (drift warnings and a refused promotion are still ``0``);
* ``1`` -- a failure (missing model, unreachable store, a bug);
* ``2`` -- the config file or the input data broke the contract.

Examples
--------
A config file's tables, checked and with paths taken from its directory:

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "anxin.toml").write_text('[retrain]\\ndata_dir = "data"\\n')
>>> config = load_config(folder / "anxin.toml", RetrainJobConfig)
>>> config.retrain.data_dir == (folder / "data").resolve()
True
>>> config.retrain.promotion.tolerance
0.01
"""

from anxin.jobs._config import (
    CasesConfig,
    ConfigError,
    PromotionConfig,
    RetrainConfig,
    RetrainJobConfig,
    ScoreConfig,
    ScoreJobConfig,
    load_config,
    resolve_as_of,
)
from anxin.jobs._runner import (
    Outcome,
    log_month,
    main,
    report_drift,
    run_job,
    setup_logging,
)

__all__ = [
    "CasesConfig",
    "ConfigError",
    "Outcome",
    "PromotionConfig",
    "RetrainConfig",
    "RetrainJobConfig",
    "ScoreConfig",
    "ScoreJobConfig",
    "load_config",
    "log_month",
    "main",
    "report_drift",
    "resolve_as_of",
    "run_job",
    "setup_logging",
]
