"""Reasons for a warning, in Chinese and English, from exact TreeSHAP.

LightGBM's ``pred_contrib`` gives each feature's exact contribution to an
enterprise's raw margin (contributions + base value = margin). Contributions
are summed by reason group (social insurance, wages, tax, ...); the top-k
groups that raise the risk become the reasons, each told by the sentence
template of the group's strongest feature.
"""

from __future__ import annotations

import json
import string
from typing import Any, Literal

import numpy as np
import pandas as pd

from anxin._catalogue import GROUPS, render_reason
from anxin.exceptions import check_param
from anxin.model import ArrearsModel

__all__ = ["EXPLAIN_MODES", "reasons_from_contributions", "serve_frame"]

EXPLAIN_MODES = ("alerts", "all", "none")
Explain = Literal["alerts", "all", "none"]


def _fields(template: str) -> set[str]:
    return {
        name
        for _, name, _, _ in string.Formatter().parse(template)
        if name and name not in ("value", "pct", "dir_zh", "dir_en")
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(float(value), 6) if np.isfinite(value) else None
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def reasons_from_contributions(
    model: ArrearsModel,
    frame: pd.DataFrame,
    contrib: np.ndarray,
    *,
    top_k: int = 3,
) -> list[list[dict[str, Any]]]:
    """Top-k risk-raising reason groups of each row.

    Parameters
    ----------
    model : ArrearsModel
    frame : DataFrame
        The rows' feature values (for the sentences).
    contrib : ndarray of shape (n, n_features + 1)
        :meth:`ArrearsModel.contributions` for the same rows.
    top_k : int
        Reasons per row; only groups with a positive contribution count.

    Returns
    -------
    list of list of dict
        Per row: ``group``, ``group_zh``, ``group_en``, ``contribution``
        (log-odds), ``feature``, ``value`` (number, or None for a category or
        a missing value), ``value_text``, ``text_zh``, ``text_en``.
    """
    spec = model.spec
    features = spec.features
    groups = spec.groups()
    n, n_feat = contrib.shape[0], len(features)
    member = np.zeros((n_feat, len(groups)))
    gidx = {g: i for i, g in enumerate(groups)}
    feat_group = np.array([gidx[spec.catalogue[f].group] for f in features])
    member[np.arange(n_feat), feat_group] = 1.0
    feat_contrib = contrib[:, :n_feat]
    by_group = feat_contrib @ member
    k = min(top_k, len(groups))
    top = np.argsort(-by_group, axis=1, kind="stable")[:, :k]
    # strongest feature of each group: mask other groups with -inf
    best = np.empty((n, len(groups)), dtype=np.int64)
    for g in range(len(groups)):
        cols = np.flatnonzero(feat_group == g)
        best[:, g] = cols[np.argmax(feat_contrib[:, cols], axis=1)]
    columns = {f: frame[f].to_numpy() for f in features}
    out: list[list[dict[str, Any]]] = []
    for i in range(n):
        row_reasons = []
        for g in top[i]:
            value_g = float(by_group[i, g])
            if value_g <= 0:
                break
            f = features[best[i, g]]
            spec_f = spec.catalogue[f]
            value = _json_value(columns[f][i])
            extra = {
                name: columns[name][i]
                for name in _fields(spec_f.reason_zh) | _fields(spec_f.reason_en)
                if name in columns
            }
            zh, en = render_reason(spec_f, value, extra)
            label = GROUPS.get(groups[g], (groups[g], groups[g]))
            row_reasons.append(
                {
                    "group": groups[g],
                    "group_zh": label[0],
                    "group_en": label[1],
                    "contribution": round(value_g, 6),
                    "feature": f,
                    "value": _number(value),
                    "value_text": _text(value),
                    "text_zh": zh,
                    "text_en": en,
                }
            )
        out.append(row_reasons)
    return out


def explain_mask(levels: np.ndarray, explain: str) -> np.ndarray:
    """Which rows to explain: ``alerts`` (yellow and above), ``all`` or ``none``."""
    check_param(
        "explain",
        explain,
        "explain",
        f"one of {list(EXPLAIN_MODES)}",
        explain in EXPLAIN_MODES,
    )
    if explain == "all":
        return np.ones(levels.shape, dtype=bool)
    if explain == "none":
        return np.zeros(levels.shape, dtype=bool)
    return levels != "none"


def attach_reasons(
    model: ArrearsModel,
    feats: pd.DataFrame,
    out: pd.DataFrame,
    levels: np.ndarray,
    mode: str,
    top_k: int,
    chunk_size: int = 50_000,
    n_jobs: int = 0,
) -> pd.DataFrame:
    """``out`` plus ``reasons``, ``reasons_zh`` and ``reasons_en``.

    Only the rows ``mode`` selects are explained, ``chunk_size`` at a time, so
    the TreeSHAP matrix never holds more than one chunk.
    """
    mask = explain_mask(levels, mode)
    reasons: list[list[dict[str, Any]]] = [[] for _ in range(len(out))]
    rows = np.flatnonzero(mask)
    for start in range(0, rows.size, chunk_size):
        part = rows[start : start + chunk_size]
        sub = feats.iloc[part].reset_index(drop=True)
        contrib = model.contributions(sub, chunk_size=chunk_size, n_jobs=n_jobs)
        found = reasons_from_contributions(model, sub, contrib, top_k=top_k)
        for i, r in zip(part, found, strict=True):
            reasons[i] = r
    out = out.copy()
    out["reasons"] = pd.Series(reasons, index=out.index, dtype=object)
    out["reasons_zh"] = ["；".join(x["text_zh"] for x in r) for r in reasons]
    out["reasons_en"] = ["; ".join(x["text_en"] for x in r) for r in reasons]
    return out


def serve_frame(
    model: ArrearsModel,
    frame: pd.DataFrame,
    *,
    top_k: int = 3,
    explain: str = "alerts",
) -> pd.DataFrame:
    """Score, level, rank and reasons for a feature frame (the pyfunc's answer).

    ``reasons`` is a JSON string (a list) so it travels through any
    transport; ``reasons_zh`` / ``reasons_en`` join the sentences.
    """
    frame = frame.reset_index(drop=True)
    score = model.predict_proba(frame)
    region = frame["region"].astype("str").to_numpy() if "region" in frame else None
    levels = model.levels(score, region)
    out = pd.DataFrame(index=frame.index)
    for passthrough in ("enterprise_id", "as_of", "period"):
        if passthrough in frame:
            out[passthrough] = frame[passthrough].astype("str")
    out["risk_score"] = score
    out["risk_level"] = levels.astype(str)
    out["rank"] = (
        pd.Series(score)
        .rank(ascending=False, method="first")
        .astype("int64")
        .to_numpy()
    )
    out = attach_reasons(model, frame, out, levels, explain, top_k)
    out["reasons"] = [json.dumps(r, ensure_ascii=False) for r in out["reasons"]]
    return out
