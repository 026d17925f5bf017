"""Serving a model over HTTP: MLflow's protocol, bounded requests, short errors.

``anxin serve`` (:func:`serve`) answers MLflow's scoring protocol for an
anxin model -- ``POST /invocations`` with a ``dataframe_split`` or
``dataframe_records`` JSON body, CSV or Parquet; ``GET /ping``, ``/health``,
``/version`` -- with the same answers as ``mlflow models serve`` (it parses
frames with MLflow's own functions and calls the same pyfunc), and with what
MLflow's server lacks:

* the body is bounded (:attr:`Limits.max_body_bytes`, 413), read as it
  arrives so an oversized body is refused before it is held in memory; so
  are the rows (:attr:`Limits.max_rows`, 413) and the JSON nesting
  (:attr:`Limits.max_depth`, 400), checked before the JSON is parsed;
* the params are checked (``explain``, ``top_k``; unknown names are errors);
* every bad request gets a 4xx with ``{"error_code": ..., "message": ...}``:
  one short message that says what to send, never a stack trace, a server
  path or the request echoed back; a failure that is not the request's fault
  is a 500 with a generic message, and the details go to the server log.

:func:`create_app` gives the ASGI app, for running under another server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anxin._params import check_param
from anxin.exceptions import AnxinError, ModelNotFoundError
from anxin.reasons import check_serve_params

__all__ = ["Limits", "app_from_env", "create_app", "serve"]

logger = logging.getLogger(__name__)

#: Content types ``POST /invocations`` accepts (as MLflow's server does).
JSON, CSV, PARQUET = "application/json", "text/csv", "application/vnd.apache.parquet"
#: The frame keys of a JSON body (MLflow's ``inputs``/``instances`` are not
#: frames and are refused).
FRAME_KEYS = ("dataframe_split", "dataframe_records")
#: Longest error message sent back; the server log has the rest.
MAX_MESSAGE = 500
#: Environment variable handing the model and limits to worker processes.
WORKER_ENV = "_ANXIN_SERVING"


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one request may hold and take.

    Attributes
    ----------
    max_body_bytes : int, default 50 MiB
        Largest body (413 beyond); ~80,000 rows of 75 features as JSON.
    max_rows : int, default 100000
        Most rows (413 beyond); checked from the metadata for Parquet.
    max_depth : int, default 8
        Deepest JSON nesting (400 beyond). A frame nests 4 deep.
    timeout : float, default 60
        Seconds a request may take (504 beyond).
    """

    max_body_bytes: int = 50 * 2**20
    max_rows: int = 100_000
    max_depth: int = 8
    timeout: float = 60.0

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_rows", "max_depth"):
            value = getattr(self, name)
            check_param(
                name,
                value,
                "Limits",
                "a positive int",
                isinstance(value, int) and not isinstance(value, bool) and value > 0,
            )
        check_param(
            "timeout",
            self.timeout,
            "Limits",
            "a positive number of seconds",
            isinstance(self.timeout, int | float)
            and not isinstance(self.timeout, bool)
            and 0 < self.timeout < float("inf"),
        )


class _Refusal(Exception):
    """A request answered with an error status (never a bug of the server)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(message: str, code: str = "BAD_REQUEST") -> _Refusal:
    return _Refusal(400, code, message)


def _short(text: object) -> str:
    """One line of at most :data:`MAX_MESSAGE` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def _clause(text: object) -> str:
    """:func:`_short` without a final stop, to go inside a sentence."""
    return _short(text).rstrip(".")


# -- reading a request ---------------------------------------------------------

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (strings skipped).

    Linear and without recursion, so it is safe on hostile input.

    Examples
    --------
    >>> json_depth(b'{"dataframe_split": {"data": [[1, "[[["]]}}')
    4
    >>> json_depth(b"[" * 100_000)
    100000
    """
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def _media_type(header: str | None) -> str:
    """The request's content type, if it is one we read (else 415)."""
    mime, *options = [part.strip() for part in (header or "").split(";")]
    mime = mime.lower()
    if mime not in (JSON, CSV, PARQUET):
        raise _Refusal(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"Content-Type {header or '(none)'!r} is not read here: send "
            f"{JSON} (a frame as dataframe_split or dataframe_records), {CSV} "
            f"or {PARQUET}.",
        )
    for option in options:
        key, _, value = option.partition("=")
        if key.strip().lower() != "charset" or value.strip(' "').lower() != "utf-8":
            raise _Refusal(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"Content-Type option {option!r} is not supported: the body "
                "must be UTF-8 (charset=utf-8 or nothing).",
            )
    return mime


def _too_large(size: str, limit: str) -> _Refusal:
    return _Refusal(
        413,
        "REQUEST_TOO_LARGE",
        f"The request is larger than this server accepts ({size}; the limit is "
        f"{limit}). Send the rows in smaller batches.",
    )


async def _read_body(request: Any, limit: int) -> bytes:
    """The body, refused (413) as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise _bad(f"Content-Length {declared!r} is not a number of bytes.")
        if int(declared) > limit:
            raise _too_large(f"{int(declared):,} bytes", f"{limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"over {limit:,} bytes", f"{limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _json_frame(body: bytes, schema: Any, limits: Limits) -> tuple[Any, Any]:
    """The frame and params of a JSON body (MLflow's parser for the frame)."""
    from mlflow.pyfunc.scoring_server import infer_and_parse_data

    depth = json_depth(body)
    if depth > limits.max_depth:
        raise _bad(
            f"The JSON body nests {depth:,} levels deep; a frame needs 4 and at "
            f"most {limits.max_depth} are accepted."
        )
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSON and UTF-8 errors
        raise _bad(f"The body is not valid JSON: {_clause(exc)}.") from None
    if not isinstance(payload, dict):
        raise _bad(
            "The JSON body must be an object holding the rows under "
            f"'dataframe_split' or 'dataframe_records'; got {type(payload).__name__}."
        )
    keys = [k for k in payload if k != "params"]
    if len(keys) != 1 or keys[0] not in FRAME_KEYS:
        raise _bad(
            "The JSON body must hold the rows under exactly one of "
            f"'dataframe_split' or 'dataframe_records' (and optionally 'params'); "
            f"got keys {_clause(list(payload))}."
        )
    if keys[0] == "dataframe_split":
        _check_split(payload["dataframe_split"])
    else:
        _check_records(payload["dataframe_records"], schema)
    frame = infer_and_parse_data({keys[0]: payload[keys[0]]}, schema)
    return frame, payload.get("params")


def _check_split(split: Any) -> None:
    """Every row as long as ``columns`` (pandas would pad short ones)."""
    if not isinstance(split, dict):
        return  # MLflow's parser says what is wrong
    columns, data = split.get("columns"), split.get("data")
    if not isinstance(columns, list) or not isinstance(data, list):
        return
    for i, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(columns):
            got = f"{len(row)} values" if isinstance(row, list) else "no list"
            raise _bad(
                f"Row {i} of dataframe_split has {got} for {len(columns)} "
                "columns: every row needs one value per column (null for unknown)."
            )


def _check_records(records: Any, schema: Any) -> None:
    """Every record holds every feature (pandas would fill the gaps with NaN)."""
    if not isinstance(records, list):
        return  # MLflow's parser says what is wrong
    required = [s.name for s in schema.inputs if s.required]
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise _bad(f"Record {i} of dataframe_records is not an object.")
        if len(record) < len(required) or not all(k in record for k in required):
            missing = [k for k in required if k not in record]
            raise _bad(
                f"Record {i} of dataframe_records lacks {len(missing)} of the "
                f"model's features: {_clause(missing[:10])}. Send every feature "
                "in every record (null for unknown).",
                "INVALID_PARAMETER_VALUE",
            )


def _csv_frame(body: bytes, schema: Any) -> pd.DataFrame:
    """A CSV body as a frame: numbers where the signature says double."""
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=str, encoding="utf-8")
    except UnicodeDecodeError as exc:
        message = f"The CSV body is not UTF-8: {exc.reason} at byte {exc.start}."
        raise _bad(message) from None
    except ValueError as exc:  # pandas' ParserError and EmptyDataError
        raise _bad(f"The CSV body cannot be read: {_clause(exc)}.") from None
    doubles = {s.name for s in schema.inputs if getattr(s.type, "name", "") == "double"}
    for name in frame.columns:
        if name in doubles:
            try:
                frame[name] = pd.to_numeric(frame[name]).astype("float64")
            except ValueError as exc:
                raise _bad(
                    f"CSV column {name!r} holds text where a number belongs "
                    f"({_clause(exc)}); leave a cell empty for unknown."
                ) from None
    return frame


def _parquet_frame(body: bytes, limits: Limits) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(io.BytesIO(body))
        if file.metadata.num_rows > limits.max_rows:
            rows = file.metadata.num_rows
            raise _too_large(f"{rows:,} rows", f"{limits.max_rows:,} rows")
        return file.read().to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _bad(f"The Parquet body cannot be read: {_clause(exc)}.") from None


def _frame(
    body: bytes, media: str, schema: Any, limits: Limits
) -> tuple[pd.DataFrame, Any]:
    params = None
    if media == JSON:
        frame, params = _json_frame(body, schema, limits)
    elif media == CSV:
        frame = _csv_frame(body, schema)
    else:
        frame = _parquet_frame(body, limits)
    if len(frame) > limits.max_rows:
        raise _too_large(f"{len(frame):,} rows", f"{limits.max_rows:,} rows")
    if len(frame) == 0:
        raise _bad(
            "The request holds no rows: send one row of features per enterprise.",
            "INVALID_PARAMETER_VALUE",
        )
    missing = [s.name for s in schema.inputs if s.required and s.name not in frame]
    if missing:
        raise _bad(
            f"The request lacks {len(missing)} of the model's feature columns: "
            f"{_clause(missing[:10])}. Send every feature of the model "
            "(its signature, or 'features' in artifacts/spec.json).",
            "INVALID_PARAMETER_VALUE",
        )
    return frame, params


# -- answering -----------------------------------------------------------------


def _refusal_for(exc: BaseException) -> _Refusal:
    """What to answer for an exception raised while answering a request."""
    seen: BaseException | None = exc
    while seen is not None:  # an anxin error anywhere in the chain says it best
        if isinstance(seen, AnxinError) and seen.exit_code == 2:
            return _bad(_short(str(seen)), "INVALID_PARAMETER_VALUE")
        seen = seen.__cause__ or seen.__context__
    from mlflow.exceptions import MlflowException

    if isinstance(exc, MlflowException) and 400 <= exc.get_http_status_code() < 500:
        message = exc.message
        if exc.error_class == "SCHEMA_ENFORCEMENT_FAILED" and exc.__context__:
            message = str(exc.__context__)  # without the data and schema echoed
        return _Refusal(exc.get_http_status_code(), exc.error_code, _short(message))
    logger.error("request failed", exc_info=exc)
    return _Refusal(
        500,
        "INTERNAL_ERROR",
        "The server failed on this request; its log has the details.",
    )


def _answer(model: Any, body: bytes, media: str, limits: Limits) -> str:
    """The JSON answer to one request body (raises ``_Refusal`` for a 4xx/5xx)."""
    from mlflow.pyfunc.scoring_server import predictions_to_json

    schema = model.metadata.get_input_schema()
    try:
        frame, params = _frame(body, media, schema, limits)
        explain, top_k = check_serve_params(params)
        predictions = model.predict(frame, params={"explain": explain, "top_k": top_k})
        out = io.StringIO()
        predictions_to_json(predictions, out)
    except _Refusal:
        raise
    except Exception as exc:
        raise _refusal_for(exc) from None
    return out.getvalue()


def _error(refusal: _Refusal) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"error_code": refusal.code, "message": refusal.message},
        status_code=refusal.status,
    )


def _invocations(model: Any, limits: Limits) -> Callable[[Any], Awaitable[Any]]:
    from starlette.responses import Response

    async def invocations(request: Any) -> Any:
        try:
            media = _media_type(request.headers.get("content-type"))
            body = await _read_body(request, limits.max_body_bytes)
            text = await asyncio.wait_for(
                asyncio.to_thread(_answer, model, body, media, limits), limits.timeout
            )
        except _Refusal as refusal:
            logger.info("refused a request: %s %s", refusal.status, refusal.message)
            return _error(refusal)
        except TimeoutError:
            return _error(
                _Refusal(
                    504,
                    "TIMEOUT",
                    f"The request took longer than {limits.timeout:g} s. Send "
                    "fewer rows per request.",
                )
            )
        return Response(text, status_code=200, media_type=JSON)

    return invocations


def create_app(*, model: str | Path | Any, limits: Limits | None = None) -> Any:
    """The ASGI app serving ``model``.

    Parameters
    ----------
    model : str, Path or PyFuncModel
        A local MLflow model directory (``anxin.tracking.resolve_model``
        gives one for a ``models:/`` URI) or a loaded pyfunc.
    limits : Limits, optional
        What one request may hold (default :class:`Limits`).

    Returns
    -------
    starlette.applications.Starlette
    """
    import mlflow
    from mlflow.version import VERSION
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    limits = limits or Limits()
    if isinstance(model, str | Path):
        model = mlflow.pyfunc.load_model(str(model))

    async def ping(request: Any) -> Any:
        return Response("\n", status_code=200, media_type=JSON)

    async def version(request: Any) -> Any:
        return Response(VERSION, status_code=200, media_type=JSON)

    return Starlette(
        routes=[
            Route("/ping", ping, methods=["GET"]),
            Route("/health", ping, methods=["GET"]),
            Route("/version", version, methods=["GET"]),
            Route("/invocations", _invocations(model, limits), methods=["POST"]),
        ]
    )


def app_from_env() -> Any:
    """:func:`create_app` for each worker process of ``serve(workers=N)``."""
    settings = json.loads(os.environ[WORKER_ENV])
    return create_app(model=settings.pop("model"), limits=Limits(**settings))


def serve(
    *,
    model: str | None = None,
    host: str = "127.0.0.1",
    port: int = 5001,
    workers: int = 1,
    limits: Limits | None = None,
    tracking_uri: str | None = None,
) -> None:
    """Serve ``model`` over HTTP until stopped (uvicorn; Ctrl-C or SIGTERM).

    Parameters
    ----------
    model : str, optional
        A model URI or local MLflow model directory (default the champion,
        ``models:/anxin-arrears@champion``); resolved once, at startup.
    host : str, default "127.0.0.1"
        Address to bind; ``0.0.0.0`` serves other machines.
    port : int, default 5001
    workers : int, default 1
        Worker processes (each loads the model).
    limits : Limits, optional
        What one request may hold and take.
    tracking_uri : str, optional
        The MLflow store the model is registered in.

    Raises
    ------
    ModelNotFoundError
        If the model does not resolve to an MLflow model directory.
    """
    import uvicorn

    from anxin import tracking

    check_param(
        "port",
        port,
        "serve",
        "an int in [1, 65535]",
        isinstance(port, int) and 0 < port < 65536,
    )
    check_param(
        "workers",
        workers,
        "serve",
        "a positive int",
        isinstance(workers, int) and workers > 0,
    )
    limits = limits or Limits()
    path = tracking.resolve_model(model, tracking_uri=tracking_uri).path
    if not (path / "MLmodel").is_file():
        raise ModelNotFoundError(
            f"{model or path} is not an MLflow model directory (no MLmodel file). "
            "Serve a registered model (models:/anxin-arrears@champion) or a "
            "run's model (runs:/RUN_ID/model).",
        )
    options: dict[str, Any] = {"host": host, "port": port, "server_header": False}
    if workers == 1:
        uvicorn.run(create_app(model=path, limits=limits), **options)
        return
    os.environ[WORKER_ENV] = json.dumps(
        {"model": str(path), **dataclasses.asdict(limits)}
    )
    uvicorn.run("anxin.serving:app_from_env", factory=True, workers=workers, **options)
