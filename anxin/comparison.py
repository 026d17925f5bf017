"""Two models scored on the same months, side by side: :func:`compare`.

``anxin compare DATA_DIR A B`` compares any two models -- registered
versions (``3``, ``v3``, ``models:/NAME/3``), aliases (``champion``,
``models:/NAME@challenger``), training runs (a run id, ``runs:/ID/model``) or
saved bundles -- and :func:`anxin.promote` compares challenger and champion
the same way. Both models score the same rows: by default every labelled
month that is out of time for both (from the later of their test windows'
first months on), so neither has seen the months it is judged on.

What comes out (:class:`Comparison`): the metrics of each model, the
differences per month, precision, recall and volume per warning level,
and paired bootstrap confidence intervals for the differences (B minus A) in
AP, AUC and recall at the alert volume
(:func:`anxin.bootstrap.paired_bootstrap`). :func:`log_comparison` logs it as a
run of the ``anxin-comparisons`` experiment with the report
(:mod:`anxin.comparison_report`) as HTML and Markdown.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anxin._params import check_param
from anxin.bootstrap import Bootstrap, paired_bootstrap
from anxin.config import get_config
from anxin.exceptions import InvalidParameterError
from anxin.features import build_features
from anxin.labels import build_labels
from anxin.metrics import (
    VOLUMES,
    calibration_stats,
    evaluate,
    level_table,
    monthly_metrics,
    volume_key,
)
from anxin.model import ArrearsModel
from anxin.tables import Tables

__all__ = [
    "EXPERIMENT",
    "ComparedModel",
    "Comparison",
    "compare",
    "compare_models",
    "log_comparison",
    "resolve_reference",
]

logger = logging.getLogger(__name__)

#: The MLflow experiment comparison runs go to.
EXPERIMENT = "anxin-comparisons"
_RUN_ID = re.compile(r"[0-9a-f]{32}")


@dataclasses.dataclass(frozen=True)
class ComparedModel:
    """One side of a comparison.

    Attributes
    ----------
    label : str
        How reports name it (``champion v1``, ``v3``, ``run 1a2b3c4d``).
    uri : str
        Where it was loaded from.
    version : str
        Registry version (``""`` for a run or a local bundle).
    run_id : str or None
        The training run, when known.
    test_start : str or None
        First month of its own out-of-time test window (from its spec).
    """

    label: str
    uri: str
    version: str = ""
    run_id: str | None = None
    test_start: str | None = None


@dataclasses.dataclass
class Comparison:
    """Models A and B scored on the same rows. Differences are B minus A.

    Attributes
    ----------
    a, b : ComparedModel
    months : list of str
        The as-of months both were scored on.
    why_months : str
        Why these months (printed and written in the report).
    alert_volume : float
    metrics : DataFrame
        One row per model (by label): :func:`anxin.metrics.evaluate`,
        calibration (``ece``, ``calibration_slope``,
        ``calibration_intercept``) and ``version``.
    monthly : DataFrame
        Per month: ``rows``, ``positives``, each model's ``auc``, ``ap`` and
        recall at the alert volume (``a_*``, ``b_*``) and ``diff_*``.
    levels : DataFrame
        Per model (``model`` column) and warning level: rows, per month,
        volume, precision, recall (and cumulated), each under its own policy.
    bootstrap : Bootstrap
        Paired bootstrap intervals of the differences.
    y : ndarray
        Outcomes of the compared rows.
    scores : dict
        Label -> the model's scores of the same rows.
    run_id, experiment_id : str or None
        The comparison run, once logged (:func:`log_comparison`).
    """

    a: ComparedModel
    b: ComparedModel
    months: list[str]
    why_months: str
    alert_volume: float
    metrics: pd.DataFrame
    monthly: pd.DataFrame
    levels: pd.DataFrame
    bootstrap: Bootstrap
    y: np.ndarray
    scores: dict[str, np.ndarray]
    run_id: str | None = None
    experiment_id: str | None = None

    @property
    def difference(self) -> pd.DataFrame:
        """The bootstrap table (metric -> a, b, difference, low, high,
        significant, b_better)."""
        return self.bootstrap.table


def resolve_reference(
    ref: str, *, model_name: str | None = None, tracking_uri: str | None = None
) -> tuple[str, str, str, str | None]:
    """A model reference as ``(uri, label, version, run_id)``.

    ``3`` or ``v3`` is version 3 of ``model_name``; a word (``champion``)
    is an alias; a 32-hex run id is that run's model; ``models:/...``,
    ``runs:/...`` and local directories are taken as they are.

    Examples
    --------
    >>> resolve_reference("v3", model_name="m")[:2]
    ('models:/m/3', 'v3')
    >>> resolve_reference("runs:/0123456789abcdef0123456789abcdef/model")[1]
    'run 01234567'
    """
    name = model_name or get_config().model_name
    text = str(ref).strip()
    if re.fullmatch(r"v?\d+", text):
        version = text.lstrip("v")
        return f"models:/{name}/{version}", f"v{version}", version, None
    if _RUN_ID.fullmatch(text):
        text = f"runs:/{text}/model"
    if text.startswith("runs:/"):
        run_id = text.removeprefix("runs:/").split("/", 1)[0]
        return text, f"run {run_id[:8]}", "", run_id
    if text.startswith("models:/"):
        ref_part = text.removeprefix("models:/")
        if "@" in ref_part:
            return text, ref_part.split("@", 1)[1], "", None
        version = ref_part.rsplit("/", 1)[-1]
        return text, f"v{version}", version, None
    if Path(text).exists() or "/" in text or "\\" in text:
        return text, Path(text).name or text, "", None
    return f"models:/{name}@{text}", text, "", None


def _load(
    ref: str | ArrearsModel, *, model_name: str | None, tracking_uri: str | None
) -> tuple[ArrearsModel, ComparedModel]:
    """Load a reference; its label says which version an alias points at."""
    from anxin.prediction import load_model

    if isinstance(ref, ArrearsModel):
        uri, label, version, run_id = "(in memory)", repr(ref), ref.version, None
        model = ref
    else:
        uri, label, version, run_id = resolve_reference(
            ref, model_name=model_name, tracking_uri=tracking_uri
        )
        model = load_model(uri, tracking_uri=tracking_uri)
    version = version or (model.version if model.version != "local" else "")
    if version and f"v{version}" not in label:
        label = f"{label} v{version}"
    if run_id is None and version and model.name:
        run_id = _version_run(model.name, version, tracking_uri)
    splits = model.spec.info.get("splits") or {}
    test = splits.get("test")
    return model, ComparedModel(
        label=label,
        uri=uri,
        version=version,
        run_id=run_id,
        test_start=str(test[0]) if test else None,
    )


def _version_run(name: str, version: str, tracking_uri: str | None) -> str | None:
    from mlflow.exceptions import MlflowException

    from anxin import tracking

    try:
        return tracking.client(tracking_uri).get_model_version(name, version).run_id
    except (MlflowException, OSError):
        return None


def compare(
    tables: Tables,
    a: str | ArrearsModel,
    b: str | ArrearsModel,
    *,
    model_name: str | None = None,
    eval_months: int | None = None,
    alert_volume: float = 0.05,
    n_boot: int = 1000,
    seed: int = 0,
    log: bool = True,
    tracking_uri: str | None = None,
) -> Comparison:
    """Score models A and B on the same months and compare them (B minus A).

    Parameters
    ----------
    tables : Tables
        Validated tables with events (the labels).
    a, b : str or ArrearsModel
        The models: a version (``3``, ``v3``), an alias (``champion``), a
        model URI (``models:/NAME/3``, ``models:/NAME@alias``,
        ``runs:/RUN_ID/model``), a run id, a local bundle, or a model.
    model_name : str, optional
        Registered model of versions and aliases (default ``anxin-arrears``).
    eval_months : int, optional
        Use only the latest this many of the shared months.
    alert_volume : float, default 0.05
        Alert volume of the recall and precision compared.
    n_boot : int, default 1000
        Bootstrap resamples (of enterprises) for the confidence intervals.
    seed : int, default 0
        Seeds the bootstrap.
    log : bool, default True
        Log the comparison run (``anxin-comparisons``) with its report.
    tracking_uri : str, optional

    Returns
    -------
    Comparison

    Raises
    ------
    InvalidParameterError
        If the models look at different horizons, or no labelled month is
        out of time for both.
    ModelNotFoundError
        If a reference does not resolve.

    Examples
    --------
    >>> c = anxin.compare(tables, "champion", "challenger")  # doctest: +SKIP
    >>> c.difference.loc["ap", ["difference", "low", "high"]]  # doctest: +SKIP
    """
    _check(alert_volume, n_boot, eval_months, "compare")
    args = {"model_name": model_name, "tracking_uri": tracking_uri}
    model_a, ref_a = _load(a, **args)
    model_b, ref_b = _load(b, **args)
    months, why = shared_months(tables, model_a, model_b, ref_a, ref_b, eval_months)
    result = compare_models(
        tables,
        (model_a, ref_a),
        (model_b, ref_b),
        months=months,
        why_months=why,
        alert_volume=alert_volume,
        n_boot=n_boot,
        seed=seed,
    )
    if log:
        log_comparison(result, tracking_uri=tracking_uri)
    return result


def _check(
    alert_volume: float, n_boot: int, eval_months: int | None, owner: str
) -> None:
    check_param(
        "alert_volume", alert_volume, owner, "a share in (0, 1)", 0 < alert_volume < 1
    )
    check_param("n_boot", n_boot, owner, "an int >= 100", int(n_boot) >= 100)
    check_param(
        "eval_months",
        eval_months,
        owner,
        "None or an int >= 1",
        eval_months is None or int(eval_months) >= 1,
    )


def _labelled_months(tables: Tables, horizon: int) -> list[str]:
    labels = build_labels(tables, horizon=horizon)
    return sorted(str(m) for m in labels.dropna(subset=["label"])["period"].unique())


def shared_months(
    tables: Tables,
    model_a: ArrearsModel,
    model_b: ArrearsModel,
    ref_a: ComparedModel,
    ref_b: ComparedModel,
    eval_months: int | None = None,
) -> tuple[list[str], str]:
    """The labelled months out of time for both models, and why those."""
    if model_a.spec.horizon != model_b.spec.horizon:
        raise InvalidParameterError(
            f"{ref_a.label} predicts {model_a.spec.horizon} months ahead and "
            f"{ref_b.label} {model_b.spec.horizon}: their labels differ, so they "
            "cannot be compared on the same rows. Compare models of one horizon.",
            parameter="b",
            value=ref_b.uri,
        )
    labelled = _labelled_months(tables, model_a.spec.horizon)
    starts = {r.label: r.test_start for r in (ref_a, ref_b) if r.test_start}
    start = max(starts.values()) if starts else None
    months = [m for m in labelled if start is None or m >= start]
    if not months:
        last = labelled[-1] if labelled else "none"
        raise InvalidParameterError(
            f"No labelled month is out of time for both models: their test "
            f"windows start at {starts} and the data's last labelled month is "
            f"{last}. Give data with later labelled months (events "
            "'horizon' months after the as-of month).",
            parameter="tables",
            value=last,
        )
    if eval_months is not None:
        months = months[-int(eval_months) :]
    tests = ", ".join(f"{k} tested from {v}" for k, v in starts.items())
    why = (
        f"{months[0]}..{months[-1]} ({len(months)} months): the labelled months "
        "out of time for both models"
        + (f" ({tests})" if tests else "")
        + (f", the latest {eval_months}" if eval_months is not None else "")
    )
    return months, why


# long: the figures of one comparison, each a call into anxin.metrics; kept
# together so the rows, months and labels visibly stay the same for all
def compare_models(
    tables: Tables,
    a: tuple[ArrearsModel, ComparedModel],
    b: tuple[ArrearsModel, ComparedModel],
    *,
    months: list[str],
    why_months: str,
    alert_volume: float = 0.05,
    n_boot: int = 1000,
    seed: int = 0,
) -> Comparison:
    """Score both models on ``months`` of ``tables`` and compare them."""
    (model_a, ref_a), (model_b, ref_b) = a, b
    if ref_a.label == ref_b.label:
        ref_a = dataclasses.replace(ref_a, label=f"{ref_a.label} (A)")
        ref_b = dataclasses.replace(ref_b, label=f"{ref_b.label} (B)")
    horizon = model_a.spec.horizon
    feats = build_features(tables, as_of=months)
    labels = build_labels(tables, horizon=horizon, as_of=months)
    keep = labels["label"].notna().to_numpy()
    feats = feats[keep].reset_index(drop=True)
    y = labels["label"][keep].to_numpy(int)
    period = feats["period"].astype(str).to_numpy()
    regions = feats["region"].astype(str).to_numpy() if "region" in feats else None
    volumes = tuple(sorted({*VOLUMES, alert_volume}))
    scores, metrics, monthly, levels = {}, {}, [], []
    for model, ref in ((model_a, ref_a), (model_b, ref_b)):
        p = model.predict_proba(feats)
        scores[ref.label] = p
        metrics[ref.label] = {
            "version": ref.version,
            **evaluate(y, p, period, volumes=volumes),
            **calibration_stats(y, p),
        }
        monthly.append(monthly_metrics(y, p, period, volume=alert_volume))
        levels.append(
            level_table(y, model.levels(p, regions), period).assign(model=ref.label)
        )
    boot = paired_bootstrap(
        y,
        scores[ref_a.label],
        scores[ref_b.label],
        period,
        clusters=feats["enterprise_id"].astype(str).to_numpy(),
        volume=alert_volume,
        n_boot=n_boot,
        seed=seed,
    )
    return Comparison(
        a=ref_a,
        b=ref_b,
        months=months,
        why_months=why_months,
        alert_volume=alert_volume,
        metrics=pd.DataFrame.from_dict(metrics, orient="index"),
        monthly=_month_differences(monthly[0], monthly[1], volume_key(alert_volume)),
        levels=pd.concat(levels, ignore_index=True),
        bootstrap=boot,
        y=y,
        scores=scores,
    )


def _month_differences(a: pd.DataFrame, b: pd.DataFrame, recall: str) -> pd.DataFrame:
    """Per month: rows, positives, each model's figures and B minus A."""
    keys = ["auc", "ap", recall]
    out = a[["month", "rows", "positives"]].copy()
    for k in keys:
        out[f"a_{k}"] = a[k].to_numpy()
        out[f"b_{k}"] = b[k].to_numpy()
        out[f"diff_{k}"] = out[f"b_{k}"] - out[f"a_{k}"]
    return out


def comparison_metrics(comparison: Comparison) -> dict[str, float]:
    """The comparison run's metrics: each model's headline figures (``a_*``,
    ``b_*``) and, for AP, AUC and recall at the alert volume, the difference
    with its interval (``diff_ap``, ``diff_ap_low``, ``diff_ap_high``)."""
    out: dict[str, float] = {}
    recall = volume_key(comparison.alert_volume)
    keys = ("ap", "auc", "gini", "ks", "brier", "ece", recall)
    for side, ref in (("a", comparison.a), ("b", comparison.b)):
        row = comparison.metrics.loc[ref.label, list(keys)].astype(float).to_dict()
        out.update({f"{side}_{k}": float(row[k]) for k in keys})
    for metric, rec in comparison.bootstrap.table.iterrows():
        out[f"diff_{metric}"] = float(rec["difference"])
        out[f"diff_{metric}_low"] = float(rec["low"])
        out[f"diff_{metric}_high"] = float(rec["high"])
    return {k: v for k, v in out.items() if np.isfinite(v)}


def log_comparison(
    comparison: Comparison,
    *,
    tracking_uri: str | None = None,
    experiment: str = EXPERIMENT,
    run_name: str | None = None,
    decision: Any = None,
    tags: dict[str, str] | None = None,
) -> str:
    """Log the comparison as a run of ``experiment``; returns the run id.

    The run holds the metrics of :func:`comparison_metrics`, the per-month
    differences as series (``diff_ap_by_month``, ``diff_auc_by_month``, one
    step per month), the overlaid charts and tables, and the report as
    ``report.html`` (self-contained) and ``report.md``; its description is
    the report's summary. ``decision`` is a promotion's decision, written in
    the report.
    """
    import mlflow

    from anxin import _mlflow_ui, tracking
    from anxin.comparison_report import summary, write_report

    c = comparison
    name = run_name or f"{c.b.label} vs {c.a.label} {c.months[0]}..{c.months[-1]}"
    with tracking.use_tracking(tracking_uri) as uri:
        exp_id = tracking.ensure_experiment(experiment, uri)
        run_tags = {
            _mlflow_ui.NOTE_TAG: summary(c, decision)[:8000],
            "compared_a": c.a.uri,
            "compared_b": c.b.uri,
            "months": ",".join(c.months),
            **(tags or {}),
        }
        with tracking.start_run(exp_id, name[:250], run_tags) as run:
            mlflow.log_params(_params(c))
            mlflow.log_metrics(comparison_metrics(c))
            for step, rec in enumerate(c.monthly.itertuples(index=False)):
                for k in ("ap", "auc"):
                    value = float(getattr(rec, f"diff_{k}"))
                    if np.isfinite(value):
                        mlflow.log_metric(f"diff_{k}_by_month", value, step=step)
            with tempfile.TemporaryDirectory() as tmp:
                write_report(c, Path(tmp), decision=decision)
                mlflow.log_artifacts(tmp)
            c.run_id, c.experiment_id = run.info.run_id, exp_id
    logger.info("comparison %s -> run %s", name, c.run_id)
    return str(c.run_id)


def _params(c: Comparison) -> dict[str, str]:
    boot = c.bootstrap
    params = {
        "a": c.a.label,
        "b": c.b.label,
        "a_uri": c.a.uri,
        "b_uri": c.b.uri,
        "months": f"{c.months[0]}..{c.months[-1]}",
        "n_months": len(c.months),
        "rows": int(c.y.size),
        "positives": int(c.y.sum()),
        "alert_volume": c.alert_volume,
        "bootstrap_resamples": boot.n_boot,
        "bootstrap_level": boot.level,
        "bootstrap_seed": boot.seed,
        "bootstrap_clusters": boot.clusters,
    }
    return {k: str(v)[:500] for k, v in params.items()}
