"""Labels: a confirmed case in (t, t+h]; censored windows are unknown."""

from __future__ import annotations

import pandas as pd
import pytest

from anxin import (
    ContractError,
    InvalidParameterError,
    Tables,
    build_features,
    build_labels,
)


def _timeline() -> Tables:
    """One enterprise, Jan-Dec 2025, an event confirmed in 2025-06."""
    import anxin

    ent = anxin.synth(n_enterprises=20, n_months=12, end="2025-12", seed=0).tables
    e = ent.enterprises["enterprise_id"].iloc[0]
    pay = ent.payroll[ent.payroll["enterprise_id"] == e].reset_index(drop=True)
    events = pd.DataFrame(
        {
            "enterprise_id": [e],
            "period": ["2025-06"],
            "workers_affected": [3],
            "amount_owed": [9000.0],
        }
    )
    return Tables(enterprises=ent.enterprises.iloc[[0]], payroll=pay, events=events)


def test_worked_timeline() -> None:
    tables = _timeline()
    labels = build_labels(tables, horizon=3).set_index("period")["label"]
    months = tables.payroll["period"].tolist()
    assert months[0] == "2025-01" and months[-1] == "2025-12"
    # (t, t+3] contains 2025-06 for t = 03, 04, 05; not for t = 06 itself
    assert labels.loc["2025-02"] == 0
    assert labels.loc["2025-03"] == 1
    assert labels.loc["2025-05"] == 1
    assert labels.loc["2025-06"] == 0
    # windows running past the last covered month (2025-12) are censored
    assert labels.loc["2025-09"] == 0
    assert labels.loc[["2025-10", "2025-11", "2025-12"]].isna().all()


def test_censoring_follows_events_through() -> None:
    tables = _timeline()
    labels = build_labels(tables, horizon=3, events_through="2025-08").set_index(
        "period"
    )["label"]
    assert labels.loc["2025-05"] == 1
    assert labels.loc[["2025-06", "2025-07", "2025-08"]].isna().all()


def test_censored_rows_are_excluded_not_zero(tables: Tables) -> None:
    labels = build_labels(tables, horizon=3)
    last = labels["period"].max()
    censored = labels[labels["period"] > "2026-03"]
    assert censored["label"].isna().all()
    assert len(censored) > 0
    assert labels[labels["period"] <= "2026-03"]["label"].notna().all()
    assert last == "2026-06"
    usable = labels.dropna(subset=["label"])
    assert len(usable) == len(labels) - len(censored)


def test_rows_align_with_features(tables: Tables) -> None:
    feats = build_features(tables)
    labels = build_labels(tables)
    pd.testing.assert_frame_equal(
        feats[["enterprise_id", "period"]], labels[["enterprise_id", "period"]]
    )


def test_horizon_widens_the_window(tables: Tables) -> None:
    one = build_labels(tables, horizon=1)["label"]
    six = build_labels(tables, horizon=6)["label"]
    both = one.notna() & six.notna()
    assert (six[both] >= one[both]).all()
    assert six[both].sum() > one[both].sum()


def test_needs_events(tables: Tables) -> None:
    with pytest.raises(ContractError, match="events"):
        build_labels(tables.replace(events=None))


@pytest.mark.parametrize("horizon", [0, 13, 2.5])
def test_bad_horizon(tables: Tables, horizon: object) -> None:
    with pytest.raises(InvalidParameterError, match="The 'horizon' parameter"):
        build_labels(tables, horizon=horizon)  # type: ignore[arg-type]
