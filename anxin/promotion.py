"""Promotion: move ``champion`` only when the challenger is at least as good.

Both models score the same latest out-of-time months (the last labelled
months of the data). The challenger becomes champion when its average
precision and its recall at the alert volume are each no worse than the
champion's minus a tolerance, or when forced. The decision and the figures
are recorded as tags on the model versions, so the registry keeps the why.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pandas as pd

from anxin._params import check_param
from anxin.config import get_config
from anxin.exceptions import ModelNotFoundError
from anxin.features import build_features
from anxin.labels import build_labels
from anxin.metrics import evaluate
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
    """

    promoted: bool
    reason: str
    comparison: pd.DataFrame
    challenger_version: str
    champion_version: str | None
    months: list[str]


def _volume_key(volume: float) -> str:
    return f"recall_at_{round(volume * 100)}pct"


def promote(
    tables: Tables,
    *,
    model_name: str | None = None,
    force: bool = False,
    alert_volume: float = 0.05,
    tolerance: float = 0.01,
    eval_months: int = 3,
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
    tracking_uri : str, optional

    Returns
    -------
    PromotionDecision
    """
    from anxin import tracking

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
    name = model_name or get_config().model_name
    c = tracking.client(tracking_uri)
    chal, champ = _versions(c, name)
    models = {"challenger": str(chal.version)}
    if champ is not None:
        models["champion"] = str(champ.version)
    rows, months = _score_versions(
        tables, name, models, eval_months, alert_volume, tracking_uri
    )
    comparison = pd.DataFrame(rows).T
    key = _volume_key(alert_volume)
    same = champ is not None and str(champ.version) == str(chal.version)
    promoted, reason = _decide(rows, key, tolerance, force=force, same=same)
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
        for k, v in tags.items():
            c.set_model_version_tag(name, str(chal.version), k, v)
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
    return PromotionDecision(
        promoted=promoted,
        reason=reason,
        comparison=comparison,
        challenger_version=str(chal.version),
        champion_version=None if champ is None else str(champ.version),
        months=months,
    )


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


def _score_versions(
    tables: Tables,
    name: str,
    versions: dict[str, str],
    eval_months: int,
    alert_volume: float,
    tracking_uri: str | None,
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Metrics of each version (role -> version) on the same latest months."""
    models = {
        role: load_model(f"models:/{name}/{v}", tracking_uri=tracking_uri)
        for role, v in versions.items()
    }
    horizon = models["challenger"].spec.horizon
    labels_all = build_labels(tables, horizon=horizon)
    labelled = sorted(labels_all.dropna(subset=["label"])["period"].unique())
    months = [str(m) for m in labelled[-eval_months:]]
    feats = build_features(tables, as_of=months)
    labels = build_labels(tables, horizon=horizon, as_of=months)
    keep = labels["label"].notna().to_numpy()
    feats, y = feats[keep].reset_index(drop=True), labels["label"][keep].to_numpy(int)
    period = feats["period"].to_numpy()
    rows: dict[str, dict[str, Any]] = {}
    for role, model in models.items():
        m = evaluate(y, model.predict_proba(feats), period, volumes=(alert_volume,))
        rows[role] = {"version": versions[role], **m}
    return rows, months


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
    if "champion" not in rows:
        return True, "no champion yet"
    if same:
        return False, "challenger is already the champion"
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
