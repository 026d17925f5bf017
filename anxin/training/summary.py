"""What tells training runs and model versions apart in MLflow: their names
and descriptions.

* :func:`default_run_name` -- ``lgbm-h3-2022-07..2026-03-sigmoid-refit``:
  model, horizon, data window (first training month to last test month),
  calibration, and what else was asked for (refit, a search, parameters, a
  seed), so the runs list tells trainings apart;
* :func:`run_description` -- the run's description (``mlflow.note.content``):
  a first line with the headline figures against the rules (what the runs
  table shows), then a table of model, rules and logistic regression,
  calibration, levels and stability;
* :func:`version_description` -- a registered version's description: data
  window, horizon, the headline figures against the rules, and links to its
  run and model card.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from anxin.metrics import volume_key
from anxin.training.result import TrainResult
from anxin.training.splits import Splits

__all__ = [
    "default_run_name",
    "headline_line",
    "headline_table",
    "run_description",
    "version_description",
]

_ROWS = (
    ("AUC", "auc"),
    ("Gini", "gini"),
    ("AP (PR-AUC)", "ap"),
    ("KS", "ks"),
    ("Brier", "brier"),
)


def default_run_name(
    splits: Splits,
    *,
    calibration: str,
    refit: bool = False,
    tune: int = 0,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
) -> str:
    """A run name that says what differs between trainings.

    Examples
    --------
    >>> s = Splits(("2022-07", "2025-03"), ("2025-07", "2025-09"),
    ...     ("2026-01", "2026-03"), horizon=3)
    >>> default_run_name(s, calibration="sigmoid", refit=True)
    'lgbm-h3-2022-07..2026-03-sigmoid-refit'
    >>> default_run_name(s, calibration="isotonic", tune=20, seed=3,
    ...     params={"num_leaves": 31})
    'lgbm-h3-2022-07..2026-03-isotonic-tuned20-num_leaves=31-seed3'
    """
    kind = getattr(splits, "kind", "time")
    window = f"{splits.train[0]}..{splits.test[1]}" if splits.test[1] else kind
    if kind != "time" and splits.test[1]:
        window = f"{kind}-{window}"
    parts = ["lgbm", f"h{splits.horizon}", window, calibration]
    if refit:
        parts.append("refit")
    if tune:
        parts.append(f"tuned{tune}")
    parts.extend(f"{k}={v}" for k, v in sorted((params or {}).items()))
    if seed:
        parts.append(f"seed{seed}")
    return "-".join(parts)[:250]


def _f(value: Any, digits: int = 3) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not np.isfinite(number) else f"{number:.{digits}f}"


def _pct(volume: float) -> str:
    return f"{volume * 100:g}%"


def headline_line(comparison: pd.DataFrame, alert_volume: float) -> str:
    """One line: the model's AP, AUC and recall at the alert volume against
    the rules (what the runs table shows of a run's description).

    Examples
    --------
    >>> table = pd.DataFrame({"ap": [0.3, 0.1], "auc": [0.84, 0.7],
    ...     "gini": [0.68, 0.4], "recall_at_5pct": [0.45, 0.2]},
    ...     index=["model", "rules"])
    >>> headline_line(table, 0.05)
    'AP 0.300 vs rules 0.100 (3.0x) · AUC 0.840 (Gini 0.680) · recall at 5% 0.450 vs rules 0.200'
    """  # noqa: E501
    model = comparison.loc["model"]
    key = volume_key(alert_volume)
    rules = comparison.loc["rules"] if "rules" in comparison.index else None
    ap = f"AP {_f(model['ap'])}"
    recall = f"recall at {_pct(alert_volume)} {_f(model[key])}"
    if rules is not None:
        ratio = model["ap"] / rules["ap"] if rules["ap"] else float("nan")
        ap += f" vs rules {_f(rules['ap'])} ({_f(ratio, 1)}x)"
        recall += f" vs rules {_f(rules[key])}"
    auc = f"AUC {_f(model['auc'])} (Gini {_f(model['gini'])})"
    return " · ".join([ap, auc, recall])


def headline_table(comparison: pd.DataFrame, alert_volume: float) -> str:
    """The headline metrics of each scorer as a Markdown table (scorers as
    columns)."""
    recall = volume_key(alert_volume)
    precision = volume_key(alert_volume, "precision")
    rows = [
        *_ROWS,
        (f"recall at {_pct(alert_volume)}", recall),
        (f"precision at {_pct(alert_volume)}", precision),
    ]
    scorers = [s for s in ("model", "rules", "logreg") if s in comparison.index]
    lines = [
        "| test, out of time | " + " | ".join(scorers) + " |",
        "|---" * (len(scorers) + 1) + "|",
    ]
    for label, key in rows:
        if key in comparison.columns:
            cells = [_f(comparison.loc[s, key]) for s in scorers]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _levels_line(levels: pd.DataFrame) -> str:
    parts = [
        f"{r['level']} {_f(r['volume'] * 100, 1)}% of enterprises "
        f"({_f(r['per_month'], 0)} a month), precision {_f(r['precision'])}, "
        f"recall {_f(r['recall'])}"
        for r in levels.to_dict("records")
    ]
    return "Warning levels on test: " + "; ".join(parts) + "."


def _stability_line(monthly: pd.DataFrame) -> str:
    model = monthly[monthly["scorer"] == "model"].sort_values("month")
    months = ", ".join(
        f"{r.month} {_f(r.auc)}/{_f(r.ap)}" for r in model.itertuples(index=False)
    )
    return f"Per test month (AUC/AP): {months}."


def run_description(
    result: TrainResult, *, alert_volume: float, calibration: str
) -> str:
    """The training run's description (Markdown), headline line first."""
    splits, m = result.splits, result.metrics
    parts = [
        headline_line(result.comparison, alert_volume),
        "",
        headline_table(result.comparison, alert_volume),
        "",
        f"Calibration ({calibration}) on test: ECE {_f(m.get('test_ece'), 4)}, "
        f"slope {_f(m.get('test_calibration_slope'), 2)}, intercept "
        f"{_f(m.get('test_calibration_intercept'), 2)} (1 and 0 when right).",
    ]
    if not result.levels.empty:
        parts += ["", _levels_line(result.levels)]
    if not result.monthly.empty:
        parts += ["", _stability_line(result.monthly)]
    parts += [
        "",
        f"Horizon {splits.horizon} months; {splits}; best iteration "
        f"{result.best_iteration}"
        + ("; refitted on train + validation." if _refit(result) else "."),
        "",
        "The model card is the artifact model_card.md; plots/ and tables/ hold "
        "the charts and every figure.",
    ]
    return "\n".join(parts)[:8000]


def _refit(result: TrainResult) -> bool:
    return bool(result.model.spec.info.get("refit", False))


def version_description(
    result: TrainResult,
    *,
    alert_volume: float,
    data_window: str,
    run_link: str,
    card_link: str,
) -> str:
    """A registered version's description (Markdown): what it was trained
    on, its headline figures against the rules, links to its run and card."""
    splits = result.splits
    return "\n".join(
        [
            f"**LightGBM, horizon {splits.horizon} months**, trained on "
            f"{data_window} (test {splits.test[0]}..{splits.test[1]}, out of "
            "time).",
            "",
            headline_line(result.comparison, alert_volume),
            "",
            headline_table(result.comparison, alert_volume),
            "",
            f"[Training run {result.run_name}]({run_link}) · "
            f"[Model card]({card_link}) (`runs:/{result.run_id}/model_card.md`)",
        ]
    )[:5000]
