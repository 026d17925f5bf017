"""The charts of a training run."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from anxin.training.plots import write_plots

NAMES = [
    "roc.png",
    "pr.png",
    "calibration.png",
    "lift.png",
    "feature_importance.png",
    "shap_features.png",
    "shap_groups.png",
]


def test_write_plots_draws_every_chart(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.1).astype(int)
    scores = {"model": rng.random(500) * 0.2 + 0.3 * y, "rules": rng.random(500)}
    lift = pd.DataFrame({"decile": range(1, 11), "lift": np.linspace(3, 0.2, 10)})
    importance = pd.DataFrame(
        {
            "feature": [f"f{i}" for i in range(30)],
            "gain": rng.random(30),
            "mean_abs_shap": rng.random(30),
        }
    )
    groups = pd.DataFrame({"group": ["a", "b"], "mean_abs_shap": [0.3, 0.1]})
    backend = matplotlib.get_backend()
    files = write_plots(tmp_path / "plots", y, scores, lift, importance, groups)
    assert [p.name for p in files] == NAMES
    for path in files:
        assert path.parent == tmp_path / "plots"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # drawn without pyplot: the caller's backend is left alone
    assert matplotlib.get_backend() == backend
