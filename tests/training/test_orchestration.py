"""train(): its options, their checks, and the steps it runs."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin import InvalidParameterError, Tables, make_splits, train
from anxin.periods import FREQS

from .helpers import CADENCES, own_frame

#: The option groups of train, in signature and docstring order.
GROUPS = [
    ["entity", "period", "freq", "label", "baseline", "weight", "catalogue"],
    ["horizon", "valid_periods", "test_periods", "splits"],
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
    ["log", "tracking_uri", "experiment", "model_name", "register", "run_name"],
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
        "freq": None,
        "label": "label",
        "baseline": None,
        "weight": None,
        "catalogue": None,
        "horizon": None,
        "valid_periods": None,
        "test_periods": None,
        "splits": None,
        "params": None,
        "num_boost_round": 2000,
        "early_stopping_rounds": 100,
        "tune": 0,
        "refit": True,
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
        "run_name": None,
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
    splits = make_splits(periods[periods <= "2026-03"], valid_periods=4, test_periods=2)
    result = train(tables, splits=splits, log=False, num_boost_round=20)
    assert result.splits == splits
    assert result.model.spec.info["splits"]["valid"] == list(splits.valid)
    # log=False: no MLflow store, nothing under ANXIN_HOME
    home = tmp_path / ".anxin"
    assert not home.exists() or not any(home.rglob("*"))
    assert result.run_id is None
    # the run's name says what differs, even without a run
    assert (
        result.run_name
        == f"lgbm-h3-{splits.train[0]}..{splits.test[1]}-sigmoid-refit"  # the default
    )


# -- a bureau's own data -------------------------------------------------------


@pytest.mark.parametrize("freq", ["M", "Q", "Y"])
def test_each_cadence_counts_horizon_gaps_and_splits_in_its_periods(freq: str) -> None:
    frame = own_frame(CADENCES[freq], firms=300)
    result = train(
        frame,
        entity="firm",
        period="fyear",
        label="bankrupt",
        log=False,
        num_boost_round=30,
    )
    splits = result.splits
    assert splits.freq == freq and splits.kind == "time"
    assert splits.horizon == {"M": 3, "Q": 1, "Y": 1}[freq]
    assert splits.test[1] == CADENCES[freq][-1]
    assert result.model.spec.info["freq"] == freq
    assert result.periods.startswith(f"{FREQS[freq]} periods")


def test_a_snapshot_trains_on_stratified_folds_and_says_it_is_not_out_of_time() -> None:
    frame = own_frame(None, firms=3000)
    result = train(frame, entity=None, period=None, label="bankrupt", log=False)
    splits = result.splits
    assert splits.kind == "stratified" and splits.folds == 5
    assert result.periods == "a snapshot"
    assert "This evaluation is not out of time" in result.card
    assert result.model.spec.info["refit"] is True
    assert result.comparison.loc["model", "auc"] > 0.75
    # out-of-fold scores calibrate: their mean is the base rate
    test = result.splits.describe("test")
    assert test == "stratified 20% of the rows"


def test_a_split_column_is_honoured() -> None:
    frame = own_frame(CADENCES["Y"], firms=300)
    frame["fold"] = np.where(
        frame["fyear"] == "2015",
        "test",
        np.where(frame["fyear"] == "2014", "valid", "train"),
    )
    result = train(
        frame, entity="firm", period="fyear", label="bankrupt", splits="fold", log=False
    )
    assert result.splits.kind == "column" and result.splits.folds == 0
    assert result.splits.test == ("2015", "2015")
    assert "fold" not in result.model.spec.features
    # without valid rows, stratified folds of the training rows validate
    frame["fold"] = frame["fold"].replace("valid", "train")
    result = train(
        frame,
        entity="firm",
        period="fyear",
        label="bankrupt",
        splits="fold",
        log=False,
        num_boost_round=30,
    )
    assert result.splits.folds == 5
    assert "not out of time" in result.card


def test_a_bureau_baseline_is_evaluated_beside_the_model_without_warnings(
    yearly: tuple[pd.DataFrame, anxin.TrainResult],
) -> None:
    _, result = yearly
    assert list(result.comparison.index) == ["model", "logreg", "baseline"]
    assert result.metrics["baseline_test_ap"] == result.comparison.loc["baseline", "ap"]
    assert "rules_test_ap" not in result.metrics
    assert "bureau_score" not in result.model.spec.features
    assert "| baseline |" in result.card


def test_no_warning_when_the_data_bring_their_own_indicators(
    caplog: pytest.LogCaptureFixture,
) -> None:
    frame = own_frame(CADENCES["Y"], firms=300)
    with caplog.at_level(logging.WARNING, "anxin"):
        train(
            frame,
            entity="firm",
            period="fyear",
            label="bankrupt",
            log=False,
            num_boost_round=20,
        )
    assert not caplog.records, [r.getMessage() for r in caplog.records]


def test_odd_column_names_train_and_keep_their_names(
    yearly: tuple[pd.DataFrame, anxin.TrainResult],
) -> None:
    _, result = yearly
    spec = result.model.spec
    assert spec.features == ["debt [k]", 'ratio: "quick"', "sector"]
    assert result.importance["feature"].iloc[0] == "debt [k]"
    assert result.model.booster.feature_name() == [
        "debt__k_",
        "ratio___quick_",
        "sector",
    ]
    assert "debt [k]" in result.group_importance["group"].tolist()


def test_infinite_values_are_missing_for_the_model_and_the_baselines() -> None:
    frame = own_frame(CADENCES["Y"], firms=300)
    frame.loc[[3, 50, 700], "debt [k]"] = [np.inf, -np.inf, 1e300]
    result = train(
        frame,
        entity="firm",
        period="fyear",
        label="bankrupt",
        log=False,
        num_boost_round=20,
    )
    assert result.nonfinite == {"debt [k]": 3}
    assert "3 infinite value(s) in 1 feature(s) were read as missing" in result.card
    assert np.isfinite(result.comparison.loc["logreg", "auc"])
