"""predict / explain: one row per enterprise, levels, reasons that add up."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin import LevelPolicy, ModelNotFoundError, Tables
from anxin.prediction import PREDICT_COLUMNS

AS_OF = "2026-06"


@pytest.fixture(scope="module")
def model(trained: tuple[anxin.TrainResult, str]) -> anxin.ArrearsModel:
    return trained[0].model


def test_predict_one_row_per_active_enterprise(
    model: anxin.ArrearsModel, model_world: Tables
) -> None:
    out = anxin.predict(model_world, as_of=AS_OF, model=model)
    active = model_world.payroll.loc[
        model_world.payroll["period"] == AS_OF, "enterprise_id"
    ]
    assert list(out.columns) == PREDICT_COLUMNS
    assert sorted(out["enterprise_id"]) == sorted(active)
    assert (out["as_of"] == AS_OF).all()
    assert out["risk_score"].between(0, 1).all()
    assert sorted(out["rank"]) == list(range(1, len(out) + 1))
    top = out.sort_values("rank")
    assert top["risk_score"].is_monotonic_decreasing
    assert set(out["risk_level"]) <= {"red", "orange", "yellow", "none"}
    p = model.policy
    red = out["risk_score"] >= p.red
    assert (out.loc[red, "risk_level"] == "red").all()
    assert (out.loc[out["risk_score"] < p.yellow, "risk_level"] == "none").all()


def test_predict_defaults_to_the_last_month(
    model: anxin.ArrearsModel, model_world: Tables
) -> None:
    out = anxin.predict(model_world, model=model)
    assert set(out["as_of"]) == {"2026-06"}


def test_predict_from_a_feature_frame(
    model: anxin.ArrearsModel, model_world: Tables
) -> None:
    feats = anxin.build_features(model_world, as_of=["2026-05", AS_OF])
    from_frame = anxin.predict(feats, as_of=AS_OF, model=model)
    from_tables = anxin.predict(model_world, as_of=AS_OF, model=model)
    pd.testing.assert_frame_equal(from_frame, from_tables)


def test_quota_policy_override(model: anxin.ArrearsModel, model_world: Tables) -> None:
    out = anxin.predict(
        model_world,
        as_of=AS_OF,
        model=model,
        policy={
            "kind": "quota",
            "red": 0.1,
            "orange": 0.1,
            "yellow": 0.1,
            "by": "region",
        },
    )
    for _, part in out.groupby("region"):
        n = len(part)
        assert (part["risk_level"] == "red").sum() == int(np.ceil(0.1 * n - 1e-9))


def test_contributions_add_up_to_the_margin(
    model: anxin.ArrearsModel, model_world: Tables
) -> None:
    feats = anxin.build_features(model_world, as_of=AS_OF)
    contrib = model.contributions(feats, chunk_size=700)
    np.testing.assert_allclose(contrib.sum(axis=1), model.margin(feats), atol=1e-9)


def test_explain_alerts_only(model: anxin.ArrearsModel, model_world: Tables) -> None:
    out = anxin.explain(model_world, as_of=AS_OF, model=model)
    alerts = out["risk_level"] != "none"
    assert alerts.any()
    assert all(len(r) == 0 for r in out.loc[~alerts, "reasons"])
    assert all(1 <= len(r) <= 3 for r in out.loc[alerts, "reasons"])
    feats = anxin.build_features(model_world, as_of=AS_OF).set_index("enterprise_id")
    for rec in out[alerts].head(30).itertuples():
        contributions = [r["contribution"] for r in rec.reasons]
        assert contributions == sorted(contributions, reverse=True)
        assert all(c > 0 for c in contributions)
        for r in rec.reasons:
            assert re.search(r"[\u4e00-\u9fff]", r["text_zh"])  # Chinese
            assert re.fullmatch(r"[ -~]+", r["text_en"])  # plain English
            assert r["group"] == model.spec.catalogue[r["feature"]].group
            value = feats.loc[rec.enterprise_id, r["feature"]]
            if r["value"] is not None:
                assert r["value"] == pytest.approx(float(value), rel=1e-5, abs=1e-6)
        assert rec.reasons_zh == "；".join(r["text_zh"] for r in rec.reasons)


def test_group_contributions_are_sums(
    model: anxin.ArrearsModel, model_world: Tables
) -> None:
    feats = anxin.build_features(model_world, as_of=AS_OF)
    out = anxin.explain(feats, model=model, explain="all", top_k=11)
    contrib = model.contributions(feats)
    i = int(out["risk_score"].to_numpy().argmax())
    groups = {f: model.spec.catalogue[f].group for f in model.spec.features}
    expected = (
        pd.Series(contrib[i, :-1], index=model.spec.features).groupby(groups).sum()
    )
    for r in out.loc[i, "reasons"]:
        assert r["contribution"] == pytest.approx(expected[r["group"]], abs=1e-5)
    # all positive groups are listed when top_k covers every group
    assert len(out.loc[i, "reasons"]) == int((expected > 0).sum())


@pytest.mark.parametrize(("mode", "expect"), [("all", True), ("none", False)])
def test_explain_modes(
    model: anxin.ArrearsModel, model_world: Tables, mode: str, expect: bool
) -> None:
    out = anxin.explain(model_world, as_of=AS_OF, model=model, explain=mode, top_k=2)
    lengths = out["reasons"].map(len)
    assert (lengths > 0).mean() > 0.9 if expect else (lengths == 0).all()
    assert lengths.max() <= 2


def test_load_model_by_alias_version_and_path(
    trained: tuple[anxin.TrainResult, str], tmp_path: pytest.TempPathFactory
) -> None:
    result, uri = trained
    by_alias = anxin.load_model("models:/anxin-arrears@champion", tracking_uri=uri)
    by_version = anxin.load_model(
        f"models:/anxin-arrears/{result.model_version}", tracking_uri=uri
    )
    assert by_alias.version == by_version.version == result.model_version
    assert by_alias.name == "anxin-arrears"
    result.model.save(tmp_path)  # type: ignore[arg-type]
    local = anxin.load_model(tmp_path)  # type: ignore[arg-type]
    assert local.booster.model_to_string() == result.model.booster.model_to_string()
    with pytest.raises(ModelNotFoundError, match="anxin train"):
        anxin.load_model("models:/anxin-arrears@nobody", tracking_uri=uri)


def test_missing_feature_is_a_contract_error(
    model: anxin.ArrearsModel, model_world: Tables
) -> None:
    feats = anxin.build_features(model_world, as_of=AS_OF).drop(columns="si_gap_share")
    with pytest.raises(anxin.ContractError, match="si_gap_share"):
        anxin.predict(feats, model=model)


def test_policy_in_model_is_thresholds(model: anxin.ArrearsModel) -> None:
    assert isinstance(model.policy, LevelPolicy)
    assert model.policy.kind == "threshold"
    assert model.policy.red > model.policy.orange > model.policy.yellow > 0
