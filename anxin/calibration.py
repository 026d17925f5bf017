"""Probability calibration stored as plain JSON (no pickle).

LightGBM's raw margin is mapped to a probability that means what it says
(a 0.2 risk means about 20%), fitted on the validation split.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from anxin._params import check_param
from anxin.exceptions import NotFittedError

__all__ = ["Calibrator"]


class Calibrator:
    """Map raw margins to calibrated probabilities.

    Parameters
    ----------
    method : {"sigmoid", "isotonic"}, default "sigmoid"
        ``sigmoid`` (Platt scaling on the margin) is strictly increasing, so
        rankings never tie; ``isotonic`` is more flexible but steps.

    Attributes
    ----------
    params_ : dict
        Fitted parameters (``a``, ``b`` or ``x``, ``y``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> margin = rng.normal(size=4000)
    >>> y = rng.random(4000) < 1 / (1 + np.exp(-(2 * margin - 3)))
    >>> cal = Calibrator().fit(margin, y)
    >>> round(cal.params_["a"], 1), round(cal.params_["b"], 1)
    (2.0, -3.0)
    """

    def __init__(self, method: Literal["sigmoid", "isotonic"] = "sigmoid") -> None:
        self.method = method

    def fit(
        self,
        margin: np.ndarray,
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> Calibrator:
        """Fit on raw margins and 0/1 outcomes (rows weighted by
        ``sample_weight``, e.g. a down-sampled frame's); returns ``self``."""
        check_param(
            "method",
            self.method,
            "Calibrator",
            "'sigmoid' or 'isotonic'",
            self.method in ("sigmoid", "isotonic"),
        )
        margin = np.asarray(margin, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.method == "sigmoid":
            from sklearn.linear_model import LogisticRegression

            lr = LogisticRegression(C=1e6, max_iter=1000)
            lr.fit(margin[:, None], y, sample_weight=sample_weight)
            self.params_ = {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
        else:
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            iso.fit(margin, y, sample_weight=sample_weight)
            self.params_ = {
                "x": iso.X_thresholds_.tolist(),
                "y": iso.y_thresholds_.tolist(),
            }
        return self

    def transform(self, margin: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for raw margins."""
        if not hasattr(self, "params_"):
            raise NotFittedError("This Calibrator is not fitted yet. Call 'fit' first.")
        margin = np.asarray(margin, dtype=np.float64)
        if self.method == "sigmoid":
            z = self.params_["a"] * margin + self.params_["b"]
            return 1.0 / (1.0 + np.exp(-z))
        return np.interp(margin, self.params_["x"], self.params_["y"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        if not hasattr(self, "params_"):
            raise NotFittedError("This Calibrator is not fitted yet. Call 'fit' first.")
        return {"method": self.method, **self.params_}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Calibrator:
        """Rebuild from :meth:`to_dict`."""
        state = dict(state)
        cal = cls(state.pop("method"))
        cal.params_ = state
        return cal
