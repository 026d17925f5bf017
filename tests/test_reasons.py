"""explain: reasons that add up to the model's contributions, in both languages."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin import Tables
from anxin.reasons import serve_frame

AS_OF = "2026-06"


@pytest.fixture(scope="module")
def model(trained: tuple[anxin.TrainResult, str]) -> anxin.ArrearsModel:
    return trained[0].model


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


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"explain": "bogus"}, "'explain' parameter of explain"),
        ({"top_k": 0}, "'top_k' parameter of explain"),
        ({"top_k": 12}, "'top_k' parameter of explain"),
    ],
)
def test_bad_explain_arguments_are_refused(
    model: anxin.ArrearsModel, model_world: Tables, kwargs: dict, match: str
) -> None:
    with pytest.raises(anxin.InvalidParameterError, match=match):
        anxin.explain(model_world, as_of=AS_OF, model=model, **kwargs)


def test_serving_answer_equals_explain(
    model: anxin.ArrearsModel, model_world: Tables
) -> None:
    feats = anxin.build_features(model_world, as_of=AS_OF)
    shuffled = feats.sample(frac=1.0, random_state=4).reset_index(drop=True)
    served = serve_frame(model, shuffled, top_k=2).set_index("enterprise_id")
    direct = anxin.explain(feats, model=model, top_k=2).set_index("enterprise_id")
    served = served.loc[direct.index]
    np.testing.assert_allclose(served["risk_score"], direct["risk_score"])
    # ranks do not depend on the order rows arrive in: ties go to the lower code
    assert served["rank"].tolist() == direct["rank"].tolist()
    assert served["reasons_en"].tolist() == direct["reasons_en"].tolist()
    assert [json.loads(r) for r in served["reasons"]] == list(direct["reasons"])


def test_no_event_yet_is_never_told_as_no_data(
    model: anxin.ArrearsModel, model_world: Tables
) -> None:
    """The reasons of the top 100 warnings: an absent event is not a feed gap."""
    out = anxin.explain(model_world, as_of=AS_OF, model=model, explain="all")
    top = out.nsmallest(100, "rank")
    events = {
        name
        for name, f in model.spec.catalogue.items()
        if f.group in ("history", "complaints", "litigation")
        or name.startswith("months_since")
    }
    told = [r for reasons in top["reasons"] for r in reasons]
    assert told
    for r in told:
        if r["feature"] in events:
            assert "数据缺失" not in r["text_zh"], r
            assert "no data" not in r["text_en"], r
    # the absence of an earlier case tells a reason only when nothing else can
    for r in told:
        if r["feature"] == "months_since_last_arrears" and r["value"] is None:
            assert r["text_en"].startswith("No earlier confirmed arrears case")
