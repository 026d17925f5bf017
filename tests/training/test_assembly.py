"""The model bundle: spec and drift reference."""

from __future__ import annotations

import pandas as pd

import anxin
from anxin.training.assembly import drift_reference
from anxin.training.preparation import prepare


def test_the_spec_records_how_the_model_was_trained(
    quick: anxin.TrainResult,
) -> None:
    info = quick.model.spec.info
    assert info["anxin_version"] == anxin.__version__
    assert info["splits"] == quick.splits.to_dict()
    assert info["best_iteration"] == quick.best_iteration
    assert info["refit"] is True and info["seed"] == 7  # refit by default
    assert info["source"] == "tables" and info["freq"] == "M"
    assert info["columns"]["entity"] == "enterprise_id"
    assert info["columns"]["period"] == "period"
    assert info["data_window"][1] == quick.splits.test[1]
    assert info["top_features"] == quick.importance["feature"].head(20).tolist()
    assert pd.Timestamp(info["trained_at"]).tzinfo is not None
    assert quick.model.spec.horizon == 3


def test_the_drift_reference_holds_numeric_features_and_the_score(
    quick: anxin.TrainResult,
) -> None:
    spec = quick.model.spec
    reference = quick.model.reference
    assert reference is not None
    calendar = {f for f in spec.features if spec.catalogue[f].group == "calendar"}
    assert calendar  # month_of_year and the like move every month: not drift
    expected = set(spec.numeric) - calendar | {"risk_score"}
    assert set(reference.edges) == expected
    assert not set(spec.categorical) & set(reference.edges)


def test_the_drift_reference_is_seasonal_and_sampled(
    quick: anxin.TrainResult, tables: anxin.Tables
) -> None:
    prep = prepare(tables, horizon=3)
    model = quick.model
    small = drift_reference(model, prep, seed=0, per_month=50)
    again = drift_reference(model, prep, seed=0, per_month=50)
    full = drift_reference(model, prep, seed=0)
    assert small.to_dict() == again.to_dict()  # seeded
    assert small.to_dict() != full.to_dict()  # sampled
    # one set of shares per calendar month with enough rows
    seasons = full.seasonal["wages_per_head"]
    assert set(seasons) <= {str(m) for m in range(1, 13)} and seasons
    assert all(len(v) == len(full.shares["wages_per_head"]) for v in seasons.values())
    # the reference knows how many enterprises were warned on validation
    assert quick.model.reference.alert_share is not None
    assert 0 < quick.model.reference.alert_share < 0.5
