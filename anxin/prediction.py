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
    tables: Tables | pd.DataFrame, as_of: str | None, owner: str
) -> tuple[pd.DataFrame, str]:
    """The feature rows of month ``as_of`` (default: the latest) and the month.

    ``tables`` are validated contract tables (features are built) or a feature
    frame from :func:`anxin.build_features` (filtered to ``as_of`` when it has
    a ``period`` column).
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
    if "enterprise_id" not in tables.columns:
        raise ContractError(
            "features: column 'enterprise_id' is missing. A feature frame needs "
            "enterprise_id (and period or an as_of argument).",
            table="features",
            column="enterprise_id",
        )
    frame = tables
    if "period" in frame.columns:
        months = frame["period"].astype("str")
        if as_of is None:
            as_of = str(months.max())
        frame = frame[months == as_of]
    elif as_of is None:
        raise InvalidParameterError(
            f"The 'as_of' parameter of {owner} is required for a feature frame "
            "without a 'period' column. Pass as_of='YYYY-MM'."
        )
    return frame.reset_index(drop=True), as_of


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
    as_of: str,
    policy: LevelPolicy | None,
    n_jobs: int | None = None,
) -> tuple[pd.DataFrame, pd.Categorical[str]]:
    """:data:`PREDICT_COLUMNS` for a month's feature rows, and their levels."""
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

    out = pd.DataFrame(
        {
            "enterprise_id": ids.array,
            "as_of": repeat(as_of),
            "risk_score": score,
            "risk_level": levels,
            "rank": rank_scores(score, ids),
            "model_name": repeat(model.name),
            "model_version": repeat(str(model.version)),
            # categoricals of text, as build_features returns them
            "industry": feats["industry"].array if "industry" in feats else None,
            "region": region.array if region is not None else None,
        }
    )
    return out, levels


def predict(
    tables: Tables | pd.DataFrame,
    *,
    as_of: str | None = None,
    model: ArrearsModel | str | Path | None = None,
    policy: LevelPolicy | Mapping[str, Any] | str | Path | None = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Calibrated risk and warning level of every active enterprise at ``as_of``.

    Parameters
    ----------
    tables : Tables or DataFrame
        Validated tables (features are built for ``as_of``) or a feature frame
        from :func:`anxin.build_features`.
    as_of : str, optional
        Month ``YYYY-MM``; default the last month of the data.
    model : ArrearsModel or str, optional
        A model or a URI for :func:`load_model` (default the champion).
    policy : LevelPolicy, dict or path, optional
        Override the model's warning-level policy (thresholds or quotas).
    n_jobs : int, optional
        Threads: ``None`` or ``-1`` all available cores, else that many.

    Returns
    -------
    DataFrame
        :data:`PREDICT_COLUMNS`, one row per enterprise, ``rank`` 1 = highest.
        The repeated labels (``as_of``, ``risk_level``, ``model_name``,
        ``model_version``) are pandas categoricals of text.
    """
    jobs = resolve_n_jobs(n_jobs, "predict")
    m = load_model(model)
    feats, month = feature_frame(tables, as_of, "predict")
    out, _ = score_frame(m, feats, month, as_policy(policy), jobs)
    return out
