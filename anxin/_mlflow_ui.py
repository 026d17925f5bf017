"""How anxin's experiments look in the MLflow UI: kind, description, links.

MLflow decides what an experiment page shows first from two things:

* the experiment tag ``mlflow.experimentKind``: ``custom_model_development``
  says "model training" (runs, metrics, models), ``genai_development`` says
  "GenAI" (traces). anxin sets it on every experiment it creates or logs to,
  with a description (``mlflow.note.content``) saying what the experiment
  holds;
* the sidebar's GenAI / Model training switch. In MLflow 3.17 the switch
  wins: it lives in the browser (``localStorage``, GenAI until the user
  flips it), and a fresh browser opens every experiment on the GenAI
  overview whatever its tag. A link carrying ``workflowType=machine_learning``
  sets the switch, so every link anxin writes carries it
  (:func:`experiment_link`, :func:`run_link`).

Training experiments also get a shared view (``mlflow.sharedViewState.*``,
the state MLflow's own "share view" button saves): the runs table with the
headline metrics as columns, newest first; :func:`experiment_link` opens it.

Links are relative (``#/experiments/...``) unless a server address is known:
inside MLflow (run and version descriptions) a relative link opens the page
on whatever host the UI runs on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

__all__ = [
    "DESCRIPTIONS",
    "HEADLINE_VIEW",
    "KIND_TAG",
    "MODEL_TRAINING",
    "NOTE_TAG",
    "describe_experiment",
    "experiment_link",
    "experiment_tags",
    "run_link",
    "ui_base",
    "version_link",
    "view_state",
]

#: The experiment tag MLflow reads the experiment's kind from.
KIND_TAG = "mlflow.experimentKind"
#: The kind of every anxin experiment: model training, not GenAI.
MODEL_TRAINING = "custom_model_development"
#: The tag MLflow shows as an experiment's or a run's description.
NOTE_TAG = "mlflow.note.content"
#: The share key of the runs view anxin saves on training experiments.
HEADLINE_VIEW = "anxin-headline"
_VIEW_TAG = "mlflow.sharedViewState."
_WORKFLOW = "workflowType=machine_learning"

#: What each of anxin's experiments holds (its MLflow description).
DESCRIPTIONS = {
    "anxin-arrears": (
        "**Training runs of the wage-arrears risk model** (anxin train). One "
        "run per training: the run name says what differs (horizon, data "
        "window, calibration, refit); the description gives the headline "
        "figures against today's bureau rules. Metrics: test AUC, Gini, AP, "
        "KS, Brier, recall and precision at the alert volume for the model "
        "(`test_*`) and the baselines (`rules_test_*`, `logreg_test_*`); "
        "calibration (`test_ece`, slope, intercept); each warning level's "
        "precision, recall and volume; AUC and AP per test month "
        "(`test_auc_by_month`, `test_ap_by_month`, one step per month). "
        "Artifacts: plots/, tables/, model_card.md and the model."
    ),
    "anxin-scoring": (
        "**Monthly scoring runs** (anxin score): one run per scored month with "
        "the counts per warning level, drift against the training data and "
        "the summary of what was written."
    ),
    "anxin-field": (
        "**Field performance** (anxin cases report): how the warnings fared "
        "in the handling chain (confirmed, dismissed, overdue), per run."
    ),
    "anxin-comparisons": (
        "**Model comparisons** (anxin compare, anxin promote): one run per "
        "comparison of two models scored on the same months. Overlaid ROC, "
        "PR, calibration and lift curves, per-level and per-month tables, "
        "paired bootstrap confidence intervals for the differences in AP, AUC "
        "and recall at the alert volume, the promotion decision, and the same "
        "report as report.html (self-contained) and report.md."
    ),
}

#: The runs-table columns of the shared view on a training experiment.
HEADLINE_COLUMNS = (
    "test_ap",
    "rules_test_ap",
    "test_auc",
    "test_gini",
    "test_recall_at_5pct",
    "rules_test_recall_at_5pct",
    "test_precision_at_5pct",
    "test_ece",
)


def view_state(metrics: Sequence[str] = HEADLINE_COLUMNS) -> str:
    """The runs view MLflow's "share" button would save: description and
    ``metrics`` as columns, newest runs first (JSON).

    Examples
    --------
    >>> json.loads(view_state(["test_ap"]))["selectedColumns"]
    ['attributes.`Description`', 'metrics.`test_ap`']
    """
    columns = ["attributes.`Description`", *(f"metrics.`{m}`" for m in metrics)]
    return json.dumps(
        {
            "selectedColumns": columns,
            "orderByKey": "attributes.start_time",
            "orderByAsc": False,
        }
    )


def experiment_tags(
    name: str, description: str | None = None, *, training: bool | None = None
) -> dict[str, str]:
    """The tags anxin gives experiment ``name``: its kind, its description
    (``description``, else the one of :data:`DESCRIPTIONS`) and, on a
    training experiment (``training``; default: ``anxin-arrears``), the
    headline runs view.

    Examples
    --------
    >>> sorted(experiment_tags("anxin-scoring"))
    ['mlflow.experimentKind', 'mlflow.note.content']
    """
    tags = {KIND_TAG: MODEL_TRAINING}
    note = description or DESCRIPTIONS.get(name)
    if note:
        tags[NOTE_TAG] = note
    if name == "anxin-arrears" if training is None else training:
        tags[_VIEW_TAG + HEADLINE_VIEW] = view_state()
    return tags


def describe_experiment(
    client: Any,
    experiment: Any,
    description: str | None = None,
    *,
    training: bool | None = None,
) -> None:
    """Give an existing experiment the tags of :func:`experiment_tags` that
    it lacks (a kind or a description someone set by hand stays)."""
    have = dict(getattr(experiment, "tags", None) or {})
    wanted = experiment_tags(experiment.name, description, training=training)
    for key, value in wanted.items():
        if key not in have:
            client.set_experiment_tag(experiment.experiment_id, key, value)


def ui_base(tracking_uri: str | None) -> str:
    """The address of the MLflow UI when the store is a server, else ``""``
    (links stay relative).

    Examples
    --------
    >>> ui_base("http://mlflow.internal:5000/"), ui_base("sqlite:///x.db")
    ('http://mlflow.internal:5000', '')
    """
    uri = tracking_uri or ""
    return uri.rstrip("/") if uri.startswith(("http://", "https://")) else ""


def experiment_link(experiment_id: str, base: str = "", *, view: bool = True) -> str:
    """The experiment's runs in the model-training view (with the headline
    columns when ``view``).

    Examples
    --------
    >>> experiment_link("1", view=False)
    '#/experiments/1/runs?workflowType=machine_learning'
    """
    share = f"&viewStateShareKey={HEADLINE_VIEW}" if view else ""
    return f"{_root(base)}#/experiments/{experiment_id}/runs?{_WORKFLOW}{share}"


def run_link(
    experiment_id: str, run_id: str, base: str = "", *, artifact: str | None = None
) -> str:
    """A run's page (or one of its artifacts) in the model-training view.

    Examples
    --------
    >>> run_link("1", "abc", artifact="model_card.md")
    '#/experiments/1/runs/abc/artifacts/model_card.md?workflowType=machine_learning'
    """
    path = f"{_root(base)}#/experiments/{experiment_id}/runs/{run_id}"
    if artifact:
        path += f"/artifacts/{quote(artifact)}"
    return f"{path}?{_WORKFLOW}"


def version_link(name: str, version: str, base: str = "") -> str:
    """A registered model version's page.

    Examples
    --------
    >>> version_link("anxin-arrears", "3")
    '#/models/anxin-arrears/versions/3?workflowType=machine_learning'
    """
    return f"{_root(base)}#/models/{quote(name)}/versions/{version}?{_WORKFLOW}"


def _root(base: str) -> str:
    return f"{base.rstrip('/')}/" if base else ""
