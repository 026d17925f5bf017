"""ArrearsModel: input matrix, margins, contributions, the plain-file bundle."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin import ContractError, ModelNotFoundError, Tables

AS_OF = "2026-06"


@pytest.fixture(scope="module")
def model(trained: tuple[anxin.TrainResult, str]) -> anxin.ArrearsModel:
    return trained[0].model


def test_contributions_add_up_to_the_margin(
    model: anxin.ArrearsModel, model_world: Tables
) -> None:
    feats = anxin.build_features(model_world, as_of=AS_OF)
    contrib = model.contributions(feats, chunk_size=700)
    np.testing.assert_allclose(contrib.sum(axis=1), model.margin(feats), atol=1e-9)


def test_bundle_round_trip_gives_identical_scores(
    model: anxin.ArrearsModel, model_world: Tables, tmp_path: pytest.TempPathFactory
) -> None:
    files = model.save(tmp_path)  # type: ignore[arg-type]
    assert not any(p.suffix in (".pkl", ".pickle") for p in files.values())
    again = anxin.ArrearsModel.load(tmp_path)  # type: ignore[arg-type]
    feats = anxin.build_features(model_world, as_of=AS_OF)
    np.testing.assert_array_equal(
        again.predict_proba(feats), model.predict_proba(feats)
    )
    assert again.spec.to_dict() == model.spec.to_dict()
    assert again.policy == model.policy


def test_unseen_category_becomes_missing_not_an_error(
    model: anxin.ArrearsModel, model_world: Tables
) -> None:
    feats = anxin.build_features(model_world, as_of=AS_OF).head(20).copy()
    as_text = feats.assign(region=feats["region"].astype("str"))
    unseen = as_text.assign(region="999999")
    x = model.matrix(unseen)
    assert x["region"].isna().all()
    np.testing.assert_array_equal(
        model.predict_proba(as_text), model.predict_proba(feats)
    )


def test_missing_feature_names_the_column(model: anxin.ArrearsModel) -> None:
    with pytest.raises(ContractError, match="model feature\\(s\\) missing"):
        model.matrix(pd.DataFrame({"enterprise_id": ["x"]}))


@pytest.fixture
def bundle(model: anxin.ArrearsModel, tmp_path: Path) -> Path:
    model.save(tmp_path / "bundle")
    return tmp_path / "bundle"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda text: "garbage\n", "not a LightGBM model"),
        (lambda text: "", "not a LightGBM model"),
        (lambda text: text[: len(text) // 2], "truncated"),  # LightGBM would crash
        (lambda text: text.split("end of trees")[0], "truncated"),
        (lambda text: text[len(text) // 2 :], "not a LightGBM model"),
    ],
    ids=["garbage", "empty", "half", "no-end", "tail"],
)
def test_a_damaged_booster_is_a_clear_error(
    bundle: Path, damage: Callable[[str], str], reason: str
) -> None:
    booster = bundle / "booster.txt"
    booster.write_text(damage(booster.read_text("utf-8")), "utf-8")
    with pytest.raises(ModelNotFoundError, match=reason) as info:
        anxin.ArrearsModel.load(bundle)
    assert str(booster) in str(info.value)


@pytest.mark.parametrize("name", ["calibrator", "policy", "spec", "reference"])
def test_a_missing_or_broken_json_file_is_a_clear_error(
    bundle: Path, name: str
) -> None:
    part = bundle / f"{name}.json"
    part.unlink()
    with pytest.raises(ModelNotFoundError, match="No such file") as info:
        anxin.ArrearsModel.load(bundle)
    assert str(part) in str(info.value)
    for broken in ("{not json", "[]", '{"unexpected": 1}'):
        part.write_text(broken, "utf-8")
        with pytest.raises(ModelNotFoundError, match=f"{name}.json: not a usable"):
            anxin.ArrearsModel.load(bundle)


def test_a_booster_that_does_not_match_the_spec_is_refused(bundle: Path) -> None:
    spec = json.loads((bundle / "spec.json").read_text("utf-8"))
    spec["features"] = spec["features"][:-1]
    (bundle / "spec.json").write_text(json.dumps(spec), "utf-8")
    with pytest.raises(ModelNotFoundError, match=r"features, spec\.json lists"):
        anxin.ArrearsModel.load(bundle)


def test_a_booster_with_windows_line_ends_loads(bundle: Path) -> None:
    booster = bundle / "booster.txt"
    booster.write_bytes(booster.read_bytes().replace(b"\n", b"\r\n"))
    assert anxin.ArrearsModel.load(bundle).booster.num_trees() > 0
