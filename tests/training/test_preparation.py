"""The training input: tables or a prepared frame -> labelled rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin import Tables, train
from anxin.training.preparation import fingerprint, prepare


def test_prepared_frame_with_custom_columns(model_world: Tables) -> None:
    feats = anxin.build_features(model_world)
    labels = anxin.build_labels(model_world)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "company": feats["enterprise_id"],
            "month": feats["period"],
            "y": labels["label"],
            "si_gap_months_6m": feats["si_gap_months_6m"],
            "complaints_3m": feats["complaints_3m"],
            "local_hotline_calls": feats["complaints_6m"]
            + rng.poisson(0.1, len(feats)),
            "industry": feats["industry"].astype(str),
        }
    )
    result = train(
        frame,
        entity="company",
        period="month",
        label="y",
        log=False,
        num_boost_round=50,
    )
    spec = result.model.spec
    assert spec.features == [
        "si_gap_months_6m",
        "complaints_3m",
        "local_hotline_calls",
        "industry",
    ]
    assert "C" in spec.categorical["industry"]
    assert "rules_test_ap" in result.metrics  # complaints_3m and si rules apply
    # an unknown column explains itself by its name
    assert (
        spec.catalogue["local_hotline_calls"].reason_en
        == "local_hotline_calls: {value}"
    )
    assert spec.catalogue["complaints_3m"].group == "complaints"


def test_prepared_frame_without_keys() -> None:
    with pytest.raises(anxin.ContractError, match=r"column\(s\) \['month'\] missing"):
        train(
            pd.DataFrame({"enterprise_id": ["a"], "label": [1], "x": [1.0]}),
            period="month",
            log=False,
        )


def _frame(**extra: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "company": ["a", "b", "c", "d"],
            "month": pd.Series(["2024-01", "2024-01", "2024-02", "2024-02"]),
            "y": [0.0, 1.0, np.nan, 0.0],
            "debt": [1.0, 2.0, 3.0, 4.0],
            **extra,
        }
    )


def test_a_frame_is_keyed_and_labelled() -> None:
    prep = prepare(_frame(), horizon=3, entity="company", period="month", label="y")
    frame = prep.frame
    assert list(frame.columns) == ["enterprise_id", "period", "label", "debt"]
    # the unlabelled (censored) row is dropped; labels are int8
    assert frame["enterprise_id"].tolist() == ["a", "b", "d"]
    assert frame["label"].dtype == np.int8
    assert frame.index.tolist() == [0, 1, 2]
    assert prep.features == ["debt"] and prep.source == "frame"
    assert prep.categorical == {}


def test_text_and_categorical_features_get_sorted_text_levels() -> None:
    codes = pd.Categorical([3, 1, 1, 2], categories=[3, 2, 1, 9])  # 9 unused
    prep = prepare(
        _frame(sector=["y", None, "z", "x"], code=codes),
        horizon=3,
        entity="company",
        period="month",
        label="y",
    )
    # levels of the labelled rows only ("z" is on the censored row)
    assert prep.categorical == {"sector": ["x", "y"], "code": ["1", "2", "3"]}
    sector = prep.frame["sector"]
    assert isinstance(sector.dtype, pd.CategoricalDtype)
    assert sector.isna().tolist() == [False, True, False]
    assert prep.frame["code"].astype(str).tolist() == ["3", "1", "2"]


def test_a_known_feature_keeps_its_catalogue_text_a_custom_one_can_get_it() -> None:
    custom = anxin.CATALOGUE["complaints_3m"]
    prep = prepare(
        _frame(complaints_3m=[0, 1, 0, 2]),
        horizon=3,
        entity="company",
        period="month",
        label="y",
        catalogue={"debt": custom},
    )
    assert prep.catalogue["complaints_3m"] is anxin.CATALOGUE["complaints_3m"]
    assert prep.catalogue["debt"] is custom


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (
            pd.DataFrame({"enterprise_id": ["a"], "period": ["2024-01"], "label": [1]}),
            "no feature columns besides the keys",
        ),
        (
            pd.DataFrame(
                {
                    "enterprise_id": ["a"],
                    "period": ["2024-01"],
                    "label": [np.nan],
                    "x": [1.0],
                }
            ),
            "No labelled rows",
        ),
        (
            pd.DataFrame(
                {
                    "enterprise_id": ["a"],
                    "period": ["2024-01"],
                    "label": [1],
                    "when": pd.to_datetime(["2024-01-05"]),
                }
            ),
            "feature 'when' has type datetime64",
        ),
    ],
)
def test_unusable_frames_are_explained(frame: pd.DataFrame, match: str) -> None:
    with pytest.raises(anxin.ContractError, match=match):
        prepare(frame, horizon=3)


def test_anything_else_is_refused() -> None:
    with pytest.raises(
        anxin.InvalidParameterError, match="The 'tables' parameter of train"
    ):
        prepare({"payroll": None}, horizon=3)  # type: ignore[arg-type]


def test_tables_are_turned_into_features_and_labels(tables: Tables) -> None:
    prep = prepare(tables, horizon=3)
    assert prep.source == "tables"
    labels = anxin.build_labels(tables, horizon=3)
    assert len(prep.frame) == int(labels["label"].notna().sum())
    assert set(prep.categorical) == {"industry", "region"}
    assert set(prep.features) == set(prep.catalogue)


def test_fingerprint_ignores_row_order_not_content() -> None:
    frame = _frame()
    assert fingerprint(frame) == fingerprint(frame.iloc[::-1])
    assert fingerprint(frame) == fingerprint(frame.reset_index(drop=True))
    changed = frame.assign(debt=frame["debt"] + 1)
    assert fingerprint(frame) != fingerprint(changed)
    assert len(fingerprint(frame)) == 16
