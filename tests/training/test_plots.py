"""The charts of a training run."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from anxin.metrics import level_table, monthly_metrics
from anxin.training.plots import calibration_chart, write_plots

NAMES = [
    "roc.png",
    "pr.png",
    "calibration.png",
    "lift.png",
    "levels.png",
    "months.png",
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
    months = np.repeat(["2026-01", "2026-02"], 250)
    levels = level_table(y, np.where(scores["model"] > 0.3, "red", "none"), months)
    monthly = pd.concat(
        monthly_metrics(y, s, months).assign(scorer=name) for name, s in scores.items()
    )
    backend = matplotlib.get_backend()
    files = write_plots(
        tmp_path / "plots",
        y,
        scores,
        lift,
        importance,
        groups,
        levels=levels,
        monthly=monthly,
    )
    assert [p.name for p in files] == NAMES
    # without the level and month tables, their charts are left out
    fewer = write_plots(tmp_path / "fewer", y, scores, lift, importance, groups)
    assert [p.name for p in fewer] == [
        n for n in NAMES if n not in ("levels.png", "months.png")
    ]
    for path in files:
        assert path.parent == tmp_path / "plots"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # drawn without pyplot: the caller's backend is left alone
    assert matplotlib.get_backend() == backend


def test_the_calibration_chart_overlays_scores_near_zero(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    p = rng.beta(1, 200, 5000)  # nearly all below 1%: needs the log scale
    y = (rng.random(5000) < p).astype(int)
    path = calibration_chart(tmp_path / "c.png", y, {"a": p, "b": p * 2})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
