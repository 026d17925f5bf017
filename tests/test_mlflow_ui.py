"""anxin's experiments in the MLflow UI: kind, description, view, links."""

from __future__ import annotations

import json

import pytest

from anxin import _mlflow_ui, tracking

KIND = "mlflow.experimentKind"
NOTE = "mlflow.note.content"
VIEW = "mlflow.sharedViewState.anxin-headline"


#: anxin's experiments: the start of their description, whether they get the
#: headline runs view. (One store for all: creating a store takes seconds.)
EXPERIMENTS = {
    "anxin-arrears": ("**Training runs", True),
    "anxin-scoring": ("**Monthly scoring runs", False),
    "anxin-field": ("**Field performance", False),
    "anxin-comparisons": ("**Model comparisons", False),
}


def test_every_anxin_experiment_is_model_training_with_a_description(
    tracking_uri: str,
) -> None:
    client = tracking.client(tracking_uri)
    for name, (heading, view) in EXPERIMENTS.items():
        tags = client.get_experiment(
            tracking.ensure_experiment(name, tracking_uri)
        ).tags
        assert tags[KIND] == "custom_model_development", name
        assert tags[NOTE].startswith(heading), name
        assert (VIEW in tags) is view, name
    # another experiment is model training too; a training one gets the view
    plain = tracking.ensure_experiment("mine", tracking_uri)
    tags = client.get_experiment(plain).tags
    assert tags[KIND] == "custom_model_development" and NOTE not in tags
    assert VIEW not in tags
    tracking.ensure_experiment("mine", tracking_uri, training=True)
    assert VIEW in client.get_experiment(plain).tags


def test_an_existing_experiment_gets_what_it_lacks_and_keeps_the_rest(
    tracking_uri: str,
) -> None:
    client = tracking.client(tracking_uri)
    exp_id = client.create_experiment("anxin-arrears", tags={NOTE: "ours, by hand"})
    assert tracking.ensure_experiment("anxin-arrears", tracking_uri) == exp_id
    tags = client.get_experiment(exp_id).tags
    assert tags[NOTE] == "ours, by hand"  # a description set by someone stays
    assert tags[KIND] == "custom_model_development" and VIEW in tags


def test_the_headline_view_is_the_state_mlflow_shares() -> None:
    state = json.loads(_mlflow_ui.view_state())
    assert state["selectedColumns"][0] == "attributes.`Description`"
    assert "metrics.`test_ap`" in state["selectedColumns"]
    assert "metrics.`rules_test_ap`" in state["selectedColumns"]
    assert (state["orderByKey"], state["orderByAsc"]) == (
        "attributes.start_time",
        False,
    )


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (
            _mlflow_ui.experiment_link("7", "http://ui:5000"),
            "http://ui:5000/#/experiments/7/runs?workflowType=machine_learning"
            "&viewStateShareKey=anxin-headline",
        ),
        (
            _mlflow_ui.run_link("7", "r1", artifact="plots/roc chart.png"),
            "#/experiments/7/runs/r1/artifacts/plots/roc%20chart.png"
            "?workflowType=machine_learning",
        ),
        (
            _mlflow_ui.version_link("anxin arrears", "2"),
            "#/models/anxin%20arrears/versions/2?workflowType=machine_learning",
        ),
    ],
)
def test_links_open_the_model_training_view(link: str, expected: str) -> None:
    assert link == expected
