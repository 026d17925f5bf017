"""The training input: contract tables or a prepared frame -> labelled rows.

:func:`prepare` builds features and labels from validated tables (or renames
the key columns of a prepared frame), drops the censored rows, turns text
features into categoricals with sorted levels, and gives every feature its
reason text from the catalogue.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from anxin.catalogue import CATALOGUE, Feature
from anxin.exceptions import ContractError, InvalidParameterError
from anxin.features import build_features
from anxin.labels import build_labels
from anxin.tables import Tables

__all__ = ["KEYS", "Prepared", "fingerprint", "generic_feature", "prepare"]

#: The key columns of the labelled frame; every other column is a feature.
KEYS = ("enterprise_id", "period", "label")


@dataclasses.dataclass
class Prepared:
    """The labelled rows and what describes their columns.

    Attributes
    ----------
    frame : DataFrame
        ``enterprise_id``, ``period`` (text), ``label`` (int8) and the
        features, labelled rows only.
    features : list of str
        Feature columns, in frame order.
    categorical : dict
        Categorical feature -> its levels (sorted text).
    catalogue : dict
        Feature -> its :class:`~anxin.catalogue.Feature` (reason text).
    source : {"tables", "frame"}
        What :func:`prepare` was given.
    """

    frame: pd.DataFrame
    features: list[str]
    categorical: dict[str, list[str]]
    catalogue: dict[str, Feature]
    source: str


def prepare(
    tables: Tables | pd.DataFrame,
    *,
    horizon: int,
    entity: str = "enterprise_id",
    period: str = "period",
    label: str = "label",
    catalogue: Mapping[str, Feature] | None = None,
) -> Prepared:
    """Labelled training rows from contract tables or a prepared frame.

    Parameters
    ----------
    tables : Tables or DataFrame
        Validated contract tables, or a frame with ``entity``, ``period``,
        ``label`` and feature columns.
    horizon : int
        Months ahead of the labels built from tables.
    entity, period, label : str
        Column names in a prepared frame.
    catalogue : mapping, optional
        Reason text for custom features, over :data:`anxin.CATALOGUE`.

    Returns
    -------
    Prepared

    Raises
    ------
    ContractError
        If the data lack labels, keys or usable features.
    InvalidParameterError
        If ``tables`` is neither Tables nor a DataFrame.

    Examples
    --------
    >>> frame = pd.DataFrame({"enterprise_id": ["a", "b", "c"],
    ...     "period": ["2024-01"] * 3, "label": [0, 1, None],
    ...     "sector": ["y", "x", "x"], "debt": [1.0, 2.0, 3.0]})
    >>> prep = prepare(frame, horizon=3)
    >>> len(prep.frame), prep.features, prep.categorical
    (2, ['sector', 'debt'], {'sector': ['x', 'y']})
    """
    frame, source = _keyed_frame(tables, horizon, entity, period, label)
    frame = _labelled(frame)
    features = [c for c in frame.columns if c not in KEYS]
    if not features:
        raise ContractError(
            "training frame: no feature columns besides the keys.",
            table="training frame",
        )
    categorical = _categorical_levels(frame, features)
    base = dict(CATALOGUE)
    base.update(catalogue or {})
    described = {f: base.get(f, generic_feature(f)) for f in features}
    return Prepared(frame, features, categorical, described, source)


def _keyed_frame(
    tables: Tables | pd.DataFrame, horizon: int, entity: str, period: str, label: str
) -> tuple[pd.DataFrame, str]:
    """Features with ``label``, keys under their standard names, and the source."""
    if isinstance(tables, Tables):
        frame = build_features(tables)
        frame["label"] = build_labels(tables, horizon=horizon)["label"].to_numpy()
        return frame, "tables"
    if isinstance(tables, pd.DataFrame):
        missing = [c for c in (entity, period, label) if c not in tables.columns]
        if missing:
            raise ContractError(
                f"training frame: column(s) {missing} missing. A prepared frame "
                f"needs the entity ({entity!r}), period ({period!r}, YYYY-MM) and "
                f"label ({label!r}, 0/1, empty when unknown) columns; pass "
                "entity=, period=, label= to name yours.",
                table="training frame",
                column=missing[0],
            )
        renamed = tables.rename(
            columns={entity: "enterprise_id", period: "period", label: "label"}
        )
        return renamed, "frame"
    raise InvalidParameterError(
        "The 'tables' parameter of train must be Tables (from anxin.validate) or "
        f"a pandas DataFrame. Got {type(tables).__name__} instead."
    )


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows whose label is known, label as int8 and period as text."""
    frame = frame[frame["label"].notna()].reset_index(drop=True)
    if frame.empty:
        raise ContractError(
            "No labelled rows: every label window runs past the events data. "
            "Supply more months of events (or a smaller horizon).",
            table="events",
        )
    frame["label"] = frame["label"].astype("int8")
    frame["period"] = frame["period"].astype("str")
    return frame


def _categorical_levels(
    frame: pd.DataFrame, features: list[str]
) -> dict[str, list[str]]:
    """Make text features categorical in place; return each one's sorted levels."""
    levels: dict[str, list[str]] = {}
    for name in features:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            # keep the codes; levels as text, unused ones dropped
            col = col.cat.remove_unused_categories()
            col = col.cat.rename_categories([str(c) for c in col.cat.categories])
            order = sorted(col.cat.categories)
            frame[name] = col.cat.reorder_categories(order)
            levels[name] = order
        elif col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            values = col.astype("str")
            found = sorted(pd.unique(values[col.notna()]).tolist())
            frame[name] = pd.Categorical(values.where(col.notna()), categories=found)
            levels[name] = [str(v) for v in found]
        elif not pd.api.types.is_numeric_dtype(col.dtype):
            raise ContractError(
                f"training frame: feature {name!r} has type {col.dtype}; features "
                "must be numeric or categorical (text).",
                table="training frame",
                column=name,
            )
    return levels


def generic_feature(name: str) -> Feature:
    """Catalogue entry of a feature anxin does not know: its name is its text.

    Examples
    --------
    >>> generic_feature("hotline_calls").reason_en
    'hotline_calls: {value}'
    """
    return Feature(
        name=name,
        group=name,
        zh=name,
        en=name,
        unit="",
        reason_zh=f"{name}：{{value}}",
        reason_en=f"{name}: {{value}}",
    )


def fingerprint(frame: pd.DataFrame) -> str:
    """Stable digest of a frame, whatever the order of its rows.

    Examples
    --------
    >>> f = pd.DataFrame({"a": [1, 2, 3]})
    >>> fingerprint(f) == fingerprint(f.iloc[::-1])
    True
    """
    h = hashlib.sha256()
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    h.update(np.sort(hashed).tobytes())  # row order does not matter
    return h.hexdigest()[:16]
