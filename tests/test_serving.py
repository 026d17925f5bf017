"""The registered model served over real HTTP by ``mlflow models serve``.

One model is trained into a module store and served from
``models:/anxin-arrears@champion`` on a free localhost port; the tests post
real requests built from :func:`anxin.build_features` rows and compare the
answers with the same model loaded in-process.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from _servers import MLFLOW, Response, Server, running_server

import anxin
from anxin import tracking
from anxin.config import config_context

pytestmark = pytest.mark.slow

MODEL_URI = "models:/anxin-arrears@champion"


@dataclasses.dataclass
class Served:
    server: Server
    model: anxin.ArrearsModel  # the champion, loaded in-process
    model_dir: Path  # the champion's MLflow model directory, downloaded
    features: pd.DataFrame  # build_features rows of the last month


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Train a small model, register it as champion and serve it."""
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
    with running_server(
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
        log_dir=home / "logs",
        env={"MLFLOW_TRACKING_URI": uri, "ANXIN_HOME": str(home / ".anxin")},
        health="/ping",
    ) as server:
        yield Served(server, model, model_dir, features)


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
