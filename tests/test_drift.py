"""Population stability index with fixed reference bins."""

from __future__ import annotations

import numpy as np
import pytest

import anxin
from anxin.drift import Reference, drift_report, drift_summary, psi, verdict


def test_identical_distributions_have_zero_psi() -> None:
    x = np.random.default_rng(0).normal(size=50_000)
    ref = Reference.fit({"x": x})
    assert ref.psi({"x": x})["x"] == pytest.approx(0.0, abs=1e-12)


def test_empty_bins_never_give_inf_or_nan() -> None:
    ref = Reference.fit({"x": np.arange(1000.0)})
    # everything lands in the top bin; many bins are empty on one side
    value = ref.psi({"x": np.full(500, 5000.0)})["x"]
    assert np.isfinite(value) and value > 1
    assert np.isfinite(psi(np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])))


def test_all_missing_and_constant_columns() -> None:
    ref = Reference.fit({"gone": np.full(100, np.nan), "flat": np.ones(100)})
    out = ref.psi({"gone": np.full(50, np.nan), "flat": np.ones(50)})
    assert out == {"gone": pytest.approx(0.0), "flat": pytest.approx(0.0)}
    # a feed that disappears is a shift
    assert (
        Reference.fit({"x": np.arange(100.0)}).psi({"x": np.full(10, np.nan)})["x"] > 1
    )


def test_shift_grows_with_distance() -> None:
    rng = np.random.default_rng(1)
    ref = Reference.fit({"x": rng.normal(size=20_000)})
    small = ref.psi({"x": rng.normal(0.1, 1, 20_000)})["x"]
    large = ref.psi({"x": rng.normal(1.0, 1, 20_000)})["x"]
    assert small < 0.1 < 0.25 < large


def test_round_trip() -> None:
    ref = Reference.fit({"x": np.arange(50.0)})
    again = Reference.from_dict(ref.to_dict())
    assert again.psi({"x": np.arange(20.0)}) == ref.psi({"x": np.arange(20.0)})


def test_a_zero_inflated_feature_has_a_bin_of_its_own() -> None:
    """Most firms pay social insurance in full (gap 0); 30% deferring shows."""
    rng = np.random.default_rng(1)
    before = np.where(rng.random(20_000) < 0.95, 0.0, rng.uniform(0.1, 0.6, 20_000))
    after = before.copy()
    after[rng.random(20_000) < 0.3] = 1.0
    ref = Reference.fit({"gap": before})
    assert ref.psi({"gap": before})["gap"] == pytest.approx(0.0, abs=1e-12)
    assert verdict(ref.psi({"gap": after})["gap"]) == "act"


def test_a_month_is_compared_with_the_same_calendar_month() -> None:
    rng = np.random.default_rng(2)
    months = np.repeat(np.arange(1, 13), 1000)
    bonus = np.where(months == 1, 1.55, 1.0)  # January pays the year-end bonus
    wages = bonus * rng.normal(10_000, 500, months.size)
    ref = Reference.fit({"wages": wages}, months=months)
    january = 1.55 * rng.normal(10_000, 500, 1000)
    assert verdict(ref.psi({"wages": january}, month=1)["wages"]) == "stable"
    assert verdict(ref.psi({"wages": january})["wages"]) == "act"  # vs all months


@pytest.fixture(scope="module")
def model(trained: tuple[anxin.TrainResult, str]) -> anxin.ArrearsModel:
    return trained[0].model


@pytest.mark.parametrize("month", ["2026-04", "2026-06"])
def test_a_stable_world_reads_as_stable(
    model: anxin.ArrearsModel, model_world: anxin.Tables, month: str
) -> None:
    feats = anxin.build_features(model_world, as_of=month)
    report = drift_report(model, feats, model.predict_proba(feats), as_of=month)
    assert set(report["verdict"]) <= {"stable", "watch"}, report.head()
    assert not report["alert"].any()


def test_a_relief_policy_is_an_act_on_social_insurance(
    model: anxin.ArrearsModel,
) -> None:
    with anxin.config_context(today="2026-11"):
        world = anxin.synth(3000, 36, seed=5, relief=("2026-03", 0.3))
        tables = anxin.validate(world.tables).tables
    feats = anxin.build_features(tables, as_of="2026-06")
    scores = model.predict_proba(feats)
    report = drift_report(model, feats, scores, as_of="2026-06")
    acting = set(report.loc[report["verdict"] == "act", "feature"])
    assert {"si_gap_share", "si_gap_mean_3m"} <= acting
    assert acting <= {
        f for f in acting if f.startswith(("si_", "months_since_full_si"))
    }
    levels = model.policy.assign(scores)
    summary = drift_summary(
        report,
        alert_share=float(np.mean(levels != "none")),
        reference_share=model.reference.alert_share,
    )
    assert summary["verdict"] == "act"
    assert summary["top"][0]["feature"].startswith(("si_", "months_since_full_si"))
    assert summary["alert_volume_ratio"] == pytest.approx(
        summary["alert_share"] / summary["reference_alert_share"], rel=0.02
    )
