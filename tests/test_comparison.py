"""Two models on the same months: anxin.compare and its MLflow run."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from _registry import register_version

import anxin
from anxin import InvalidParameterError, Tables
from anxin.comparison import (
    ComparedModel,
    comparison_metrics,
    resolve_reference,
    shared_months,
)

FAST = {"n_boot": 200}


@pytest.fixture(scope="module")
def earlier(model_world: Tables) -> anxin.TrainResult:
    """A model trained on data that stop at 2025-09 (tested 2025-07..09)."""
    feats = anxin.build_features(model_world)
    labels = anxin.build_labels(model_world)
    frame = feats.assign(label=labels["label"])
    frame = frame[frame["period"].astype(str) <= "2025-09"]
    return anxin.train(frame, log=False, seed=1, num_boost_round=40)


@pytest.fixture(scope="module")
def store(
    earlier: anxin.TrainResult,
    two_models: dict[str, anxin.TrainResult],
    model_world: Tables,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """v1: the earlier model (champion); v2: the strong one (challenger)."""
    home = tmp_path_factory.mktemp("compare")
    uri = f"sqlite:///{(home / 'mlflow.db').as_posix()}"
    with anxin.config_context(home=str(home)):
        assert register_version(earlier, uri, model_world) == "1"
        assert register_version(two_models["strong"], uri, model_world) == "2"
    return uri


def test_models_of_different_windows_meet_on_the_months_they_share(
    store: str, model_world: Tables, earlier: anxin.TrainResult, tmp_path: Path
) -> None:
    assert earlier.splits.test == ("2025-07", "2025-09")
    comparison = anxin.compare(
        model_world, "1", "challenger", tracking_uri=store, seed=4, **FAST
    )
    # out of time for both: from the later test window on (v2's, 2026-01)
    assert comparison.months == ["2026-01", "2026-02", "2026-03"]
    assert "v1 tested from 2025-07" in comparison.why_months
    assert "challenger v2 tested from 2026-01" in comparison.why_months
    assert (comparison.a.label, comparison.b.label) == ("v1", "challenger v2")
    assert comparison.a.version == "1" and comparison.b.version == "2"
    assert comparison.a.run_id and comparison.b.run_id
    # both models scored the same rows
    assert comparison.metrics["rows"].nunique() == 1
    assert comparison.metrics.loc["v1", "rows"] == comparison.y.size
    assert set(comparison.scores) == {"v1", "challenger v2"}
    assert comparison.monthly["month"].tolist() == comparison.months
    np.testing.assert_allclose(
        comparison.monthly["diff_ap"],
        comparison.monthly["b_ap"] - comparison.monthly["a_ap"],
    )
    assert set(comparison.levels["model"]) == {"v1", "challenger v2"}
    diff = comparison.difference
    assert diff.index.tolist() == ["ap", "auc", "recall_at_5pct"]
    assert (diff["low"] <= diff["difference"]).all()
    assert (diff["difference"] <= diff["high"]).all()
    assert comparison.bootstrap.seed == 4 and comparison.bootstrap.n_boot == 200


def test_the_comparison_run_holds_the_report(
    store: str, model_world: Tables, tmp_path: Path
) -> None:
    comparison = anxin.compare(
        model_world, "v1", "models:/anxin-arrears/2", tracking_uri=store, **FAST
    )
    client = mlflow.MlflowClient(store, store)
    run = client.get_run(str(comparison.run_id))
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "anxin-comparisons"
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert "Model comparisons" in experiment.tags["mlflow.note.content"]
    assert run.info.run_name == "v2 vs v1 2026-01..2026-03"
    assert run.data.params["bootstrap_resamples"] == "200"
    assert run.data.params["months"] == "2026-01..2026-03"
    assert run.data.tags["mlflow.note.content"].startswith("**v2** vs **v1**")
    metrics = run.data.metrics
    table = comparison.difference
    for metric in ("ap", "auc", "recall_at_5pct"):
        assert metrics[f"diff_{metric}"] == pytest.approx(
            table.loc[metric, "difference"]
        )
        assert metrics[f"diff_{metric}_low"] == pytest.approx(table.loc[metric, "low"])
        assert metrics[f"diff_{metric}_high"] == pytest.approx(
            table.loc[metric, "high"]
        )
    assert metrics == pytest.approx(
        {
            **comparison_metrics(comparison),
            "diff_ap_by_month": comparison.monthly["diff_ap"].iloc[-1],
            "diff_auc_by_month": comparison.monthly["diff_auc"].iloc[-1],
        }
    )
    history = client.get_metric_history(str(comparison.run_id), "diff_ap_by_month")
    assert [m.step for m in history] == [0, 1, 2]
    with anxin.config_context(home=str(tmp_path)):
        mlflow.set_tracking_uri(store)
        local = Path(
            mlflow.artifacts.download_artifacts(
                run_id=comparison.run_id, artifact_path="", dst_path=str(tmp_path)
            )
        )
    files = {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
    assert {
        "report.html",
        "report.md",
        "plots/roc.png",
        "plots/pr.png",
        "plots/calibration.png",
        "plots/lift.png",
        "plots/levels.png",
        "plots/months.png",
        "plots/differences.png",
        "tables/differences.csv",
        "tables/levels.csv",
        "tables/months.csv",
        "tables/metrics.csv",
        "tables/bootstrap_differences.csv",
    } <= files
    saved = pd.read_csv(local / "tables" / "differences.csv").set_index("metric")
    np.testing.assert_allclose(saved["low"], table["low"])
    assert len(pd.read_csv(local / "tables" / "bootstrap_differences.csv")) == 200


def test_the_same_model_twice_differs_by_nothing(
    store: str, model_world: Tables
) -> None:
    comparison = anxin.compare(
        model_world, "2", "v2", tracking_uri=store, log=False, **FAST
    )
    assert (comparison.a.label, comparison.b.label) == ("v2 (A)", "v2 (B)")
    assert (comparison.difference[["difference", "low", "high"]] == 0).all().all()
    assert comparison.run_id is None


def test_the_latest_shared_months_only(store: str, model_world: Tables) -> None:
    comparison = anxin.compare(
        model_world, "1", "2", tracking_uri=store, eval_months=2, log=False, **FAST
    )
    assert comparison.months == ["2026-02", "2026-03"]
    assert comparison.why_months.endswith("the latest 2")


def test_no_shared_month_is_a_clear_error(
    earlier: anxin.TrainResult, model_world: Tables
) -> None:
    model = earlier.model
    now = ComparedModel("v1", "models:/m/1", "1", None, "2025-07")
    later = ComparedModel("v9", "models:/m/9", "9", None, "2027-01")
    with pytest.raises(InvalidParameterError, match="No labelled month is out of"):
        shared_months(model_world, model, model, now, later)


def test_models_of_different_horizons_are_not_compared(
    earlier: anxin.TrainResult, model_world: Tables
) -> None:
    other = copy.copy(earlier.model)  # the same model, read as 2 months ahead
    other.spec = dataclasses.replace(other.spec, horizon=2)
    a = ComparedModel("a", "x")
    b = ComparedModel("b", "y")
    with pytest.raises(InvalidParameterError, match="cannot be compared"):
        shared_months(model_world, earlier.model, other, a, b)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("3", ("models:/m/3", "v3", "3", None)),
        ("v12", ("models:/m/12", "v12", "12", None)),
        ("champion", ("models:/m@champion", "champion", "", None)),
        ("models:/m@challenger", ("models:/m@challenger", "challenger", "", None)),
        ("models:/other/4", ("models:/other/4", "v4", "4", None)),
        (
            "0123456789abcdef0123456789abcdef",
            (
                "runs:/0123456789abcdef0123456789abcdef/model",
                "run 01234567",
                "",
                "0123456789abcdef0123456789abcdef",
            ),
        ),
        ("runs:/abc/model", ("runs:/abc/model", "run abc", "", "abc")),
        ("some/dir/bundle", ("some/dir/bundle", "bundle", "", None)),
    ],
)
def test_references(ref: str, expected: tuple[str, str, str, str | None]) -> None:
    assert resolve_reference(ref, model_name="m") == expected


def test_bad_parameters(model_world: Tables) -> None:
    with pytest.raises(InvalidParameterError, match="'n_boot' parameter of compare"):
        anxin.compare(model_world, "1", "2", n_boot=10)
    with pytest.raises(InvalidParameterError, match="'alert_volume' parameter"):
        anxin.compare(model_world, "1", "2", alert_volume=0)


def test_anxin_compare_on_the_command_line(
    store: str,
    model_world: Tables,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from anxin.cli import main

    data = tmp_path / "data"
    anxin.write_tables(model_world, data)
    report = tmp_path / "report"
    args = ["compare", str(data), "champion", "2", "--tracking-uri", store]
    args += ["--bootstrap", "200", "--report", str(report), "--no-log"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "v2 vs champion v1" in out
    assert "months: 2026-01..2026-03 (3 months): the labelled months out of" in out
    assert "paired bootstrap, 200 resamples" in out and "recall_at_5pct" in out
    assert (report / "report.html").is_file() and (report / "report.md").is_file()
    assert (report / "plots" / "differences.png").is_file()
    assert "comparison run" not in out  # --no-log
    assert main([*args[:4], "--bootstrap", "10"]) == 2  # too few resamples
    assert "'--bootstrap' option of anxin compare" in capsys.readouterr().err
