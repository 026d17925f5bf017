"""The registered model served over real HTTP.

One model is trained into a module store and served from
``models:/anxin-arrears@champion`` on free localhost ports twice: by
``anxin serve`` (bounded requests, short errors) and by MLflow's plain
``mlflow models serve``. The tests post real requests built from
:func:`anxin.build_features` rows and compare the answers with the same model
loaded in-process; tests taking ``served`` run against both servers. Hostile
requests get a 4xx with a short message and no stack trace or server path.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from _servers import MLFLOW, Response, Server, raw_http, running_server

import anxin
from anxin import tracking
from anxin.config import config_context

pytestmark = pytest.mark.slow

MODEL_URI = "models:/anxin-arrears@champion"
#: Limits of the ``anxin serve`` under test (small, so tests can exceed them).
MAX_BODY_MB, MAX_ROWS = 8, 2500
PARQUET = "application/vnd.apache.parquet"


@dataclasses.dataclass
class Registered:
    home: Path
    uri: str  # the MLflow store
    model: anxin.ArrearsModel  # the champion, loaded in-process
    model_dir: Path  # the champion's MLflow model directory, downloaded
    features: pd.DataFrame  # build_features rows of the last month


@dataclasses.dataclass
class Served:
    server: Server
    model: anxin.ArrearsModel
    model_dir: Path
    features: pd.DataFrame


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Registered:
    """Train a small model and register it as champion."""
    home = tmp_path_factory.mktemp("serving")
    uri = f"sqlite:///{(home / 'mlflow.db').as_posix()}"
    with config_context(home=str(home / ".anxin"), today="2026-11"):
        tables = anxin.validate(anxin.synth(2000, 30, seed=3).tables).tables
        result = anxin.train(tables, tracking_uri=uri, n_jobs=2)
        assert "champion" in result.aliases
        last = str(tables.payroll["period"].astype("str").max())
        features = anxin.build_features(tables, as_of=last)
        model = anxin.load_model(MODEL_URI, tracking_uri=uri)
        model_dir = tracking.resolve_model(MODEL_URI, tracking_uri=uri).path
    return Registered(home, uri, model, model_dir, features)


def _serve(name: str, command: Any, reg: Registered) -> Iterator[Served]:
    with running_server(
        name,
        command,
        log_dir=reg.home / "logs",
        env={"MLFLOW_TRACKING_URI": reg.uri, "ANXIN_HOME": str(reg.home / ".anxin")},
        health="/ping",
    ) as server:
        yield Served(server, reg.model, reg.model_dir, reg.features)


@pytest.fixture(scope="module")
def mlflow_server(registered: Registered) -> Iterator[Served]:
    """``mlflow models serve`` of the champion."""
    yield from _serve(
        "models-serve",
        lambda port: [
            MLFLOW,
            "models",
            "serve",
            "-m",
            MODEL_URI,
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        registered,
    )


@pytest.fixture(scope="module")
def anxin_server(registered: Registered) -> Iterator[Served]:
    """``anxin serve`` of the champion, with small limits."""
    yield from _serve(
        "anxin-serve",
        lambda port: [
            sys.executable,
            "-m",
            "anxin",
            "serve",
            "--model",
            MODEL_URI,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--max-body-mb",
            str(MAX_BODY_MB),
            "--max-rows",
            str(MAX_ROWS),
        ],
        registered,
    )


@pytest.fixture(params=["anxin", "mlflow"])
def served(request: pytest.FixtureRequest) -> Served:
    """Each server in turn: what holds for both."""
    server: Served = request.getfixturevalue(f"{request.param}_server")
    return server


# ---------------------------------------------------------------------------
# request building: what a client sends
# ---------------------------------------------------------------------------


def _json_column(frame: pd.DataFrame, name: str, categorical: bool) -> list[Any]:
    """One column as JSON values: numbers as floats, text as str, missing as null."""
    col = frame[name]
    if categorical or name == "enterprise_id":
        return [None if pd.isna(v) else str(v) for v in col.astype(object)]
    values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    return [None if math.isnan(v) else float(v) for v in values]


def split_request(
    model: anxin.ArrearsModel, frame: pd.DataFrame, *, with_id: bool = True
) -> dict[str, Any]:
    """``{"dataframe_split": ...}`` with ``enterprise_id`` and the model's features."""
    columns = (["enterprise_id"] if with_id else []) + list(model.spec.features)
    values = [_json_column(frame, c, c in model.spec.categorical) for c in columns]
    return {
        "dataframe_split": {
            "columns": columns,
            "data": [list(row) for row in zip(*values, strict=True)],
        }
    }


def records_request(
    model: anxin.ArrearsModel, frame: pd.DataFrame, *, with_id: bool = True
) -> dict[str, Any]:
    """The same rows as ``{"dataframe_records": [{column: value}, ...]}``."""
    split = split_request(model, frame, with_id=with_id)["dataframe_split"]
    return {
        "dataframe_records": [
            dict(zip(split["columns"], row, strict=True)) for row in split["data"]
        ]
    }


def invoke(served: Served, body: Any, **kwargs: Any) -> Response:
    return served.server.post("/invocations", body, **kwargs)


def predictions(served: Served, body: Any) -> pd.DataFrame:
    answer = invoke(served, body)
    assert answer.status == 200, f"{answer.text[:2000]}\n{served.server.tail()}"
    assert answer.content_type.startswith("application/json")
    return pd.DataFrame(answer.json()["predictions"])


def assert_serves_ok(served: Served) -> None:
    """The server still answers a good request."""
    out = predictions(served, split_request(served.model, served.features.head(3)))
    assert len(out) == 3


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------


def test_served_answers_match_the_model(served: Served) -> None:
    """One answer per row; score, level, rank and reasons as the model gives them."""
    model, frame = served.model, served.features
    assert frame[model.spec.numeric].isna().any().any()  # nulls travel in the request
    out = predictions(served, split_request(model, frame))

    assert len(out) == len(frame)
    assert list(out.columns) == [
        "enterprise_id",
        "risk_score",
        "risk_level",
        "rank",
        "reasons",
        "reasons_zh",
        "reasons_en",
    ]
    assert out["enterprise_id"].tolist() == frame["enterprise_id"].astype(str).tolist()
    expected = model.predict_proba(frame)
    np.testing.assert_allclose(
        out["risk_score"].to_numpy(), expected, rtol=0, atol=1e-9
    )
    levels = model.levels(
        out["risk_score"].to_numpy(), frame["region"].astype("str").to_numpy()
    )
    assert out["risk_level"].tolist() == levels.tolist()
    assert sorted(out["rank"]) == list(range(1, len(frame) + 1))
    by_rank = out.sort_values("rank")["risk_score"].to_numpy()
    assert (np.diff(by_rank) <= 0).all()

    alerts = out["risk_level"] != "none"
    assert alerts.any(), "the request should hold some alerts"
    for row in out.itertuples(index=False):
        reasons = json.loads(row.reasons)
        assert isinstance(reasons, list)
        if row.risk_level == "none":  # default explain="alerts"
            assert reasons == [] and row.reasons_zh == "" and row.reasons_en == ""
            continue
        assert 1 <= len(reasons) <= 3
        for reason in reasons:
            assert isinstance(reason, dict)
            assert reason["text_zh"] and reason["text_en"]
            assert reason["contribution"] > 0
            assert reason["feature"] in model.spec.features
        assert row.reasons_zh == "；".join(r["text_zh"] for r in reasons)
        assert row.reasons_en == "; ".join(r["text_en"] for r in reasons)


@pytest.mark.parametrize("orient", ["dataframe_split", "dataframe_records"])
def test_both_frame_orients_and_enterprise_id_is_optional(
    served: Served, orient: str
) -> None:
    model, rows = served.model, served.features.head(7)
    build = split_request if orient == "dataframe_split" else records_request
    out = predictions(served, build(model, rows, with_id=False))
    assert "enterprise_id" not in out.columns
    np.testing.assert_allclose(out["risk_score"], model.predict_proba(rows), atol=1e-9)


def test_missing_and_unseen_values_score_like_the_model(served: Served) -> None:
    """null numbers are NaN, a null or unseen category is missing, as in-process."""
    model = served.model
    rows = served.features.head(4).copy()
    numeric = model.spec.numeric
    rows.loc[rows.index[0], numeric] = np.nan  # a row with nothing but categories
    rows["industry"] = rows["industry"].astype("str").astype(object)
    rows.loc[rows.index[1], "industry"] = None
    rows.loc[rows.index[2], "industry"] = "不存在的行业"
    out = predictions(served, split_request(model, rows))
    np.testing.assert_allclose(out["risk_score"], model.predict_proba(rows), atol=1e-9)
    assert np.isfinite(out["risk_score"]).all()


def test_params_explain_and_top_k(served: Served) -> None:
    """``params`` choose which rows are explained and how many reasons they get."""
    model, frame = served.model, served.features.head(300)
    body = split_request(model, frame)
    default = predictions(served, body)
    n_alerts = int((default["risk_level"] != "none").sum())
    every = predictions(served, {**body, "params": {"explain": "all", "top_k": 1}})

    signature = mlflow.models.Model.load(served.model_dir).signature
    assert signature is not None
    assert signature.params is not None  # else MLflow would drop the params
    lengths = every["reasons"].map(lambda r: len(json.loads(r)))
    assert lengths.max() == 1
    assert int((lengths == 1).sum()) > n_alerts
    none = predictions(served, {**body, "params": {"explain": "none"}})
    assert (none["reasons"] == "[]").all()
    bad = invoke(served, {**body, "params": {"explain": "bogus"}})
    assert 400 <= bad.status < 500, bad.text[:2000]


def _drop_column(body: dict[str, Any], name: str) -> dict[str, Any]:
    split = body["dataframe_split"]
    keep = [i for i, c in enumerate(split["columns"]) if c != name]
    return {
        "dataframe_split": {
            "columns": [split["columns"][i] for i in keep],
            "data": [[row[i] for i in keep] for row in split["data"]],
        }
    }


def _set_value(body: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    split = body["dataframe_split"]
    i = split["columns"].index(name)
    data = [list(row) for row in split["data"]]
    data[0][i] = value
    return {"dataframe_split": {"columns": split["columns"], "data": data}}


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("missing feature", "si_gap_share"),
        ("text in a number column", "pay_delay_days"),
        ("no frame key", "dataframe_split"),
        ("not json", ""),
    ],
)
def test_bad_requests_get_4xx_and_the_server_keeps_serving(
    served: Served, case: str, needle: str
) -> None:
    good = split_request(served.model, served.features.head(3))
    if case == "missing feature":
        answer = invoke(served, _drop_column(good, "si_gap_share"))
    elif case == "text in a number column":
        answer = invoke(served, _set_value(good, "pay_delay_days", "three days"))
    elif case == "no frame key":
        answer = invoke(served, {"rows": good["dataframe_split"]["data"]})
    else:
        answer = invoke(served, None, raw=b"{not json")
    assert 400 <= answer.status < 500, answer.text[:2000]
    error = answer.json()
    assert error["error_code"] and error["message"]
    assert needle in answer.text
    assert_serves_ok(served)


def test_unsupported_content_type_is_415(served: Served) -> None:
    answer = invoke(served, None, raw=b"a,b\n1,2", content_type="text/plain")
    assert answer.status == 415
    assert_serves_ok(served)


def test_pyfunc_in_process_gives_the_served_answer(served: Served) -> None:
    """``mlflow.pyfunc.load_model`` answers like the server (categories as text)."""
    model, rows = served.model, served.features.head(50)
    pyfunc = mlflow.pyfunc.load_model(str(served.model_dir))
    remote = predictions(served, split_request(model, rows))
    as_text = rows.astype({name: "str" for name in model.spec.categorical})
    # build_features' own frame (categorical industry/region) and plain text
    for frame in (rows, as_text):
        local = pyfunc.predict(frame).reset_index(drop=True)
        assert local["period"].tolist() == rows["period"].tolist()  # passed through
        pd.testing.assert_frame_equal(
            local[remote.columns], remote, check_dtype=False, atol=1e-9
        )


def test_serving_input_example_is_a_valid_request(served: Served) -> None:
    """The request example MLflow stores with the model is accepted as stored.

    MLflow writes missing values in it as the bare token ``NaN``, which its
    own parser reads but strict JSON does not; clients should send ``null``.
    """
    raw = (served.model_dir / "serving_input_example.json").read_bytes()
    example = json.loads(raw)["dataframe_split"]
    answer = invoke(served, None, raw=raw)
    assert answer.status == 200, answer.text[:2000]
    assert len(answer.json()["predictions"]) == len(example["data"])


# ---------------------------------------------------------------------------
# anxin serve: the same answers, bounded requests, short errors
# ---------------------------------------------------------------------------

#: What an error answer must never show: a stack trace or a path of the server.
LEAKS = (
    "Traceback",
    'File "',
    "stack_trace",
    "site-packages",
    sys.prefix,
    str(Path(anxin.__file__).parent),
    "/tmp/",
)


def assert_short_error(answer: Response, status: int, needle: str) -> None:
    """A JSON error with ``status``: one short message naming ``needle``."""
    assert answer.status == status, answer.text[:2000]
    assert answer.content_type.startswith("application/json")
    error = answer.json()
    assert set(error) == {"error_code", "message"}, error
    message = error["message"]
    assert error["error_code"] and 10 < len(message) <= 500, message
    assert "\n" not in message
    assert needle in message, message
    for leak in LEAKS:
        assert leak not in answer.text, f"{leak!r} in {answer.text[:2000]}"


def _reasons_equal(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> bool:
    def same(a: Any, b: Any) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, abs_tol=1e-9)
        return bool(a == b)

    return len(got) == len(want) and all(
        g.keys() == w.keys() and all(same(g[k], w[k]) for k in g)
        for g, w in zip(got, want, strict=True)
    )


def test_anxin_serve_answers_like_explain(anxin_server: Served) -> None:
    """Every row explained with two reasons: exactly what anxin.explain says."""
    model, frame = anxin_server.model, anxin_server.features
    body = {**split_request(model, frame), "params": {"explain": "all", "top_k": 2}}
    out = predictions(anxin_server, body)
    want = anxin.explain(frame, model=model, explain="all", top_k=2)
    want = want.set_index("enterprise_id").loc[out["enterprise_id"]]
    np.testing.assert_allclose(out["risk_score"], want["risk_score"], atol=1e-9)
    assert out["risk_level"].tolist() == want["risk_level"].astype(str).tolist()
    assert out["rank"].tolist() == want["rank"].tolist()
    assert out["reasons_zh"].tolist() == want["reasons_zh"].tolist()
    assert out["reasons_en"].tolist() == want["reasons_en"].tolist()
    for got, expected in zip(out["reasons"], want["reasons"], strict=True):
        assert _reasons_equal(json.loads(got), expected)


@pytest.mark.parametrize("media", ["text/csv", PARQUET])
def test_csv_and_parquet_bodies_get_the_json_answer(
    anxin_server: Served, media: str
) -> None:
    model, rows = anxin_server.model, anxin_server.features.head(40)
    # as float64 the numbers print exactly in CSV (a float32 prints shorter:
    # 23837.8 for 23837.80078125), so every body carries the same numbers
    numeric = [f for f in model.spec.features if f not in model.spec.categorical]
    rows = rows.astype(dict.fromkeys(numeric, "float64"))
    want = predictions(anxin_server, split_request(model, rows))
    frame = rows[["enterprise_id", *model.spec.features]]
    if media == PARQUET:
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        body = buffer.getvalue()
    else:
        body = frame.to_csv(index=False).encode("utf-8")
    answer = invoke(anxin_server, None, raw=body, content_type=media)
    assert answer.status == 200, answer.text[:2000]
    got = pd.DataFrame(answer.json()["predictions"])
    pd.testing.assert_frame_equal(got, want, check_dtype=False, atol=1e-9)


def test_nan_is_a_missing_value_like_null(anxin_server: Served) -> None:
    """The bare NaN token (which MLflow writes in its examples) means unknown."""
    model = anxin_server.model
    body = _set_value(
        split_request(model, anxin_server.features.head(3)), "pay_delay_days", None
    )
    with_null = invoke(anxin_server, body)
    raw = json.dumps(body).replace("null", "NaN", 1)  # the first null is ours
    assert json.loads(raw.replace("NaN", "null", 1)) == body
    with_nan = invoke(anxin_server, None, raw=raw.encode("utf-8"))
    assert with_nan.status == with_null.status == 200
    assert with_nan.json() == with_null.json()


def _hostile(case: str, served: Served) -> tuple[bytes, str]:
    """The body and content type of a hostile request."""
    model, rows = served.model, served.features.head(3)
    good = split_request(model, rows)
    split = good["dataframe_split"]
    csv = rows[["enterprise_id", *model.spec.features]].to_csv(index=False)
    line = csv.split("\n")[1]
    column = ["enterprise_id", *model.spec.features].index("pay_delay_days")

    def with_token(token: str) -> bytes:  # a raw JSON number in pay_delay_days
        body = _set_value(good, "pay_delay_days", "@@")
        return json.dumps(body).replace('"@@"', token).encode("utf-8")

    def with_params(**params: Any) -> dict[str, Any]:
        return {**good, "params": params}

    def csv_cell(value: str) -> str:
        cells = line.split(",")
        cells[column] = value
        return csv.replace(line, ",".join(cells))

    bodies: dict[str, Any] = {
        "zero rows": {"dataframe_split": {"columns": split["columns"], "data": []}},
        "zero records": {"dataframe_records": []},
        "explain=bogus": with_params(explain="bogus"),
        "top_k=-1": with_params(top_k=-1),
        "top_k=0": with_params(top_k=0),
        "top_k=12": with_params(top_k=12),
        'top_k="x"': with_params(top_k="x"),
        "top_k=1.5": with_params(top_k=1.5),
        "top_k=true": with_params(top_k=True),
        "unknown param": with_params(topk=2),
        "params not an object": {**good, "params": [1]},
        "missing feature column": _drop_column(good, "si_gap_share"),
        "record lacking a feature": {
            "dataframe_records": [
                dict(zip(split["columns"], split["data"][0], strict=True)),
                {c: None for c in split["columns"] if c != "si_gap_share"},
            ]
        },
        "short row": {
            "dataframe_split": {
                "columns": split["columns"],
                "data": [row[:-1] for row in split["data"]],
            }
        },
        "text in a number column": _set_value(good, "pay_delay_days", "three"),
        "no frame key": {"rows": split["data"]},
        "inputs instead of a frame": {"inputs": {"headcount": [1.0]}},
        "not an object": [split["data"]],
        "cells nested 9 deep": _set_value(good, "pay_delay_days", [[[[[1.0]]]]]),
        "too many rows": {
            "dataframe_split": {
                "columns": split["columns"],
                "data": split_request(
                    model, pd.concat([served.features] * 2, ignore_index=True)
                )["dataframe_split"]["data"][: MAX_ROWS + 1],
            }
        },
    }
    raw: dict[str, tuple[bytes, str]] = {
        "inf": (with_token("Infinity"), "application/json"),
        "-inf": (with_token("-Infinity"), "application/json"),
        "1e400": (with_token("1e400"), "application/json"),
        "1e39 (beyond float32)": (with_token("1e39"), "application/json"),
        "malformed JSON": (b'{"dataframe_split": {"columns": [', "application/json"),
        "JSON not UTF-8": (b'{"dataframe_split": "\xff"}', "application/json"),
        "100k nested [": (b"[" * 100_000, "application/json"),
        "malformed CSV: unclosed quote": (f'{csv}"91330,1'.encode(), "text/csv"),
        "malformed CSV: extra field": (f"{csv}{line},1\n".encode(), "text/csv"),
        "CSV not UTF-8": (csv.encode("utf-8") + b"\xff\xfe,1\n", "text/csv"),
        "CSV header only": (csv.split("\n")[0].encode() + b"\n", "text/csv"),
        "CSV inf": (csv_cell("inf").encode(), "text/csv"),
        "CSV text in a number column": (csv_cell("x").encode(), "text/csv"),
        "malformed Parquet": (b"PAR1" + b"\0" * 64 + b"PAR1", PARQUET),
        "wrong content type": (json.dumps(good).encode(), "text/plain"),
        "not UTF-8 charset": (json.dumps(good).encode(), "text/csv; charset=gbk"),
    }
    if case in raw:
        return raw[case]
    return json.dumps(bodies[case], allow_nan=False).encode("utf-8"), "application/json"


#: case -> (status, what the message names)
HOSTILE = {
    "zero rows": (400, "no rows"),
    "zero records": (400, "no rows"),
    "CSV header only": (400, "no rows"),
    "explain=bogus": (400, "'explain'"),
    "top_k=-1": (400, "'top_k'"),
    "top_k=0": (400, "'top_k'"),
    "top_k=12": (400, "'top_k'"),
    'top_k="x"': (400, "'top_k'"),
    "top_k=1.5": (400, "'top_k'"),
    "top_k=true": (400, "'top_k'"),
    "unknown param": (400, "topk"),
    "params not an object": (400, "'params'"),
    "inf": (400, "'pay_delay_days'"),
    "-inf": (400, "'pay_delay_days'"),
    "1e400": (400, "'pay_delay_days'"),
    "1e39 (beyond float32)": (400, "'pay_delay_days'"),
    "CSV inf": (400, "'pay_delay_days'"),
    "missing feature column": (400, "si_gap_share"),
    "record lacking a feature": (400, "si_gap_share"),
    "short row": (400, "Row 0"),
    "text in a number column": (400, "pay_delay_days"),
    "CSV text in a number column": (400, "pay_delay_days"),
    "no frame key": (400, "dataframe_split"),
    "inputs instead of a frame": (400, "dataframe_split"),
    "not an object": (400, "object"),
    "malformed JSON": (400, "not valid JSON"),
    "JSON not UTF-8": (400, "not valid JSON"),
    "100k nested [": (400, "100,000 levels"),
    "cells nested 9 deep": (400, "9 levels"),
    "malformed CSV: unclosed quote": (400, "CSV"),
    "malformed CSV: extra field": (400, "CSV"),
    "CSV not UTF-8": (400, "UTF-8"),
    "malformed Parquet": (400, "Parquet"),
    "too many rows": (413, f"limit is {MAX_ROWS:,} rows"),
    "wrong content type": (415, "text/plain"),
    "not UTF-8 charset": (415, "UTF-8"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_bad_requests_get_a_short_4xx(anxin_server: Served, case: str) -> None:
    status, needle = HOSTILE[case]
    body, media = _hostile(case, anxin_server)
    answer = invoke(anxin_server, None, raw=body, content_type=media)
    assert_short_error(answer, status, needle)
    assert_serves_ok(anxin_server)


def test_oversized_bodies_are_refused_before_they_are_read(
    anxin_server: Served,
) -> None:
    limit = MAX_BODY_MB * 2**20
    port = anxin_server.server.port
    start = b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    start += b"Content-Type: application/json\r\n"
    # a body announced too large: refused before a byte of it is sent
    promised = raw_http(port, start + b"Content-Length: %d\r\n\r\n" % (limit + 1))
    assert_short_error(promised, 413, f"limit is {limit:,} bytes")
    # a body without a length, streamed in chunks: refused once over the limit
    chunk = b" " * 2**16
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    streamed = raw_http(
        port,
        start + b"Transfer-Encoding: chunked\r\n\r\n",
        [framed] * (limit // len(chunk) + 1),
    )
    assert_short_error(streamed, 413, f"limit is {limit:,} bytes")
    assert_serves_ok(anxin_server)


#: Bad requests MLflow's own server also answers with a 400 and anxin's
#: message (the pyfunc raises them as MlflowException), without a stack trace.
PLAIN_MLFLOW = ["zero rows", "explain=bogus", "top_k=-1", "top_k=0", "top_k=12", "inf"]


@pytest.mark.parametrize("case", PLAIN_MLFLOW)
def test_plain_mlflow_serve_answers_bad_params_without_a_stack_trace(
    mlflow_server: Served, case: str
) -> None:
    status, needle = HOSTILE[case]
    body, media = _hostile(case, mlflow_server)
    answer = invoke(mlflow_server, None, raw=body, content_type=media)
    assert answer.status == status, answer.text[:2000]
    error = answer.json()
    assert "stack_trace" not in error and "Traceback" not in answer.text
    assert needle in error["message"]
    assert_serves_ok(mlflow_server)


def test_serve_refuses_a_model_that_does_not_resolve(tmp_path: Path) -> None:
    from anxin.cli import main

    (tmp_path / "bundle").mkdir()  # a directory, but no MLflow model
    assert main(["serve", "--model", str(tmp_path / "bundle")]) == 1


def test_limits_are_checked() -> None:
    from anxin.serving import Limits

    with pytest.raises(anxin.InvalidParameterError, match="'max_rows'"):
        Limits(max_rows=0)
    with pytest.raises(anxin.InvalidParameterError, match="'timeout'"):
        Limits(timeout=float("nan"))
