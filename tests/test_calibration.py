"""Calibration: raw margins to probabilities, stored as plain JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anxin.calibration import Calibrator
from anxin.exceptions import InvalidParameterError, NotFittedError


def test_calibrator_recovers_sigmoid_and_round_trips() -> None:
    rng = np.random.default_rng(1)
    margin = rng.normal(size=20_000)
    y = rng.random(20_000) < 1 / (1 + np.exp(-(1.5 * margin - 2)))
    for method in ("sigmoid", "isotonic"):
        cal = Calibrator(method).fit(margin, y)  # type: ignore[arg-type]
        again = Calibrator.from_dict(cal.to_dict())
        np.testing.assert_array_equal(cal.transform(margin), again.transform(margin))
        p = cal.transform(np.sort(margin))
        assert (np.diff(p) >= 0).all()
    sig = Calibrator().fit(margin, y)
    assert sig.params_["a"] == pytest.approx(1.5, abs=0.1)
    with pytest.raises(NotFittedError, match="not fitted"):
        Calibrator().transform(margin)


def test_the_state_is_json_and_names_the_method() -> None:
    rng = np.random.default_rng(2)
    margin = rng.normal(size=500)
    y = rng.random(500) < 0.3
    state = Calibrator("isotonic").fit(margin, y).to_dict()
    assert json.loads(json.dumps(state)) == state
    assert state["method"] == "isotonic" and set(state) == {"method", "x", "y"}
    assert (np.array(state["y"]) >= 0).all() and (np.array(state["y"]) <= 1).all()
    with pytest.raises(NotFittedError):
        Calibrator().to_dict()


def test_an_unknown_method_is_refused_when_fitting() -> None:
    with pytest.raises(
        InvalidParameterError, match="The 'method' parameter of Calibrator"
    ):
        Calibrator("platt").fit(np.zeros(3), np.array([0, 1, 0]))  # type: ignore[arg-type]
