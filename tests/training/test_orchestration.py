"""train(): its options, their checks, and the steps it runs."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import anxin
from anxin import InvalidParameterError, Tables, make_splits, train

#: The option groups of train, in signature and docstring order.
GROUPS = [
    ["entity", "period", "label", "catalogue"],
    ["horizon", "valid_months", "test_months", "splits"],
    [
        "params",
        "num_boost_round",
        "early_stopping_rounds",
        "tune",
        "refit",
        "seed",
        "n_jobs",
    ],
    ["calibration", "level_shares", "alert_volume"],
    ["log", "tracking_uri", "experiment", "model_name", "register"],
]


def test_options_are_keyword_only_in_their_groups() -> None:
    params = list(inspect.signature(train).parameters.values())
    assert params[0].name == "tables"
    assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[1:])
    assert [p.name for p in params[1:]] == [name for g in GROUPS for name in g]


def test_options_are_documented_in_signature_order() -> None:
    doc = inspect.getdoc(train) or ""
    section = doc.split("Parameters\n----------\n", 1)[1].split("\n\nReturns", 1)[0]
    documented = [
        name.strip()
        for line in section.splitlines()
        if line and not line.startswith(" ")
        for name in line.split(" : ")[0].split(",")
    ]
    assert documented == ["tables", *(name for g in GROUPS for name in g)]


def test_defaults_are_those_callers_rely_on() -> None:
    defaults = {
        name: p.default
        for name, p in inspect.signature(train).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    assert defaults == {
        "entity": "enterprise_id",
        "period": "period",
        "label": "label",
        "catalogue": None,
        "horizon": 3,
        "valid_months": 3,
        "test_months": 3,
        "splits": None,
        "params": None,
        "num_boost_round": 2000,
        "early_stopping_rounds": 100,
        "tune": 0,
        "refit": False,
        "seed": 0,
        "n_jobs": None,
        "calibration": "sigmoid",
        "level_shares": (0.01, 0.02, 0.05),
        "alert_volume": 0.05,
        "log": True,
        "tracking_uri": None,
        "experiment": "anxin-arrears",
        "model_name": None,
        "register": True,
    }


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"horizon": 0}, "horizon"),
        ({"calibration": "platt"}, "calibration"),
        ({"tune": -1}, "tune"),
        ({"alert_volume": 1.5}, "alert_volume"),
        ({"n_jobs": 0}, "n_jobs"),
    ],
)
def test_bad_parameters(
    model_world: Tables, kwargs: dict[str, object], name: str
) -> None:
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of train"):
        train(model_world, log=False, **kwargs)  # type: ignore[arg-type]


def test_explicit_splits_and_nothing_written_without_log(
    tables: Tables, tmp_path: Path
) -> None:
    periods = anxin.build_features(tables)["period"]
    splits = make_splits(periods[periods <= "2026-03"], valid_months=4, test_months=2)
    result = train(tables, splits=splits, log=False, num_boost_round=20)
    assert result.splits == splits
    assert result.model.spec.info["splits"]["valid"] == list(splits.valid)
    # log=False: no MLflow store, nothing under ANXIN_HOME
    home = tmp_path / ".anxin"
    assert not home.exists() or not any(home.rglob("*"))
    assert result.run_id is None
