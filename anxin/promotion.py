"""Promotion: move ``champion`` only when the challenger is at least as good.

Both models score the same latest months (the last labelled months of the
data; :mod:`anxin.comparison`). The challenger becomes champion when its
average precision and its recall at the alert volume are each no worse than
the champion's minus a tolerance, or when forced. The decision states the
rule and whether each difference is significant (paired bootstrap
intervals). The comparison is logged as a run of ``anxin-comparisons`` with
its report (HTML and Markdown); the decision, the figures and the report's
link are recorded as tags and in the descriptions of both versions, so the
registry keeps the why.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pandas as pd

from anxin._params import check_param
from anxin.comparison import (
    ComparedModel,
    Comparison,
    compare_models,
    log_comparison,
)
from anxin.config import get_config
from anxin.exceptions import ModelNotFoundError
from anxin.features import build_features
from anxin.labels import build_labels
from anxin.metrics import evaluate, volume_key
from anxin.model import ArrearsModel
from anxin.prediction import load_model
from anxin.tables import Tables

__all__ = ["PromotionDecision", "promote"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class PromotionDecision:
    """Outcome of :func:`promote`.

    Attributes
    ----------
    promoted : bool
        Whether ``champion`` now points at the challenger.
    reason : str
    comparison : DataFrame
        Metrics of ``challenger`` and ``champion`` on the same months.
    challenger_version, champion_version : str
        Versions compared (champion before the decision).
    months : list of str
        As-of months evaluated.
    rule : str
        The promotion rule the decision applied.
    significance : str
        Whether the differences in AP, AUC and recall at the alert volume
        are significant (their paired bootstrap intervals exclude 0).
    intervals : DataFrame or None
        The differences (challenger minus champion) with their intervals
        (:attr:`anxin.comparison.Comparison.difference`); ``None`` when there
        was no champion to compare with.
    comparison_run_id : str or None
        The comparison run in ``anxin-comparisons``.
    report : str or None
        The report's artifact URI (``runs:/ID/report.html``).
    """

    promoted: bool
    reason: str
    comparison: pd.DataFrame
    challenger_version: str
    champion_version: str | None
    months: list[str]
    rule: str = ""
    significance: str = ""
    intervals: pd.DataFrame | None = None
    comparison_run_id: str | None = None
    report: str | None = None


def rule_text(key: str, tolerance: float) -> str:
    """The promotion rule in words.

    Examples
    --------
    >>> rule_text("recall_at_5pct", 0.01)
    "promote when the challenger's AP and recall_at_5pct are each at least the champion's minus 0.01 (absolute), on the same months."
    """  # noqa: E501
    return (
        f"promote when the challenger's AP and {key} are each at least the "
        f"champion's minus {tolerance:g} (absolute), on the same months."
    )


# long: the steps of a promotion in order (check, find the versions, compare,
# decide, log, record, move the alias), each a call
def promote(
    tables: Tables,
    *,
    model_name: str | None = None,
    force: bool = False,
    alert_volume: float = 0.05,
    tolerance: float = 0.01,
    eval_months: int = 3,
    n_boot: int = 1000,
    seed: int = 0,
    log: bool = True,
    tracking_uri: str | None = None,
) -> PromotionDecision:
    """Compare challenger and champion and move ``champion`` if deserved.

    Parameters
    ----------
    tables : Tables
        Validated tables with events; the last ``eval_months`` labelled
        months are scored by both models.
    model_name : str, optional
        Registered model (default ``anxin-arrears``).
    force : bool, default False
        Promote regardless of the figures (the figures are still recorded).
    alert_volume : float, default 0.05
        Volume for the recall criterion (top 5% of enterprises per month).
    tolerance : float, default 0.01
        Absolute slack: the challenger may be up to this much below the
        champion on AP and on recall and still be promoted.
    eval_months : int, default 3
    n_boot : int, default 1000
        Bootstrap resamples for the confidence intervals of the differences.
    seed : int, default 0
        Seeds the bootstrap.
    log : bool, default True
        Log the comparison run (``anxin-comparisons``) with its report and
        link it from both versions' descriptions.
    tracking_uri : str, optional

    Returns
    -------
    PromotionDecision
    """
    from anxin import tracking

    _check(alert_volume, tolerance, n_boot)
    name = model_name or get_config().model_name
    c = tracking.client(tracking_uri)
    chal, champ = _versions(c, name)
    same = champ is not None and str(champ.version) == str(chal.version)
    key = volume_key(alert_volume)
    comparison = None
    if champ is None or same:
        rows, months = _score_alone(
            tables, name, str(chal.version), eval_months, alert_volume, tracking_uri
        )
    else:
        comparison = _compare(
            tables,
            name,
            (champ, chal),
            eval_months,
            alert_volume,
            n_boot,
            seed,
            tracking_uri,
        )
        rows, months = _rows(comparison, champ, chal), comparison.months
    promoted, reason = _decide(rows, key, tolerance, force=force, same=same)
    decision = PromotionDecision(
        promoted=promoted,
        reason=reason,
        comparison=pd.DataFrame(rows).T,
        challenger_version=str(chal.version),
        champion_version=None if champ is None else str(champ.version),
        months=months,
        rule=rule_text(key, tolerance) + (" Forced." if force else ""),
        significance="" if comparison is None else significance_text(comparison),
        intervals=None if comparison is None else comparison.difference,
    )
    if comparison is not None and log:
        _log(comparison, decision, tracking_uri)
    now = pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds")
    # nothing was decided when the challenger already is the champion: keep
    # the version's record (e.g. "first model: champion by default") as it is
    if not same:
        tags = _decision_tags(rows, key, promoted, reason, now, months)
        tags.update(
            promotion_alert_volume=str(alert_volume),
            promotion_tolerance=str(tolerance),
            promotion_forced=str(bool(force)),
        )
        if decision.comparison_run_id:
            tags.update(
                promotion_comparison_run=decision.comparison_run_id,
                promotion_report=str(decision.report),
            )
        for k, v in tags.items():
            c.set_model_version_tag(name, str(chal.version), k, v)
        if comparison is not None:
            _describe(c, name, comparison, decision, now, tracking_uri)
    if promoted and not same:
        c.set_registered_model_alias(name, tracking.CHAMPION, str(chal.version))
        if champ is not None:
            c.set_model_version_tag(
                name, str(champ.version), "retired_from_champion_at", now
            )
        c.set_registered_model_tag(
            name, "last_promotion", f"v{chal.version} at {now}: {reason}"[:5000]
        )
    logger.info(
        "promotion of %s v%s: %s (%s)",
        name,
        chal.version,
        "promoted" if promoted else "refused",
        reason,
    )
    return decision


def _check(alert_volume: float, tolerance: float, n_boot: int) -> None:
    check_param(
        "alert_volume",
        alert_volume,
        "promote",
        "a share in (0, 1)",
        0 < alert_volume < 1,
    )
    check_param(
        "tolerance", tolerance, "promote", "a number in [0, 1)", 0 <= tolerance < 1
    )
    check_param("n_boot", n_boot, "promote", "an int >= 100", int(n_boot) >= 100)


def _latest_months(tables: Tables, horizon: int, eval_months: int) -> list[str]:
    labels = build_labels(tables, horizon=horizon)
    labelled = sorted(labels.dropna(subset=["label"])["period"].unique())
    return [str(m) for m in labelled[-eval_months:]]


def _compare(
    tables: Tables,
    name: str,
    versions: tuple[Any, Any],
    eval_months: int,
    alert_volume: float,
    n_boot: int,
    seed: int,
    tracking_uri: str | None,
) -> Comparison:
    """Champion (A) and challenger (B) scored on the latest months."""
    sides = []
    for role, mv in zip(("champion", "challenger"), versions, strict=True):
        model = load_model(f"models:/{name}/{mv.version}", tracking_uri=tracking_uri)
        test = (model.spec.info.get("splits") or {}).get("test")
        ref = ComparedModel(
            label=f"{role} v{mv.version}",
            uri=f"models:/{name}/{mv.version}",
            version=str(mv.version),
            run_id=mv.run_id,
            test_start=str(test[0]) if test else None,
        )
        sides.append((model, ref))
    months = _latest_months(tables, sides[1][0].spec.horizon, eval_months)
    return compare_models(
        tables,
        sides[0],
        sides[1],
        months=months,
        why_months=_why(months, [ref for _, ref in sides]),
        alert_volume=alert_volume,
        n_boot=n_boot,
        seed=seed,
    )


def _why(months: list[str], refs: list[ComparedModel]) -> str:
    """Which months, and whether a model has seen them."""
    seen = [
        f"{r.label} is out of time only from {r.test_start}"
        for r in refs
        if r.test_start and months and months[0] < r.test_start
    ]
    why = (
        f"{months[0]}..{months[-1]} ({len(months)} months): the latest labelled months"
    )
    return why + (f" (note: {'; '.join(seen)})" if seen else "")


def _rows(comparison: Comparison, champ: Any, chal: Any) -> dict[str, dict[str, Any]]:
    """The metrics of each role, as :func:`_decide` reads them."""
    rows = {}
    for role, ref in (("challenger", comparison.b), ("champion", comparison.a)):
        metrics = comparison.metrics.loc[ref.label].to_dict()
        rows[role] = {str(k): v for k, v in metrics.items()} | {"version": ref.version}
    return rows


def significance_text(comparison: Comparison) -> str:
    """Whether each difference (challenger minus champion) is significant."""
    level = comparison.bootstrap.level
    parts = []
    for metric, rec in comparison.difference.iterrows():
        verdict = "significant" if rec["significant"] else "not significant"
        parts.append(
            f"{metric} {rec['difference']:+.4f} ({level:.0%} CI {rec['low']:+.4f} "
            f"to {rec['high']:+.4f}): {verdict}"
        )
    return "Differences, challenger minus champion: " + "; ".join(parts) + "."


def _log(
    comparison: Comparison, decision: PromotionDecision, tracking_uri: str | None
) -> None:
    run_id = log_comparison(
        comparison,
        tracking_uri=tracking_uri,
        decision=decision,
        tags={"promotion_decision": "promoted" if decision.promoted else "refused"},
    )
    decision.comparison_run_id = run_id
    decision.report = f"runs:/{run_id}/report.html"


def _describe(
    client: Any,
    name: str,
    comparison: Comparison,
    decision: PromotionDecision,
    now: str,
    tracking_uri: str | None,
) -> None:
    """Append the decision (and the report's link) to both versions'
    descriptions, keeping each under MLflow's 5,000 characters."""
    from anxin import _mlflow_ui, tracking

    verdict = "promoted" if decision.promoted else "not promoted"
    text = (
        f"**Promotion {now}: {comparison.b.label} vs {comparison.a.label} -- "
        f"{verdict}.** {decision.reason}. Rule: {decision.rule} "
        f"{decision.significance}"
    )
    if decision.comparison_run_id and comparison.experiment_id:
        base = _mlflow_ui.ui_base(tracking.resolve_tracking_uri(tracking_uri))
        exp, run = comparison.experiment_id, decision.comparison_run_id
        report = _mlflow_ui.run_link(exp, run, base, artifact="report.html")
        text += (
            f" [Comparison report]({report}) · "
            f"[comparison run]({_mlflow_ui.run_link(exp, run, base)}) "
            f"(`{decision.report}`)"
        )
    for ref in (comparison.a, comparison.b):
        current = client.get_model_version(name, ref.version).description or ""
        client.update_model_version(
            name, ref.version, description=append_section(current, text)
        )


def append_section(description: str, section: str, limit: int = 5000) -> str:
    """``description`` with ``section`` appended after a rule; the oldest
    appended sections go first when the whole would pass ``limit``.

    Examples
    --------
    >>> print(append_section("base", "one"))
    base
    <BLANKLINE>
    ---
    <BLANKLINE>
    one
    >>> append_section(append_section("base", "one"), "two", limit=15)[-3:]
    'two'
    """
    rule = "\n\n---\n\n"
    base, *sections = description.split(rule) if description else [""]
    sections.append(section)
    while sections:
        text = rule.join([base, *sections])
        if len(text) <= limit or len(sections) == 1:
            return text[:limit]
        sections.pop(0)
    return base[:limit]  # pragma: no cover - the loop always returns


def _versions(client: Any, name: str) -> tuple[Any, Any]:
    """The challenger's and the champion's model versions (champion or None)."""
    from mlflow.exceptions import MlflowException

    from anxin import tracking

    try:
        chal = client.get_model_version_by_alias(name, tracking.CHALLENGER)
    except MlflowException as exc:
        raise ModelNotFoundError(
            f"No '{tracking.CHALLENGER}' version of model {name!r}. Train one "
            "first: anxin train DATA_DIR.",
        ) from exc
    try:
        champ = client.get_model_version_by_alias(name, tracking.CHAMPION)
    except MlflowException:
        champ = None
    return chal, champ


def _score_alone(
    tables: Tables,
    name: str,
    version: str,
    eval_months: int,
    alert_volume: float,
    tracking_uri: str | None,
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The challenger's figures on the latest months (nothing to compare)."""
    model: ArrearsModel = load_model(
        f"models:/{name}/{version}", tracking_uri=tracking_uri
    )
    months = _latest_months(tables, model.spec.horizon, eval_months)
    feats = build_features(tables, as_of=months)
    labels = build_labels(tables, horizon=model.spec.horizon, as_of=months)
    keep = labels["label"].notna().to_numpy()
    feats, y = feats[keep].reset_index(drop=True), labels["label"][keep].to_numpy(int)
    period = feats["period"].to_numpy()
    m = evaluate(y, model.predict_proba(feats), period, volumes=(alert_volume,))
    return {"challenger": {"version": version, **m}}, months


def _decide(
    rows: dict[str, dict[str, Any]],
    key: str,
    tolerance: float,
    *,
    force: bool,
    same: bool,
) -> tuple[bool, str]:
    """The promotion rule: (promoted, reason)."""
    ch = rows["challenger"]
    if same:
        return False, "challenger is already the champion"
    if "champion" not in rows:
        return True, "no champion yet"
    cp = rows["champion"]
    ap_ok = ch["ap"] >= cp["ap"] - tolerance
    rec_ok = ch[key] >= cp[key] - tolerance
    if force:
        return True, "forced"
    if ap_ok and rec_ok:
        return True, (
            f"AP {ch['ap']:.4f} vs {cp['ap']:.4f} and {key} "
            f"{ch[key]:.4f} vs {cp[key]:.4f} within tolerance {tolerance}"
        )
    worse = [w for w, ok in (("AP", ap_ok), (key, rec_ok)) if not ok]
    return False, (
        f"challenger worse on {', '.join(worse)}: AP {ch['ap']:.4f} vs "
        f"{cp['ap']:.4f}, {key} {ch[key]:.4f} vs {cp[key]:.4f} "
        f"(tolerance {tolerance})"
    )


def _decision_tags(
    rows: dict[str, dict[str, Any]],
    key: str,
    promoted: bool,
    reason: str,
    now: str,
    months: list[str],
) -> dict[str, str]:
    """The version tags that record a decision and its figures."""
    ch = rows["challenger"]
    tags = {
        "promotion_decision": "promoted" if promoted else "refused",
        "promotion_reason": reason[:5000],
        "promotion_at": now,
        "promotion_months": ",".join(months),
        "promotion_challenger_ap": f"{ch['ap']:.6f}",
        f"promotion_challenger_{key}": f"{ch[key]:.6f}",
    }
    if "champion" in rows:
        cp = rows["champion"]
        tags.update(
            {
                "promotion_champion_version": str(cp["version"]),
                "promotion_champion_ap": f"{cp['ap']:.6f}",
                f"promotion_champion_{key}": f"{cp[key]:.6f}",
            }
        )
    return tags
