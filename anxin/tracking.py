"""MLflow: where runs go, how models are logged, registered and found.

By default runs and the Model Registry live in a local SQLite file,
``$ANXIN_HOME/mlflow.db`` (``.anxin/mlflow.db``), with artifacts under
``$ANXIN_HOME/mlartifacts``. ``--tracking-uri`` or ``MLFLOW_TRACKING_URI``
points anxin at any other store, such as an ``mlflow server`` backed by
PostgreSQL. Models are versioned with registry aliases (``champion``,
``challenger``), never with the deprecated stages.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import tempfile
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from anxin import _mlflow_ui
from anxin._failures import redact
from anxin._params import ENVIRONMENT_ERRNOS, is_utf8, shown
from anxin._version import __version__
from anxin.config import get_config
from anxin.exceptions import InvalidParameterError, ModelNotFoundError
from anxin.model import ArrearsModel

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "ResolvedModel",
    "client",
    "detached_from_project_run",
    "ensure_experiment",
    "git_sha",
    "log_model",
    "register",
    "resolve_model",
    "start_run",
    "use_tracking",
]

logger = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
PYFUNC_FILE = Path(__file__).with_name("_pyfunc_model.py")


#: URI schemes of the stores MLflow can track to (a database scheme may name
#: its driver, as in ``postgresql+psycopg2``); plugins add their own.
TRACKING_SCHEMES = frozenset(
    {"", "file", "sqlite", "postgresql", "mysql", "mssql", "http", "https"}
    | {"databricks", "databricks-uc", "uc"}
)
#: Seconds to wait for an http(s) tracking server to accept a connection.
CONNECT_TIMEOUT = 5.0
_ANSWERED: set[tuple[str, int]] = set()


def resolve_tracking_uri(uri: str | None = None, *, create: bool = True) -> str:
    """The tracking URI to use (``uri``, else the configured one), checked.

    Parameters
    ----------
    uri : str, optional
        Default: ``MLFLOW_TRACKING_URI``, else the local SQLite store.
    create : bool, default True
        Create a local SQLite store's directory. ``False`` creates nothing
        and requires the store to exist: for reading the registry, where a
        mistyped path must not leave an empty store behind.

    Raises
    ------
    InvalidParameterError
        If MLflow cannot use the URI: an unknown scheme (``sqlit:///x.db``,
        ``notaurl://x``), a bare ``.db`` path, a SQLite path whose directory
        cannot be created.
    ConnectionError
        If an http(s) tracking server does not accept a connection.
    ModelNotFoundError
        With ``create=False``, if a local SQLite store does not exist.
    """
    source = "--tracking-uri" if uri is not None else "MLFLOW_TRACKING_URI"
    resolved = get_config().tracking_uri if uri is None else uri
    scheme = _scheme(resolved, source)
    if scheme == "sqlite":
        _local_store(resolved, source, create=create)
    elif scheme in ("http", "https"):
        _answers(resolved, source)
    return resolved


def _bad_uri(uri: str, source: str, why: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"The MLflow tracking URI {shown(uri)} ({source}) {why}. Give one such "
        "as sqlite:///path/mlflow.db, postgresql://user@host/db, "
        "http://host:5000, file:///path/mlruns or databricks.",
        parameter="tracking_uri",
        value=uri,
    )


def _scheme(uri: str, source: str) -> str:
    if not isinstance(uri, str) or not uri.strip() or "\x00" in uri:
        raise _bad_uri(str(uri), source, "is empty or holds a NUL byte")
    if not is_utf8(uri):
        raise _bad_uri(uri, source, "is not valid UTF-8")
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    if len(scheme) == 1:  # a Windows drive letter: a local path
        scheme = ""
    base = scheme.split("+", 1)[0]
    if base not in TRACKING_SCHEMES | _plugin_schemes():
        raise _bad_uri(uri, source, f"has a scheme MLflow does not know ({scheme!r})")
    if not scheme and uri.lower().endswith((".db", ".sqlite", ".sqlite3")):
        raise _bad_uri(
            uri, source, f"looks like a SQLite file: write it as 'sqlite:///{uri}'"
        )
    return base


def _plugin_schemes() -> set[str]:
    from importlib.metadata import entry_points

    return {ep.name for ep in entry_points(group="mlflow.tracking_store")}


def _sqlite_file(uri: str) -> Path | None:
    """The file of a ``sqlite:///`` store (``None`` in memory)."""
    path = uri.split("?", 1)[0].removeprefix("sqlite://")
    if path in ("", "/", "/:memory:"):
        return None
    return Path(path.removeprefix("/"))


def _local_store(uri: str, source: str, *, create: bool) -> None:
    file = _sqlite_file(uri)
    if file is None:
        return
    if not create:
        if not file.is_file():
            raise ModelNotFoundError(
                f"No MLflow store at {file} ({uri}): nothing has been trained "
                f"or registered there. Check {source} (is the path right?), or "
                "train a model first with 'anxin train DATA_DIR'.",
            )
        return
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:
        if getattr(exc, "errno", None) in ENVIRONMENT_ERRNOS:
            raise  # the path may be right: the machine refuses
        reason = getattr(exc, "strerror", None) or str(exc)
        raise _bad_uri(
            uri, source, f"names a directory that cannot be created ({reason})"
        ) from None


def _answers(uri: str, source: str) -> None:
    """Raise ``ConnectionError`` unless the server accepts a connection.

    MLflow itself retries an unreachable server for minutes before it gives
    up; this check takes at most ``CONNECT_TIMEOUT`` seconds. Behind an HTTP
    proxy the server is not checked (the proxy decides).
    """
    try:
        parts = urllib.parse.urlsplit(uri)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a port out of range
        raise _bad_uri(uri, source, str(exc)) from None
    if not host:
        raise _bad_uri(uri, source, "names no host")
    port = port or (443 if parts.scheme.lower() == "https" else 80)
    if (host, port) in _ANSWERED:
        return
    if urllib.request.getproxies() and not urllib.request.proxy_bypass(host):
        return
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise ConnectionError(
            f"The MLflow tracking server {redact(uri)} ({source}) does not "
            f"answer ({exc.strerror or exc}). Start it (mlflow server ...), or "
            "check the URI.",
        ) from exc
    _ANSWERED.add((host, port))


_URI_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@contextlib.contextmanager
def use_tracking(uri: str | None = None) -> Iterator[str]:
    """Point MLflow (tracking and registry) at ``uri`` for the block.

    MLflow keeps the URIs in process-wide state and environment variables;
    both are restored afterwards, so a call with an explicit store never
    changes where later calls (or child processes) log.
    """
    from mlflow.tracking._model_registry import utils as registry_state
    from mlflow.tracking._tracking_service import utils as tracking_state

    resolved = resolve_tracking_uri(uri)
    saved_env = {k: os.environ.get(k) for k in _URI_VARS}
    # MLflow's own globals, unset (None) unless someone set them: restoring
    # them through set_*_uri would pin values that were only defaults
    saved = (tracking_state._tracking_uri, registry_state._registry_uri)
    # progress bars belong to the CLI's own display, not MLflow's downloads
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(resolved)
    mlflow.set_registry_uri(resolved)
    try:
        yield resolved
    finally:
        tracking_state._tracking_uri, registry_state._registry_uri = saved
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_PROJECT_RUN_VARS = ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID")


@contextlib.contextmanager
def detached_from_project_run() -> Iterator[str | None]:
    """Hide the run that ``mlflow run`` started for the block; yield its id.

    ``mlflow run`` starts a run in the project's experiment and passes it to
    its command as ``MLFLOW_RUN_ID`` (with ``MLFLOW_EXPERIMENT_ID``).
    ``mlflow.start_run`` resumes that run whatever ``experiment_id`` it is
    given, so anxin's own run would land in the project run, outside anxin's
    experiments, and end it. Both variables are removed for the block and
    restored afterwards; the block gets the project run's id (``None``
    outside ``mlflow run``).

    Examples
    --------
    >>> import os
    >>> os.environ["MLFLOW_RUN_ID"] = "0123abcd"
    >>> with detached_from_project_run() as project_run:
    ...     project_run, "MLFLOW_RUN_ID" in os.environ
    ('0123abcd', False)
    >>> os.environ.pop("MLFLOW_RUN_ID")
    '0123abcd'
    """
    hidden = {k: os.environ.pop(k) for k in _PROJECT_RUN_VARS if k in os.environ}
    try:
        yield hidden.get("MLFLOW_RUN_ID")
    finally:
        os.environ.update(hidden)


@contextlib.contextmanager
def start_run(experiment_id: str, run_name: str, tags: dict[str, str]) -> Iterator[Any]:
    """A new, top-level MLflow run in ``experiment_id``.

    Under ``mlflow run`` the environment names the project's run
    (``MLFLOW_RUN_ID``); ``mlflow.start_run`` would resume it, in the wrong
    experiment. anxin's run is started beside it instead (see
    :func:`detached_from_project_run`) and tagged with it.
    """
    with detached_from_project_run() as project_run:
        if project_run is not None:
            tags = {**tags, "anxin_parent_run_id": project_run}
        with mlflow.start_run(
            experiment_id=experiment_id, run_name=run_name, tags=tags, nested=False
        ) as run:
            yield run


def client(uri: str | None = None) -> MlflowClient:
    """An MlflowClient for ``uri`` (tracking and registry)."""
    resolved = resolve_tracking_uri(uri)
    return MlflowClient(tracking_uri=resolved, registry_uri=resolved)


def _is_local(uri: str) -> bool:
    return uri.startswith(("sqlite:", "file:", "/")) or "://" not in uri


def ensure_experiment(
    name: str,
    uri: str | None = None,
    *,
    description: str | None = None,
    training: bool | None = None,
) -> str:
    """Experiment id of ``name``, created if needed.

    With a local store the artifacts go to ``$ANXIN_HOME/mlartifacts/<name>``
    (MLflow's default would be a folder relative to the current directory).
    The experiment is tagged as model training with a description, and a
    training experiment (``training``) gets the headline runs view; tags it
    already has stay (see :mod:`anxin._mlflow_ui`).
    """
    c = client(uri)
    found = c.get_experiment_by_name(name)
    if found is not None:
        _mlflow_ui.describe_experiment(c, found, description, training=training)
        return str(found.experiment_id)
    location = None
    if _is_local(resolve_tracking_uri(uri)):
        root = get_config().artifact_root / name
        root.mkdir(parents=True, exist_ok=True)
        location = root.resolve().as_uri()
    tags = _mlflow_ui.experiment_tags(name, description, training=training)
    try:
        return str(c.create_experiment(name, artifact_location=location, tags=tags))
    except MlflowException:  # created concurrently
        found = c.get_experiment_by_name(name)
        assert found is not None
        return str(found.experiment_id)


def git_sha() -> str | None:
    """The current git commit, when anxin runs from a checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and len(sha) == 40 else None


def _signature_and_example(
    model: ArrearsModel, example: pd.DataFrame
) -> tuple[Any, pd.DataFrame]:
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema, TensorSpec

    example = example.head(5).reset_index(drop=True)
    from mlflow.types.schema import AnyType, ParamSchema, ParamSpec

    cols: list[ColSpec | TensorSpec] = [
        ColSpec("string", name, required=False)
        for name in ("enterprise_id", "as_of", "period")
    ]
    for name in model.spec.features:
        # categoricals arrive as text over HTTP and as pandas categories in
        # process; numbers may be null, but every feature column is required
        kind: Any = AnyType() if name in model.spec.categorical else "double"
        cols.append(ColSpec(kind, name, required=True))
    inputs = Schema(cols)
    params = ParamSchema(
        [ParamSpec("explain", "string", "alerts"), ParamSpec("top_k", "long", 3)]
    )
    frame = pd.DataFrame(
        {
            "enterprise_id": example["enterprise_id"].astype(str)
            if "enterprise_id" in example
            else [f"example-{i}" for i in range(len(example))],
            **{
                name: (
                    example[name].astype(str)
                    if name in model.spec.categorical
                    else example[name].astype("float64")
                )
                for name in model.spec.features
            },
        }
    )
    outputs = Schema(
        [
            ColSpec("string", "enterprise_id", required=False),
            ColSpec("string", "as_of", required=False),
            ColSpec("string", "period", required=False),
            ColSpec("double", "risk_score"),
            ColSpec("string", "risk_level"),
            ColSpec("long", "rank"),
            ColSpec("string", "reasons"),
            ColSpec("string", "reasons_zh"),
            ColSpec("string", "reasons_en"),
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs, params=params), frame


def log_model(
    model: ArrearsModel, example: pd.DataFrame, *, name: str = "model"
) -> Any:
    """Log ``model`` as a models-from-code pyfunc in the active run.

    The artifacts are the bundle's plain files; the pyfunc code is
    ``anxin/_pyfunc_model.py``. Nothing is pickled.
    """
    import mlflow.pyfunc

    signature, input_example = _signature_and_example(model, example)
    with (
        tempfile.TemporaryDirectory(prefix="anxin-model-") as tmp,
        warnings.catch_warnings(),
    ):
        # MLflow hints about integer columns in the example; ours has none
        # that can be missing (rank), so the hint is noise for our users
        warnings.filterwarnings(
            "ignore", message="Hint: Inferred schema", category=UserWarning
        )
        files = model.save(tmp)
        info = mlflow.pyfunc.log_model(
            name=name,
            python_model=str(PYFUNC_FILE),
            artifacts={k: str(v) for k, v in files.items()},
            signature=signature,
            input_example=input_example,
            pip_requirements=_requirements(),
        )
    return info


def _requirements() -> list[str]:
    from importlib.metadata import version

    pins = []
    for package in (
        "lightgbm",
        "pandas",
        "numpy",
        "scikit-learn",
        "pyarrow",
        "pandera",
        "mlflow",
    ):
        with contextlib.suppress(Exception):
            pins.append(f"{package}=={version(package)}")
    pins.append(f"anxin=={__version__}")
    return pins


def register(
    model_uri: str,
    model_name: str,
    *,
    run_id: str | None = None,
    uri: str | None = None,
    tags: dict[str, str] | None = None,
    model_id: str | None = None,
    description: str | None = None,
) -> tuple[str, list[str]]:
    """Register a logged model; alias it ``challenger`` (and ``champion`` if none).

    ``model_id`` is the LoggedModel id (``models:/m-...``); a REST tracking
    server requires it with such a source. ``description`` is the version's
    description (Markdown, at most 5,000 characters).

    Returns the new version and the aliases it received.
    """
    c = client(uri)
    with contextlib.suppress(MlflowException):
        c.create_registered_model(
            model_name,
            description="Wage-arrears risk (安薪云): calibrated probability of a "
            "confirmed arrears case within the horizon. Built by anxin.",
        )
    if model_id is None and model_uri.startswith("models:/m-"):
        model_id = model_uri.removeprefix("models:/")
    mv = c.create_model_version(
        model_name,
        model_uri,
        run_id=run_id,
        tags=tags or {},
        model_id=model_id,
        description=description[:5000] if description else None,
    )
    version = str(mv.version)
    aliases = [CHALLENGER]
    c.set_registered_model_alias(model_name, CHALLENGER, version)
    try:
        c.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException:
        c.set_registered_model_alias(model_name, CHAMPION, version)
        aliases.append(CHAMPION)
        c.set_model_version_tag(
            model_name,
            version,
            "promotion_decision",
            "first model: champion by default",
        )
    logger.info("registered %s version %s as %s", model_name, version, aliases)
    return version, aliases


class ResolvedModel:
    """A model URI resolved to local files and registry coordinates."""

    def __init__(self, path: Path, name: str, version: str, uri: str) -> None:
        self.path, self.name, self.version, self.uri = path, name, version, uri


def resolve_model(
    uri: str | None = None, *, tracking_uri: str | None = None
) -> ResolvedModel:
    """Download (if needed) and locate a model.

    ``uri`` may be ``models:/NAME@ALIAS``, ``models:/NAME/VERSION``,
    ``runs:/RUN_ID/model`` or a local directory (a saved bundle or an MLflow
    model directory). Default: ``models:/<model name>@champion``.
    """
    uri = f"models:/{get_config().model_name}@{CHAMPION}" if uri is None else uri
    if not uri.strip() or "\x00" in uri:
        raise InvalidParameterError(
            f"The model URI {shown(uri)} is empty or holds a NUL byte. Give "
            "models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/model or a "
            "local model directory.",
            parameter="model",
            value=uri,
        )
    local = Path(uri)
    if "://" not in uri and local.exists():
        return ResolvedModel(local, "", "local", uri)
    if ":/" not in uri:  # a path, not a URI: never looked up in a store
        raise ModelNotFoundError(
            f"Model {shown(uri)} not found: there is no such directory, and it "
            "is not a model URI (models:/NAME@ALIAS, models:/NAME/VERSION, "
            "runs:/RUN_ID/model). Check the path, or train a model with "
            "'anxin train DATA_DIR'.",
        )
    # the registry is only read: a mistyped store must not be created empty
    in_store = uri.startswith(("models:/", "runs:/"))
    resolved = resolve_tracking_uri(tracking_uri, create=not in_store)
    name, version = "", ""
    try:
        with use_tracking(resolved):
            if uri.startswith("models:/"):
                ref = uri.removeprefix("models:/")
                c = client(resolved)
                if "@" in ref:
                    name, alias = ref.split("@", 1)
                    version = str(c.get_model_version_by_alias(name, alias).version)
                elif "/" in ref:
                    name, version = ref.split("/", 1)
            path = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except MlflowException as exc:
        raise ModelNotFoundError(
            f"Model {uri!r} not found in {resolved} ({exc.message}). Train one "
            "with 'anxin train DATA_DIR' (it registers the champion), or give "
            "another model URI (a run or a local path; --model on the command "
            "line).",
        ) from exc
    return ResolvedModel(path, name, version, uri)


def log_frame(frame: pd.DataFrame, artifact_file: str) -> None:
    """Log a table as a CSV artifact of the active run."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_file).name
        frame.to_csv(path, index=False)
        parent = str(Path(artifact_file).parent)
        mlflow.log_artifact(str(path), artifact_path=None if parent == "." else parent)


def clean_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """Drop NaN metrics (MLflow stores them, but the UI charts break)."""
    return {k: float(v) for k, v in metrics.items() if v is not None and np.isfinite(v)}
