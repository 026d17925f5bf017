"""ArrearsModel: input matrix, margins, contributions, the plain-file bundle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin import ContractError, Tables

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
