"""Predict and explain: the calls other services make.

.. code-block:: python

    import anxin

    model = anxin.load_model("models:/anxin-arrears@champion")
    warnings = anxin.explain(tables, as_of="2026-06", model=model)

:func:`predict` returns one row per active enterprise at ``as_of`` with its
calibrated risk, warning level and rank; :func:`explain` adds the top reasons
(Chinese and English) for the enterprises at yellow or above.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anxin._params import check_param
from anxin.exceptions import ContractError, InvalidParameterError
from anxin.features import build_features
from anxin.levels import LevelPolicy
from anxin.model import ArrearsModel
from anxin.reasons import attach_reasons, check_explain
from anxin.schemas import LEVELS
from anxin.tables import Tables

__all__ = ["PREDICT_COLUMNS", "explain", "load_model", "predict"]

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


def _policy(
    policy: LevelPolicy | Mapping[str, Any] | str | Path | None,
) -> LevelPolicy | None:
    if policy is None or isinstance(policy, LevelPolicy):
        return policy
    if isinstance(policy, Mapping):
        return LevelPolicy.from_dict(dict(policy))
    return LevelPolicy.from_file(policy)


def _features(
    data: Tables | pd.DataFrame, as_of: str | None
) -> tuple[pd.DataFrame, str]:
    if isinstance(data, Tables):
        if as_of is None:
            as_of = str(data.payroll["period"].astype("str").max())
        return build_features(data, as_of=as_of), as_of
    if not isinstance(data, pd.DataFrame):
        raise InvalidParameterError(
            "The 'data' parameter of predict must be Tables (validated) or a "
            f"feature DataFrame. Got {type(data).__name__} instead."
        )
    if "enterprise_id" not in data.columns:
        raise ContractError(
            "features: column 'enterprise_id' is missing. A feature frame needs "
            "enterprise_id (and period or an as_of argument).",
            table="features",
            column="enterprise_id",
        )
    frame = data
    if "period" in frame.columns:
        months = frame["period"].astype("str")
        if as_of is None:
            as_of = str(months.max())
        frame = frame[months == as_of]
    elif as_of is None:
        raise InvalidParameterError(
            "The 'as_of' parameter of predict is required for a feature frame "
            "without a 'period' column. Pass as_of='YYYY-MM'."
        )
    return frame.reset_index(drop=True), as_of


def _score_frame(
    model: ArrearsModel,
    feats: pd.DataFrame,
    as_of: str,
    policy: LevelPolicy | None,
    n_jobs: int = 0,
) -> tuple[pd.DataFrame, pd.Categorical[str]]:
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
    # rank 1 = highest risk; ties go to the lower enterprise code (frames from
    # build_features are sorted by code, so a stable sort is enough)
    if ids.is_monotonic_increasing:
        order = np.argsort(-score, kind="stable")
    else:
        order = np.lexsort((ids.to_numpy(), -score))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)

    def repeat(value: str) -> pd.Categorical[str]:
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), pd.Index([value]))

    out = pd.DataFrame(
        {
            "enterprise_id": ids.array,
            "as_of": repeat(as_of),
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
    return out, levels


def predict(
    data: Tables | pd.DataFrame,
    as_of: str | None = None,
    model: ArrearsModel | str | Path | None = None,
    *,
    policy: LevelPolicy | Mapping[str, Any] | str | Path | None = None,
    n_jobs: int = 0,
) -> pd.DataFrame:
    """Calibrated risk and warning level of every active enterprise at ``as_of``.

    Parameters
    ----------
    data : Tables or DataFrame
        Validated tables (features are built for ``as_of``) or a feature frame
        from :func:`anxin.build_features`.
    as_of : str, optional
        Month ``YYYY-MM``; default the last month of the data.
    model : ArrearsModel or str, optional
        A model or a URI for :func:`load_model` (default the champion).
    policy : LevelPolicy, dict or path, optional
        Override the model's warning-level policy (thresholds or quotas).
    n_jobs : int, default 0
        LightGBM threads (0 = all).

    Returns
    -------
    DataFrame
        :data:`PREDICT_COLUMNS`, one row per enterprise, ``rank`` 1 = highest.
        The repeated labels (``as_of``, ``risk_level``, ``model_name``,
        ``model_version``) are pandas categoricals of text.
    """
    m = load_model(model)
    feats, month = _features(data, as_of)
    out, _ = _score_frame(m, feats, month, _policy(policy), n_jobs)
    return out


def explain(
    data: Tables | pd.DataFrame,
    as_of: str | None = None,
    model: ArrearsModel | str | Path | None = None,
    *,
    explain: str = "alerts",
    top_k: int = 3,
    policy: LevelPolicy | Mapping[str, Any] | str | Path | None = None,
    chunk_size: int = 50_000,
    n_jobs: int = 0,
) -> pd.DataFrame:
    """:func:`predict` plus the reasons behind each warning.

    Parameters
    ----------
    explain : {"alerts", "all", "none"}, default "alerts"
        Explain enterprises at yellow or above, every enterprise, or none.
    top_k : int, default 3
        Reason groups per enterprise (only those raising the risk).
    chunk_size : int, default 50000
        Rows per TreeSHAP call; bounds memory.

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
    m = load_model(model)
    feats, month = _features(data, as_of)
    out, levels = _score_frame(m, feats, month, _policy(policy), n_jobs)
    return attach_reasons(m, feats, out, levels, explain, top_k, chunk_size, n_jobs)
