"""What train returns: the result's fields and timings."""

from __future__ import annotations

import anxin
from anxin.training import TrainResult


def test_an_unlogged_result_has_no_mlflow_coordinates(
    quick: anxin.TrainResult,
) -> None:
    assert isinstance(quick, TrainResult) and anxin.TrainResult is TrainResult
    assert quick.run_id is quick.model_uri is quick.model_name is None
    assert quick.model_version is None and quick.aliases == []
    assert set(quick.timings) == {
        "prepare",
        "lightgbm",
        "evaluate",
        "explain",
        "total",
    }
    assert quick.timings["total"] >= sum(
        v for k, v in quick.timings.items() if k != "total"
    )
    assert quick.metrics["best_iteration"] == quick.best_iteration


def test_a_logged_result_says_where_it_went(
    trained: tuple[anxin.TrainResult, str],
) -> None:
    result, _ = trained
    assert result.run_id and result.model_uri
    assert result.model_name == "anxin-arrears" and result.model_version == "1"
    assert result.aliases == ["challenger", "champion"]
    assert (result.model.name, result.model.version) == ("anxin-arrears", "1")
    assert {"mlflow", "total"} <= set(result.timings)
