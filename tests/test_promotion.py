"""Promotion: champion moves only when the challenger is at least as good."""

from __future__ import annotations

import mlflow
import pytest

import anxin
from anxin import ModelNotFoundError, Tables, promote, tracking, train


@pytest.fixture(scope="module")
def models(model_world: Tables) -> dict[str, anxin.TrainResult]:
    feats = anxin.build_features(model_world)
    labels = anxin.build_labels(model_world)
    weak_frame = feats[["enterprise_id", "period", "month_of_year", "region"]].assign(
        label=labels["label"]
    )
    return {
        "strong": train(model_world, log=False, seed=2, num_boost_round=150),
        "weak": train(weak_frame, log=False, seed=2, num_boost_round=30),
    }


def _register(result: anxin.TrainResult, uri: str, example: Tables) -> str:
    feats = anxin.build_features(example, as_of="2026-06").head(5)
    with tracking.use_tracking(uri):
        exp = tracking.ensure_experiment("anxin-arrears", uri)
        with mlflow.start_run(experiment_id=exp) as run:
            info = tracking.log_model(result.model, feats)
        version, _ = tracking.register(
            info.model_uri, "anxin-arrears", run_id=run.info.run_id, uri=uri
        )
    return version


def _aliases(uri: str) -> dict[str, str]:
    c = tracking.client(uri)
    return {
        a: str(c.get_model_version_by_alias("anxin-arrears", a).version)
        for a in ("champion", "challenger")
    }


def _tags(uri: str, version: str) -> dict[str, str]:
    return dict(tracking.client(uri).get_model_version("anxin-arrears", version).tags)


def test_better_challenger_is_promoted(
    models: dict[str, anxin.TrainResult], model_world: Tables, tracking_uri: str
) -> None:
    v1 = _register(models["weak"], tracking_uri, model_world)
    v2 = _register(models["strong"], tracking_uri, model_world)
    assert _aliases(tracking_uri) == {"champion": v1, "challenger": v2}
    decision = promote(model_world, tracking_uri=tracking_uri)
    assert decision.promoted
    assert _aliases(tracking_uri) == {"champion": v2, "challenger": v2}
    tags = _tags(tracking_uri, v2)
    assert tags["promotion_decision"] == "promoted"
    assert float(tags["promotion_challenger_ap"]) > float(tags["promotion_champion_ap"])
    assert "retired_from_champion_at" in _tags(tracking_uri, v1)
    comp = decision.comparison
    assert comp.loc["challenger", "ap"] > comp.loc["champion", "ap"]
    assert decision.months == ["2026-01", "2026-02", "2026-03"]


def test_worse_challenger_is_refused(
    models: dict[str, anxin.TrainResult], model_world: Tables, tracking_uri: str
) -> None:
    v1 = _register(models["strong"], tracking_uri, model_world)
    v2 = _register(models["weak"], tracking_uri, model_world)
    decision = promote(model_world, tracking_uri=tracking_uri)
    assert not decision.promoted
    assert "worse on AP" in decision.reason
    assert _aliases(tracking_uri) == {"champion": v1, "challenger": v2}
    assert _tags(tracking_uri, v2)["promotion_decision"] == "refused"


def test_tie_is_promoted(
    models: dict[str, anxin.TrainResult], model_world: Tables, tracking_uri: str
) -> None:
    _register(models["strong"], tracking_uri, model_world)
    v2 = _register(models["strong"], tracking_uri, model_world)
    decision = promote(model_world, tracking_uri=tracking_uri, tolerance=0.0)
    comp = decision.comparison
    assert comp.loc["challenger", "ap"] == comp.loc["champion", "ap"]
    assert decision.promoted
    assert _aliases(tracking_uri)["champion"] == v2


def test_forced_promotion_records_the_figures(
    models: dict[str, anxin.TrainResult], model_world: Tables, tracking_uri: str
) -> None:
    _register(models["strong"], tracking_uri, model_world)
    v2 = _register(models["weak"], tracking_uri, model_world)
    decision = promote(model_world, tracking_uri=tracking_uri, force=True)
    assert decision.promoted and decision.reason == "forced"
    tags = _tags(tracking_uri, v2)
    assert tags["promotion_forced"] == "True"
    assert float(tags["promotion_champion_ap"]) > float(tags["promotion_challenger_ap"])
    assert _aliases(tracking_uri)["champion"] == v2


def test_challenger_already_champion(
    models: dict[str, anxin.TrainResult], model_world: Tables, tracking_uri: str
) -> None:
    _register(models["strong"], tracking_uri, model_world)
    decision = promote(model_world, tracking_uri=tracking_uri)
    assert not decision.promoted and "already the champion" in decision.reason
    tags = _tags(tracking_uri, decision.challenger_version)
    assert tags["promotion_decision"] == "first model: champion by default"


def test_no_model_to_promote(model_world: Tables, tracking_uri: str) -> None:
    with pytest.raises(ModelNotFoundError, match="anxin train"):
        promote(model_world, tracking_uri=tracking_uri)
