"""The synthetic world: seeded, contract-clean, and realistic enough."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin import InvalidParameterError


def test_same_seed_same_world() -> None:
    a = anxin.synth(n_enterprises=120, n_months=12, seed=9)
    b = anxin.synth(n_enterprises=120, n_months=12, seed=9)
    c = anxin.synth(n_enterprises=120, n_months=12, seed=10)
    for name, frame in a.tables.items():
        pd.testing.assert_frame_equal(frame, b.tables[name])
    assert not a.tables.payroll.equals(c.tables.payroll)


def test_window_and_keys(world: anxin.SyntheticWorld) -> None:
    pay = world.tables.payroll
    assert pay["period"].min() == "2024-01" and pay["period"].max() == "2026-06"
    assert not pay.duplicated(["enterprise_id", "period"]).any()
    assert set(pay["enterprise_id"]) <= set(world.tables.enterprises["enterprise_id"])


def test_events_are_rare_and_peak_at_spring_festival() -> None:
    world = anxin.synth(n_enterprises=6000, n_months=36, seed=1)
    pay, ev = world.tables.payroll, world.tables.events
    assert ev is not None
    per_quarter = 3 * len(ev) / len(pay)
    assert 0.004 < per_quarter < 0.03  # order of 1% of enterprises per quarter
    month = ev["period"].str.slice(5, 7).astype(int)
    winter = month.isin([12, 1, 2, 3]).mean()
    assert winter > 4 / 12 * 1.25  # the season carries more than its share


def test_construction_is_riskier_and_has_pay_delay_data() -> None:
    world = anxin.synth(n_enterprises=6000, n_months=24, seed=2)
    ent, pay, ev = world.tables.enterprises, world.tables.payroll, world.tables.events
    assert ev is not None
    ind = ent.set_index("enterprise_id")["industry"]
    rate = (
        ev["enterprise_id"].map(ind).value_counts()
        / pay["enterprise_id"].map(ind).value_counts()
    )
    assert rate["E"] > 1.5 * rate["C"]
    known = pay["pay_delay_days"].notna().groupby(pay["enterprise_id"].map(ind)).mean()
    assert known["E"] > 0.7 and known["C"] < 0.1


def test_signals_lead_events() -> None:
    """Complaints and social-insurance gaps rise before an event, as in the field."""
    world = anxin.synth(n_enterprises=6000, n_months=24, seed=3)
    t = world.tables
    assert t.events is not None and t.signals is not None
    ev = t.events.drop_duplicates(["enterprise_id", "period"])
    month = pd.PeriodIndex(ev["period"], freq="M")
    before = ev.assign(period=(month - 1).strftime("%Y-%m"))
    key = ["enterprise_id", "period"]
    pay = t.payroll.assign(
        gap=1 - t.payroll["social_insurance_paid"] / t.payroll["social_insurance_due"]
    )
    sig = t.signals.merge(before[key], on=key)
    gap = pay.merge(before[key], on=key)
    assert sig["complaints"].mean() > 5 * t.signals["complaints"].mean()
    assert gap["gap"].mean() > 3 * pay["gap"].mean()


def test_heavy_tailed_sizes_entrants_and_exits(world: anxin.SyntheticWorld) -> None:
    pay = world.tables.payroll
    size = pay.groupby("enterprise_id")["insured_headcount"].median()
    assert size.max() > 10 * size.median()
    first = pay.groupby("enterprise_id")["period"].min()
    last = pay.groupby("enterprise_id")["period"].max()
    assert (first > "2024-01").any()  # entrants
    assert (last < "2026-06").any()  # exits


def test_realistic_missingness(world: anxin.SyntheticWorld) -> None:
    t = world.tables
    assert t.tax is not None and t.signals is not None
    assert len(t.tax) < len(t.payroll)  # missing tax months
    no_kwh = t.signals.groupby("enterprise_id")["electricity_kwh"].apply(
        lambda s: s.isna().all()
    )
    assert 0.05 < no_kwh.mean() < 0.5


def test_health_is_hidden_from_tables(world: anxin.SyntheticWorld) -> None:
    for _, frame in world.tables.items():
        assert "health" not in frame.columns
    assert np.isfinite(world.health["health"]).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_enterprises": 5}, "n_enterprises"),
        ({"n_months": 1}, "n_months"),
        ({"end": "June"}, "end"),
        ({"end": "2026-13"}, "end"),
        ({"end": "２０２６-06"}, "end"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**40}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(
        InvalidParameterError, match=f"The '{match}' parameter of synth"
    ):
        anxin.synth(**kwargs)  # type: ignore[arg-type]


def test_a_relief_policy_changes_only_social_insurance_paid() -> None:
    base = anxin.synth(n_enterprises=400, n_months=18, seed=4)
    relief = anxin.synth(
        n_enterprises=400, n_months=18, seed=4, relief=("2026-01", 0.3)
    )
    for name, frame in base.tables.items():
        other = relief.tables[name]
        assert other is not None
        if name != "payroll":
            pd.testing.assert_frame_equal(frame, other)
    pay_a, pay_b = base.tables.payroll, relief.tables.payroll
    pd.testing.assert_frame_equal(
        pay_a.drop(columns="social_insurance_paid"),
        pay_b.drop(columns="social_insurance_paid"),
    )
    changed = pay_a["social_insurance_paid"] != pay_b["social_insurance_paid"]
    assert (pay_b.loc[changed, "period"] >= "2026-01").all()
    deferring = pay_b.loc[pay_b["period"] >= "2026-01", "social_insurance_paid"] == 0
    assert 0.2 < deferring.mean() < 0.4
