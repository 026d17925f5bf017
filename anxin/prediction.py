"""Predict: the calibrated risk and warning level other services ask for.

.. code-block:: python

    import anxin

    model = anxin.load_model("models:/anxin-arrears@champion")
    scores = anxin.predict(tables, as_of="2026-06", model=model)

:func:`predict` returns one row per active enterprise at ``as_of`` with its
calibrated risk, warning level and rank; :func:`anxin.explain` (in
:mod:`anxin.reasons`) adds the top reasons in Chinese and English.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anxin._params import resolve_n_jobs
from anxin.exceptions import ContractError, InvalidParameterError
from anxin.features import build_features
from anxin.levels import LevelPolicy
from anxin.model import ArrearsModel
from anxin.periods import parse_periods
from anxin.schemas import LEVELS
from anxin.tables import Tables

__all__ = [
    "PREDICT_COLUMNS",
    "as_policy",
    "feature_frame",
    "load_model",
    "predict",
    "rank_scores",
    "score_frame",
]

logger = logging.getLogger(__name__)

#: Largest magnitude a feature may hold: the model reads float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)

#: Columns of :func:`predict`'s result, in order.
PREDICT_COLUMNS = [
    "enterprise_id",
    "as_of",
    "risk_score",
    "risk_level",
    "rank",
    "model_name",
    "model_version",
    "industry",
    "region",
]


def load_model(
    uri: str | Path | ArrearsModel | None = None, *, tracking_uri: str | None = None
) -> ArrearsModel:
    """Load a model by URI.

    Parameters
    ----------
    uri : str, Path or ArrearsModel, optional
        ``models:/NAME@ALIAS`` (default ``models:/anxin-arrears@champion``),
        ``models:/NAME/VERSION``, ``runs:/RUN_ID/model``, or a local directory
        (a saved bundle or a downloaded MLflow model). A model passes through.
    tracking_uri : str, optional
        MLflow store to resolve registry URIs against.

    Raises
    ------
    ModelNotFoundError
        If the URI does not resolve.
    """
    if isinstance(uri, ArrearsModel):
        return uri
    from anxin import tracking

    resolved = tracking.resolve_model(
        None if uri is None else str(uri), tracking_uri=tracking_uri
    )
    model = ArrearsModel.load(
        resolved.path, name=resolved.name, version=resolved.version
    )
    if not model.name:
        model.name = "anxin-arrears"
        model.version = resolved.version or "local"
    logger.info("loaded %r from %s", model, resolved.uri)
    return model


def as_policy(
    policy: LevelPolicy | Mapping[str, Any] | str | Path | None,
) -> LevelPolicy | None:
    """A :class:`LevelPolicy` from a policy, its dict, or a JSON file (or None)."""
    if policy is None or isinstance(policy, LevelPolicy):
        return policy
    if isinstance(policy, Mapping):
        return LevelPolicy.from_dict(dict(policy))
    return LevelPolicy.from_file(policy)


def feature_frame(
    tables: Tables | pd.DataFrame,
    as_of: str | None,
    owner: str,
    model: ArrearsModel | None = None,
) -> tuple[pd.DataFrame, str | np.ndarray]:
    """The feature rows to score and the period of each (one month for
    tables).

    ``tables`` are validated contract tables (features are built for month
    ``as_of``, default the latest) or a feature frame. A frame is read with
    the names the model was trained with (its entity and period columns, the
    cadence of its periods); every row is scored, or only the rows of period
    ``as_of`` when it is given. Infinite numbers are missing values, as in
    training.
    """
    if isinstance(tables, Tables):
        month = as_of or tables.last_period()
        if month is None:
            raise ContractError(
                "payroll: no rows, so there is no month to score.", table="payroll"
            )
        return build_features(tables, as_of=month), month
    if not isinstance(tables, pd.DataFrame):
        raise InvalidParameterError(
            f"The 'tables' parameter of {owner} must be Tables (validated) or a "
            f"feature DataFrame. Got {type(tables).__name__} instead."
        )
    columns = _trained_columns(model)
    frame = _keyed(tables, columns, owner)
    if "period" not in frame.columns:
        if as_of is None and columns["freq"] is not None:
            raise InvalidParameterError(
                f"The 'as_of' parameter of {owner} is required for a feature frame "
                f"without a {columns['period']!r} column. Pass the period the rows "
                "describe, e.g. as_of='2026-06'."
            )
        frame = _finite(frame, model)
        return frame, as_of or ""
    periods = parse_periods(
        frame["period"], freq=columns["freq"], column=str(columns["period"])
    ).text()
    if as_of is not None:
        wanted = parse_periods([as_of], freq=columns["freq"], column="as_of").text()[0]
        keep = periods == wanted
        if not keep.any():
            raise ContractError(
                f"features: no rows of period {wanted!r} (as_of={as_of!r}); the "
                f"frame holds {periods.min()}..{periods.max()}. Pass one of its "
                "periods, or leave as_of out to score every row.",
                table="features",
                column=str(columns["period"]),
            )
        frame, periods = frame[keep], periods[keep]
    distinct = pd.unique(periods)
    logger.info(
        "%s: %d row(s) of %d period(s) (%s..%s)",
        owner,
        len(frame),
        len(distinct),
        min(distinct),
        max(distinct),
    )
    return _finite(frame.reset_index(drop=True), model), periods


def _trained_columns(model: ArrearsModel | None) -> dict[str, str | None]:
    """The entity and period columns and cadence the model was trained with."""
    info = dict(model.spec.info.get("columns") or {}) if model is not None else {}
    return {
        "entity": info.get("entity", "enterprise_id"),
        "period": info.get("period", "period"),
        "freq": info.get("freq", "M"),
    }


def _keyed(
    tables: pd.DataFrame, columns: dict[str, str | None], owner: str
) -> pd.DataFrame:
    """The frame with its entity as ``enterprise_id`` and period as ``period``."""
    entity, period = columns["entity"], columns["period"]
    renames = {}
    if entity is None:
        frame = tables.copy()
        frame["enterprise_id"] = np.arange(len(tables)).astype("str")
    elif entity in tables.columns:
        frame = tables
        renames[entity] = "enterprise_id"
    elif "enterprise_id" in tables.columns:
        frame = tables
    else:
        raise ContractError(
            f"features: column {entity!r} is missing. The model was trained "
            f"with entity={entity!r}: the frame needs that column (and "
            f"{period!r} for its periods, or an as_of argument).",
            table="features",
            column=entity,
        )
    if period is not None and period in tables.columns and period != "period":
        renames[period] = "period"
    return frame.rename(columns=renames) if renames else frame


def _finite(frame: pd.DataFrame, model: ArrearsModel | None) -> pd.DataFrame:
    """Infinite (and beyond-float32) values of numeric features as missing."""
    if model is None:
        return frame
    names = [f for f in model.spec.numeric if f in frame.columns]
    values = frame[names].to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = np.abs(values) > FLOAT32_MAX
    if not bad.any():
        return frame
    logger.info("%d infinite value(s) scored as missing", int(bad.sum()))
    frame = frame.copy()
    for j in np.flatnonzero(bad.any(axis=0)):
        frame[names[j]] = np.where(bad[:, j], np.nan, values[:, j])
    return frame


def rank_scores(scores: np.ndarray, ids: pd.Series | None = None) -> np.ndarray:
    """Rank 1 = highest risk; ties go to the lower enterprise code.

    Without ``ids`` ties keep the rows' order.

    Examples
    --------
    >>> rank_scores(np.array([0.2, 0.9, 0.2]), pd.Series(["b", "c", "a"])).tolist()
    [3, 1, 2]
    >>> rank_scores(np.array([0.2, 0.9, 0.2])).tolist()
    [2, 1, 3]
    """
    scores = np.asarray(scores)
    if ids is None or ids.is_monotonic_increasing:
        # frames from build_features are sorted by code: a stable sort will do
        order = np.argsort(-scores, kind="stable")
    else:
        order = np.lexsort((ids.astype("str").to_numpy(), -scores))
    rank = np.empty(len(scores), dtype=np.int64)
    rank[order] = np.arange(1, len(scores) + 1)
    return rank


def score_frame(
    model: ArrearsModel,
    feats: pd.DataFrame,
    as_of: str | np.ndarray,
    policy: LevelPolicy | None,
    n_jobs: int | None = None,
) -> tuple[pd.DataFrame, pd.Categorical[str]]:
    """:data:`PREDICT_COLUMNS` for feature rows, and their levels.

    ``as_of`` is the rows' month (or each row's period); ranks are within a
    period. The entity column takes the name the model was trained with.
    """
    score = model.predict_proba(feats, n_jobs=n_jobs)
    n = len(score)
    region = feats.get("region")
    active = policy or model.policy
    by_region = None
    if active.by == "region" and region is not None:
        by_region = region.astype("str").to_numpy(dtype=object)
    codes = active.codes(score, by_region)
    levels = pd.Categorical.from_codes(codes, pd.Index(list(LEVELS)))
    ids = feats["enterprise_id"].astype("str")

    def repeat(value: str) -> pd.Categorical[str]:
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), pd.Index([value]))

    if isinstance(as_of, str):
        periods, rank = repeat(as_of), rank_scores(score, ids)
    else:
        periods = pd.Categorical(np.asarray(as_of, dtype=object).astype(str))
        rank = np.empty(n, dtype=np.int64)
        for code in np.unique(periods.codes):
            rows = np.flatnonzero(periods.codes == code)
            rank[rows] = rank_scores(score[rows], ids.iloc[rows].reset_index(drop=True))
    entity = model.spec.info.get("columns", {}).get("entity") or "enterprise_id"
    out = pd.DataFrame(
        {
            "enterprise_id": ids.array,
            "as_of": periods,
            "risk_score": score,
            "risk_level": levels,
            "rank": rank,
            "model_name": repeat(model.name),
            "model_version": repeat(str(model.version)),
            # categoricals of text, as build_features returns them
            "industry": feats["industry"].array if "industry" in feats else None,
            "region": region.array if region is not None else None,
        }
    )
    if entity != "enterprise_id":
        out = out.rename(columns={"enterprise_id": entity})
    return out, levels


def predict(
    tables: Tables | pd.DataFrame,
    *,
    as_of: str | None = None,
    model: ArrearsModel | str | Path | None = None,
    policy: LevelPolicy | Mapping[str, Any] | str | Path | None = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Calibrated risk and warning level of every active enterprise at
    ``as_of``, or of every row of a feature frame.

    Parameters
    ----------
    tables : Tables or DataFrame
        Validated tables (features are built for ``as_of``), or a feature
        frame with the columns the model was trained with: its features and
        its entity and period columns, under the names given to
        :func:`anxin.train` (``enterprise_id`` and ``period`` by default).
    as_of : str, optional
        The period to score: for tables, month ``YYYY-MM`` (default the last
        month of the data); for a frame, only its rows of that period
        (default every row, each with its own period).
    model : ArrearsModel or str, optional
        A model or a URI for :func:`load_model` (default the champion).
    policy : LevelPolicy, dict or path, optional
        Override the model's warning-level policy (thresholds or quotas).
    n_jobs : int, optional
        Threads: ``None`` or ``-1`` all available cores, else that many.

    Returns
    -------
    DataFrame
        :data:`PREDICT_COLUMNS`, one row per enterprise (and period), ``rank``
        1 = highest within each period; the entity column under the model's
        entity name. The repeated labels (``as_of``, ``risk_level``,
        ``model_name``, ``model_version``) are pandas categoricals of text.
    """
    jobs = resolve_n_jobs(n_jobs, "predict")
    m = load_model(model)
    feats, month = feature_frame(tables, as_of, "predict", m)
    out, _ = score_frame(m, feats, month, as_policy(policy), jobs)
    return out
