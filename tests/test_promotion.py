"""Promotion: champion moves only when the challenger is at least as good, and
the decision says the rule, the significance and where the report is."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from _registry import register_version

import anxin
from anxin import ModelNotFoundError, Tables, promote, tracking
from anxin.promotion import append_section

#: Few resamples: these tests are about the decision, not the intervals.
FAST = {"n_boot": 200}


def _aliases(uri: str) -> dict[str, str]:
    c = tracking.client(uri)
    return {
        a: str(c.get_model_version_by_alias("anxin-arrears", a).version)
        for a in ("champion", "challenger")
    }


def _version(uri: str, version: str) -> object:
    return tracking.client(uri).get_model_version("anxin-arrears", version)


def _tags(uri: str, version: str) -> dict[str, str]:
    return dict(_version(uri, version).tags)  # type: ignore[attr-defined]


def test_better_challenger_is_promoted(
    two_models: dict[str, anxin.TrainResult],
    model_world: Tables,
    tracking_uri: str,
    tmp_path: Path,
) -> None:
    v1 = register_version(two_models["weak"], tracking_uri, model_world)
    v2 = register_version(two_models["strong"], tracking_uri, model_world)
    assert _aliases(tracking_uri) == {"champion": v1, "challenger": v2}
    decision = promote(model_world, tracking_uri=tracking_uri, **FAST)
    assert decision.promoted
    assert _aliases(tracking_uri) == {"champion": v2, "challenger": v2}
    tags = _tags(tracking_uri, v2)
    assert tags["promotion_decision"] == "promoted"
    assert float(tags["promotion_challenger_ap"]) > float(tags["promotion_champion_ap"])
    assert "retired_from_champion_at" in _tags(tracking_uri, v1)
    comp = decision.comparison
    assert comp.loc["challenger", "ap"] > comp.loc["champion", "ap"]
    assert decision.months == ["2026-01", "2026-02", "2026-03"]
    # the decision states the rule and whether the differences are significant
    assert "AP and recall_at_5pct are each at least the champion's minus 0.01" in (
        decision.rule
    )
    assert decision.intervals is not None
    assert bool(decision.intervals.loc["ap", "significant"])
    assert decision.intervals.loc["ap", "low"] > 0
    assert "ap +" in decision.significance and ": significant" in (
        decision.significance
    )
    # the comparison run and its report, linked from the tags and descriptions
    run_id = decision.comparison_run_id
    assert run_id and decision.report == f"runs:/{run_id}/report.html"
    assert tags["promotion_comparison_run"] == run_id
    assert tags["promotion_report"] == decision.report
    client = tracking.client(tracking_uri)
    run = client.get_run(run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "anxin-comparisons"
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert run.data.tags["promotion_decision"] == "promoted"
    assert run.info.run_name == f"challenger v{v2} vs champion v{v1} 2026-01..2026-03"
    note = run.data.tags["mlflow.note.content"]
    assert "**Decision: promoted.**" in note and "Rule: promote when" in note
    with tracking.use_tracking(tracking_uri):
        report = mlflow.artifacts.download_artifacts(
            artifact_uri=decision.report, dst_path=str(tmp_path)
        )
    page = Path(report).read_text("utf-8")
    assert "Decision: promoted." in page and "data:image/png;base64," in page
    for version in (v1, v2):
        description = _version(tracking_uri, version).description  # type: ignore[attr-defined]
        assert f"challenger v{v2} vs champion v{v1} -- promoted." in description
        assert f"/runs/{run_id}/artifacts/report.html?workflowType=" in description
        assert "not significant" in description or ": significant" in description


def test_worse_challenger_is_refused(
    two_models: dict[str, anxin.TrainResult], model_world: Tables, tracking_uri: str
) -> None:
    v1 = register_version(two_models["strong"], tracking_uri, model_world)
    v2 = register_version(two_models["weak"], tracking_uri, model_world)
    decision = promote(model_world, tracking_uri=tracking_uri, **FAST)
    assert not decision.promoted
    assert "worse on AP" in decision.reason
    assert _aliases(tracking_uri) == {"champion": v1, "challenger": v2}
    assert _tags(tracking_uri, v2)["promotion_decision"] == "refused"
    assert decision.intervals is not None
    assert decision.intervals.loc["ap", "high"] < 0  # significantly worse
    description = _version(tracking_uri, v1).description  # type: ignore[attr-defined]
    assert "-- not promoted." in description


def test_tie_is_promoted(
    two_models: dict[str, anxin.TrainResult], model_world: Tables, tracking_uri: str
) -> None:
    register_version(two_models["strong"], tracking_uri, model_world)
    v2 = register_version(two_models["strong"], tracking_uri, model_world)
    decision = promote(
        model_world, tracking_uri=tracking_uri, tolerance=0.0, log=False, **FAST
    )
    comp = decision.comparison
    assert comp.loc["challenger", "ap"] == comp.loc["champion", "ap"]
    assert decision.promoted
    assert _aliases(tracking_uri)["champion"] == v2
    # the same scores: every difference is exactly 0 and not significant
    assert decision.intervals is not None
    assert (decision.intervals[["difference", "low", "high"]] == 0).all().all()
    assert not decision.intervals["significant"].any()
    assert decision.comparison_run_id is None  # log=False


def test_forced_promotion_records_the_figures(
    two_models: dict[str, anxin.TrainResult], model_world: Tables, tracking_uri: str
) -> None:
    register_version(two_models["strong"], tracking_uri, model_world)
    v2 = register_version(two_models["weak"], tracking_uri, model_world)
    decision = promote(
        model_world, tracking_uri=tracking_uri, force=True, log=False, **FAST
    )
    assert decision.promoted and decision.reason == "forced"
    assert decision.rule.endswith("Forced.")
    tags = _tags(tracking_uri, v2)
    assert tags["promotion_forced"] == "True"
    assert float(tags["promotion_champion_ap"]) > float(tags["promotion_challenger_ap"])
    assert _aliases(tracking_uri)["champion"] == v2


def test_challenger_already_champion(
    two_models: dict[str, anxin.TrainResult], model_world: Tables, tracking_uri: str
) -> None:
    register_version(two_models["strong"], tracking_uri, model_world)
    decision = promote(model_world, tracking_uri=tracking_uri)
    assert not decision.promoted and "already the champion" in decision.reason
    tags = _tags(tracking_uri, decision.challenger_version)
    assert tags["promotion_decision"] == "first model: champion by default"
    assert decision.intervals is None and decision.comparison_run_id is None


def test_no_model_to_promote(model_world: Tables, tracking_uri: str) -> None:
    with pytest.raises(ModelNotFoundError, match="anxin train"):
        promote(model_world, tracking_uri=tracking_uri)


def test_descriptions_keep_their_base_and_the_latest_decisions() -> None:
    text = "base"
    for i in range(50):
        text = append_section(text, f"decision {i} " + "x" * 200)
    assert text.startswith("base\n\n---\n\n") and len(text) <= 5000
    assert text.endswith("decision 49 " + "x" * 200)
    assert "decision 0 " not in text
