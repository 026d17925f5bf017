"""predict: one row per enterprise, calibrated risk, levels and ranks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin import LevelPolicy, ModelNotFoundError, Tables
from anxin.prediction import PREDICT_COLUMNS, rank_scores

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


def test_ranks_break_ties_by_the_lower_enterprise_code() -> None:
    scores = np.array([0.5, 0.9, 0.5, 0.5])
    ids = pd.Series(["c", "z", "a", "b"])
    assert rank_scores(scores, ids).tolist() == [4, 1, 2, 3]
    # sorted codes take the fast path and agree with the general one
    order = np.argsort(ids.to_numpy())
    sorted_rank = rank_scores(scores[order], ids.iloc[order].reset_index(drop=True))
    assert sorted_rank.tolist() == rank_scores(scores, ids)[order].tolist()


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, "all"])
def test_n_jobs_outside_the_rule_is_refused(
    model: anxin.ArrearsModel, model_world: Tables, n_jobs: object
) -> None:
    with pytest.raises(anxin.InvalidParameterError, match="'n_jobs' parameter"):
        anxin.predict(model_world, as_of=AS_OF, model=model, n_jobs=n_jobs)  # type: ignore[arg-type]


def test_n_jobs_does_not_change_scores(
    model: anxin.ArrearsModel, model_world: Tables
) -> None:
    one = anxin.predict(model_world, as_of=AS_OF, model=model, n_jobs=1)
    every = anxin.predict(model_world, as_of=AS_OF, model=model, n_jobs=-1)
    pd.testing.assert_frame_equal(one, every)


# -- a model trained on a bureau's own frame ------------------------------------


@pytest.fixture(scope="module")
def yearly() -> tuple[anxin.ArrearsModel, pd.DataFrame]:
    from tests.training.helpers import CADENCES, own_frame

    frame = own_frame(CADENCES["Y"], firms=300)
    result = anxin.train(
        frame,
        entity="firm",
        period="fyear",
        label="bankrupt",
        log=False,
        num_boost_round=20,
    )
    return result.model, frame.drop(columns="bankrupt")


def test_predict_reads_the_names_the_model_was_trained_with(
    yearly: tuple[anxin.ArrearsModel, pd.DataFrame],
) -> None:
    model, frame = yearly
    every = anxin.predict(frame, model=model)
    # every row given is scored, ranked within its period, under the model's names
    assert len(every) == len(frame)
    assert "firm" in every.columns and "enterprise_id" not in every.columns
    periods = sorted(every["as_of"].astype(str).unique())
    assert periods == sorted(frame["fyear"].unique())
    for _, group in every.groupby("as_of", observed=True):
        assert sorted(group["rank"]) == list(range(1, len(group) + 1))
    # one period, asked for explicitly (a year as a number works too)
    last = anxin.predict(frame, model=model, as_of=2015)
    assert len(last) == (frame["fyear"] == "2015").sum()
    assert set(last["firm"]) == set(frame.loc[frame["fyear"] == "2015", "firm"])
    same = every[every["as_of"].astype(str) == "2015"].set_index("firm")
    assert np.allclose(
        last.set_index("firm")["risk_score"], same.loc[last["firm"], "risk_score"]
    )


def test_explain_reads_the_names_and_a_frame_without_them_is_refused(
    yearly: tuple[anxin.ArrearsModel, pd.DataFrame],
) -> None:
    model, frame = yearly
    reasons = anxin.explain(frame, model=model, as_of="2015", explain="all")
    assert len(reasons) == (frame["fyear"] == "2015").sum()
    assert "firm" in reasons.columns
    told = [r for rs in reasons["reasons"] for r in rs if r["feature"] == "sector"]
    assert told  # the sector raises the risk of sector "a"
    for r in told:  # a category is told as its value, not read as a number
        assert r["value_text"] in {"a", "b", "c"} and r["value"] is None
        assert r["text_en"] == f"sector: {r['value_text']}"
    with pytest.raises(anxin.ContractError, match="column 'firm' is missing"):
        anxin.predict(frame.rename(columns={"firm": "id"}), model=model)
    with pytest.raises(anxin.ContractError, match="no rows of period '2099'"):
        anxin.predict(frame, model=model, as_of="2099")
