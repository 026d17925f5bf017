"""Population stability index with fixed reference bins."""

from __future__ import annotations

import numpy as np
import pytest

from anxin.drift import Reference, psi


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
