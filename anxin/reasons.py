"""Explain: the reasons for a warning, in Chinese and English, from exact TreeSHAP.

.. code-block:: python

    import anxin

    model = anxin.load_model("models:/anxin-arrears@champion")
    alerts = anxin.explain(tables, as_of="2026-06", model=model)

:func:`explain` is :func:`anxin.predict` plus the top reasons of each
enterprise at yellow or above (or of every enterprise, or none).

LightGBM's ``pred_contrib`` gives each feature's exact contribution to an
enterprise's raw margin (contributions + base value = margin). Contributions
are summed by reason group (social insurance, wages, tax, ...); the top-k
groups that raise the risk become the reasons, each told by the sentence
template of the group's strongest feature.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from anxin import _gc
from anxin._params import check_param, resolve_n_jobs
from anxin.catalogue import GROUPS, Feature, render_reason
from anxin.exceptions import ContractError
from anxin.levels import LevelPolicy
from anxin.model import ArrearsModel
from anxin.prediction import (
    as_policy,
    feature_frame,
    load_model,
    rank_scores,
    score_frame,
)
from anxin.tables import Tables

__all__ = [
    "EXPLAIN_MODES",
    "attach_reasons",
    "check_explain",
    "check_serve_params",
    "explain",
    "explain_mask",
    "serve_frame",
]

EXPLAIN_MODES = ("alerts", "all", "none")
Explain = Literal["alerts", "all", "none"]


@functools.cache
def _fields(template: str) -> frozenset[str]:
    return frozenset(
        name
        for _, name, _, _ in string.Formatter().parse(template)
        if name and name not in ("value", "pct", "dir_zh", "dir_en")
    )


#: Template fields whose text is fixed by the rounded value (see _display_key).
_STANDARD = frozenset(
    {("value", ".0f"), ("value", ",.0f"), ("pct", ""), ("dir_zh", ""), ("dir_en", "")}
)


@functools.cache
def _standard_fields(feature: Feature) -> bool:
    """Whether the feature's sentences depend only on ``_display_key``."""
    for template in (feature.reason_zh, feature.reason_en):
        for _, name, spec, _ in string.Formatter().parse(template):
            if name is None:
                continue
            if (name, spec or "") not in _STANDARD and spec != ".0%":
                return False
    return True


@dataclasses.dataclass
class _TopGroups:
    """The top-k reason groups of each row and each group's strongest feature."""

    groups: list[str]
    top: np.ndarray  # (n, k) group index
    value: np.ndarray  # (n, k) summed contribution of the group
    feature: np.ndarray  # (n, k) feature index of the strongest member


def _top_groups(
    model: ArrearsModel, frame: pd.DataFrame, contrib: np.ndarray, top_k: int
) -> _TopGroups:
    """The top-k groups of each row, each told by its strongest member.

    A member whose value is an event that has not happened (a ``never``
    missing value, e.g. no earlier arrears case) tells its group only when no
    other member raises the risk more: an absence is not a reason when a
    present signal is there to name.
    """
    spec = model.spec
    features = spec.features
    groups = spec.groups()
    n, n_feat = contrib.shape[0], len(features)
    gidx = {g: i for i, g in enumerate(groups)}
    feat_group = np.array([gidx[spec.catalogue[f].group] for f in features])
    member = np.zeros((n_feat, len(groups)))
    member[np.arange(n_feat), feat_group] = 1.0
    feat_contrib = contrib[:, :n_feat]
    by_group = feat_contrib @ member
    k = min(top_k, len(groups))
    top = np.argsort(-by_group, axis=1, kind="stable")[:, :k]
    pick = feat_contrib
    never = [
        i
        for i, f in enumerate(features)
        if spec.catalogue[f].missing == "never" and f in frame.columns
    ]
    if never:
        absent = frame[[features[i] for i in never]].isna().to_numpy()
        pick = feat_contrib.copy()
        pick[:, never] = np.where(absent, -np.inf, pick[:, never])
    best = np.empty((n, len(groups)), dtype=np.int64)
    for g in range(len(groups)):
        cols = np.flatnonzero(feat_group == g)
        chosen = np.argmax(pick[:, cols], axis=1)
        only_absent = np.isneginf(pick[:, cols].max(axis=1))
        chosen[only_absent] = np.argmax(feat_contrib[only_absent][:, cols], axis=1)
        best[:, g] = cols[chosen]
    return _TopGroups(
        groups=groups,
        top=top,
        value=np.take_along_axis(by_group, top, axis=1),
        feature=np.take_along_axis(best, top, axis=1),
    )


@dataclasses.dataclass
class _Cells:
    """Per (row, reason) values as Python lists, prepared with numpy."""

    number: list[list[float]]
    text: list[list[str]]
    rounded: list[list[float]]
    pct: list[list[float]]
    sign: list[list[bool]]
    finite: list[list[bool]]
    categories: dict[int, list[Any]]  # feature index -> row values (categoricals)
    companions: dict[int, list[str]]  # feature index -> other columns it quotes
    extra: dict[str, list[float]]  # companion column -> row values
    cacheable: dict[int, bool]  # sentences depend only on the rounded values


def _cells(model: ArrearsModel, frame: pd.DataFrame, top: _TopGroups) -> _Cells:
    spec = model.spec
    features = spec.features
    n = len(frame)
    used = [int(f) for f in np.unique(top.feature)]
    numeric = [f for f in used if features[f] not in spec.categorical]
    col_of = np.zeros(len(features), dtype=np.int64)
    col_of[numeric] = np.arange(len(numeric))
    matrix = (
        frame[[features[f] for f in numeric]].to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        if numeric
        else np.full((n, 1), np.nan)
    )
    cell = matrix[np.arange(n)[:, None], col_of[top.feature]]  # (n, k)
    cell[np.isin(top.feature, [f for f in used if f not in numeric])] = np.nan
    finite = np.isfinite(cell)
    companions = {
        f: sorted(
            (
                _fields(spec.catalogue[features[f]].reason_zh)
                | _fields(spec.catalogue[features[f]].reason_en)
                | {spec.catalogue[features[f]].context} - {""}
            )
            & set(frame.columns)
        )
        for f in used
    }
    return _Cells(
        number=np.where(finite, np.round(cell, 6), np.nan).tolist(),
        text=np.where(finite, np.char.mod("%.6g", cell), "").tolist(),
        rounded=np.where(finite, np.round(cell), 0).tolist(),
        pct=np.where(finite, np.round(np.abs(cell) * 100), 0).tolist(),
        sign=(cell >= 0).tolist(),
        finite=finite.tolist(),
        categories={
            f: frame[features[f]]
            .astype("object")
            .where(frame[features[f]].notna(), None)
            .tolist()
            for f in used
            if f not in numeric
        },
        companions=companions,
        extra={
            name: frame[name].to_numpy(dtype=np.float64, na_value=np.nan).tolist()
            for name in {c for cs in companions.values() for c in cs}
        },
        # a sentence depends only on the displayed (rounded) numbers, which
        # repeat a lot (counts of months, whole percentages): render each once
        cacheable={
            f: f in numeric and _standard_fields(spec.catalogue[features[f]])
            for f in used
        },
    )


def _reasons(
    model: ArrearsModel, frame: pd.DataFrame, contrib: np.ndarray, top_k: int
) -> list[list[dict[str, Any]]]:
    """Top-k risk-raising reason groups of each row of ``frame``.

    ``contrib`` is :meth:`ArrearsModel.contributions` for the same rows. Per
    row: a list of dicts with ``group``, ``group_zh``, ``group_en``,
    ``contribution`` (log-odds), ``feature``, ``value`` (number, or None for a
    category or a missing value), ``value_text``, ``text_zh``, ``text_en``;
    only groups with a positive contribution count.

    Everything per cell (row x reason) is prepared with numpy; the loop only
    looks sentences up (or renders them once) and builds dicts.
    """
    spec = model.spec
    features = spec.features
    top = _top_groups(model, frame, contrib, top_k)
    c = _cells(model, frame, top)
    labels = [GROUPS.get(g, (g, g)) for g in top.groups]
    sentences: dict[tuple[Any, ...], tuple[str, str]] = {}
    contribution = np.round(top.value, 6).tolist()
    positive = (top.value > 0).tolist()
    top_l, feat_l = top.top.tolist(), top.feature.tolist()
    no_extra: dict[str, Any] = {}
    # locals, not attribute lookups, in the loop over every explained row
    companions, categories, extra_cols = c.companions, c.categories, c.extra
    number_l, text_l, finite_l = c.number, c.text, c.finite
    round_l, pct_l, sign_l, cacheable = c.rounded, c.pct, c.sign, c.cacheable
    out: list[list[dict[str, Any]]] = []
    for i in range(len(frame)):
        row_reasons = []
        for j in range(top.top.shape[1]):
            if not positive[i][j]:
                break
            g, f = top_l[i][j], feat_l[i][j]
            name = features[f]
            extra = (
                {col: extra_cols[col][i] for col in companions[f]}
                if companions[f]
                else no_extra
            )
            if f in categories:
                value: Any = categories[f][i]
                number, text = None, "" if value is None else str(value)
            else:
                value = number_l[i][j]
                number = value if finite_l[i][j] else None
                text = text_l[i][j]
            key: tuple[Any, ...] | None = None
            if cacheable[f]:
                # companions are shown as whole percentages (".0%") with a sign
                shown = tuple(
                    (round(v * 100), v >= 0) if v == v else None for v in extra.values()
                )
                key = (
                    (f, round_l[i][j], pct_l[i][j], sign_l[i][j], shown)
                    if finite_l[i][j]
                    else (f, None, shown)
                )
            texts = sentences.get(key) if key is not None else None
            if texts is None:
                texts = render_reason(spec.catalogue[name], value, extra)
                if key is not None:
                    sentences[key] = texts
            row_reasons.append(
                {
                    "group": top.groups[g],
                    "group_zh": labels[g][0],
                    "group_en": labels[g][1],
                    "contribution": contribution[i][j],
                    "feature": name,
                    "value": number,
                    "value_text": text,
                    "text_zh": texts[0],
                    "text_en": texts[1],
                }
            )
        out.append(row_reasons)
    return out


def check_explain(explain: str) -> None:
    """Raise a clear ``ValueError`` unless ``explain`` is one of EXPLAIN_MODES."""
    check_param(
        "explain",
        explain,
        "explain",
        f"one of {list(EXPLAIN_MODES)}",
        explain in EXPLAIN_MODES,
    )


def explain_mask(levels: np.ndarray | pd.Categorical[Any], explain: str) -> np.ndarray:
    """Which rows to explain: ``alerts`` (yellow and above), ``all`` or ``none``."""
    check_explain(explain)
    if explain == "all":
        return np.ones(levels.shape, dtype=bool)
    if explain == "none":
        return np.zeros(levels.shape, dtype=bool)
    return np.asarray(levels != "none", dtype=bool)


def attach_reasons(
    model: ArrearsModel,
    feats: pd.DataFrame,
    out: pd.DataFrame,
    levels: np.ndarray | pd.Categorical[Any],
    mode: str,
    top_k: int,
    chunk_size: int = 50_000,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """``out`` plus ``reasons``, ``reasons_zh`` and ``reasons_en``.

    Only the rows ``mode`` selects are explained, ``chunk_size`` at a time, so
    the TreeSHAP matrix never holds more than one chunk.
    """
    mask = explain_mask(levels, mode)
    n = len(out)
    rows = np.flatnonzero(mask)
    with _gc.paused():
        reasons: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        text_zh = np.full(n, "", dtype=object)
        text_en = np.full(n, "", dtype=object)
        for start in range(0, rows.size, chunk_size):
            part = rows[start : start + chunk_size]
            sub = feats.iloc[part].reset_index(drop=True)
            contrib = model.contributions(sub, chunk_size=chunk_size, n_jobs=n_jobs)
            found = _reasons(model, sub, contrib, top_k)
            for i, r in zip(part.tolist(), found, strict=True):
                reasons[i] = r
            text_zh[part] = ["；".join(x["text_zh"] for x in r) for r in found]
            text_en[part] = ["; ".join(x["text_en"] for x in r) for r in found]
    out = out.copy()
    out["reasons"] = pd.Series(reasons, index=out.index, dtype=object)
    out["reasons_zh"] = pd.Series(text_zh, index=out.index, dtype="str")
    out["reasons_en"] = pd.Series(text_en, index=out.index, dtype="str")
    return out


#: Who the messages about a request's params name.
SERVED = "the served model"
#: Largest value a feature may hold: the model reads float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_serve_params(params: Mapping[str, Any] | None) -> tuple[str, int]:
    """``(explain, top_k)`` from a request's ``params``, checked.

    Examples
    --------
    >>> check_serve_params({"top_k": 1})
    ('alerts', 1)
    >>> check_serve_params({"top_k": -1})
    Traceback (most recent call last):
    ...
    anxin.exceptions.InvalidParameterError: The 'top_k' parameter of the served model must be an int in [1, 11]. Got -1 instead.
    """  # noqa: E501
    check_param(
        "params",
        params,
        SERVED,
        "an object with 'explain' and/or 'top_k'",
        params is None or isinstance(params, Mapping),
    )
    params = params or {}
    unknown = sorted(str(k) for k in params if k not in ("explain", "top_k"))
    check_param(
        "params",
        unknown,
        SERVED,
        "among 'explain' and 'top_k' (unknown names)",
        not unknown,
    )
    explain, top_k = params.get("explain", "alerts"), params.get("top_k", 3)
    check_param(
        "explain",
        explain,
        SERVED,
        f"one of {list(EXPLAIN_MODES)}",
        explain in EXPLAIN_MODES,
    )
    is_int = isinstance(top_k, int | np.integer) and not isinstance(top_k, bool)
    check_param(
        "top_k",
        top_k,
        SERVED,
        f"an int in [1, {len(GROUPS)}]",
        is_int and 1 <= top_k <= len(GROUPS),
    )
    return str(explain), int(top_k)


def _check_rows(model: ArrearsModel, frame: pd.DataFrame) -> None:
    """A request needs rows, and numbers the model can read (no inf)."""
    if len(frame) == 0:
        raise ContractError(
            "The request holds no rows: send one row of features per enterprise.",
            table="request",
        )
    numeric = [f for f in model.spec.numeric if f in frame.columns]
    try:
        values = frame[numeric].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        return  # text in a number column: the model's own conversion says so
    with np.errstate(invalid="ignore"):
        bad = np.abs(values) > FLOAT32_MAX  # inf, -inf and 1e400 (NaN is missing)
    if not bad.any():
        return
    columns = [numeric[j] for j in np.flatnonzero(bad.any(axis=0))]
    row = int(np.flatnonzero(bad[:, numeric.index(columns[0])])[0])
    value = values[row, numeric.index(columns[0])]
    raise ContractError(
        f"Feature {columns[0]!r} is infinite or too large for the model in "
        f"{int(bad.any(axis=1).sum())} row(s) (row {row}: {value:g})"
        + (f"; so are {columns[1:6]}" if len(columns) > 1 else "")
        + ". Send null (or leave the cell empty) for an unknown value.",
        table="request",
        column=columns[0],
    )


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

    Raises
    ------
    InvalidParameterError
        If ``top_k`` or ``explain`` is out of range (see
        :func:`check_serve_params`).
    ContractError
        If the frame has no rows, lacks a feature, or holds an infinite value
        (or one beyond float32) in a numeric feature; NaN is a missing value.
    """
    explain, top_k = check_serve_params({"explain": explain, "top_k": top_k})
    _check_rows(model, frame)
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
    out["rank"] = rank_scores(score, out.get("enterprise_id"))
    out = attach_reasons(model, frame, out, levels, explain, top_k)
    out["reasons"] = [json.dumps(r, ensure_ascii=False) for r in out["reasons"]]
    return out


def explain(
    tables: Tables | pd.DataFrame,
    *,
    as_of: str | None = None,
    model: ArrearsModel | str | Path | None = None,
    explain: str = "alerts",
    top_k: int = 3,
    policy: LevelPolicy | Mapping[str, Any] | str | Path | None = None,
    chunk_size: int = 50_000,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """:func:`anxin.predict` plus the reasons behind each warning.

    Parameters
    ----------
    tables : Tables or DataFrame
        Validated tables (features are built for ``as_of``) or a feature frame
        from :func:`anxin.build_features`.
    as_of : str, optional
        Month ``YYYY-MM``; default the last month of the data.
    model : ArrearsModel or str, optional
        A model or a URI for :func:`anxin.load_model` (default the champion).
    explain : {"alerts", "all", "none"}, default "alerts"
        Explain enterprises at yellow or above, every enterprise, or none.
    top_k : int, default 3
        Reason groups per enterprise (only those raising the risk).
    policy : LevelPolicy, dict or path, optional
        Override the model's warning-level policy (thresholds or quotas).
    chunk_size : int, default 50000
        Rows per TreeSHAP call; bounds memory.
    n_jobs : int, optional
        Threads: ``None`` or ``-1`` all available cores, else that many.

    Returns
    -------
    DataFrame
        The predict columns plus ``reasons`` (list of dicts: ``group``,
        ``group_zh``, ``group_en``, ``contribution``, ``feature``, ``value``,
        ``text_zh``, ``text_en``), ``reasons_zh`` and ``reasons_en`` (the
        sentences joined).
    """
    check_explain(explain)
    check_param(
        "top_k",
        top_k,
        "explain",
        "an int in [1, 11]",
        isinstance(top_k, int) and 1 <= top_k <= 11,
    )
    jobs = resolve_n_jobs(n_jobs, "explain")
    m = load_model(model)
    feats, month = feature_frame(tables, as_of, "explain", m)
    out, levels = score_frame(m, feats, month, as_policy(policy), jobs)
    return attach_reasons(m, feats, out, levels, explain, top_k, chunk_size, jobs)
