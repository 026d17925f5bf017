"""The training input: contract tables or a prepared frame -> labelled rows.

:func:`prepare` builds features and labels from validated tables, or reads a
prepared frame: its key columns under the caller's names (an entity, a
period of any cadence -- :mod:`anxin.periods` -- or none for a snapshot, a
0/1 label), an optional split column and an optional baseline score. It
drops the unlabelled rows, treats non-finite numbers as missing (and counts
them), turns text features into categoricals with sorted levels, and gives
every feature its reason text from the catalogue. Feature names stay as the
caller wrote them; LightGBM gets safe aliases (:func:`lightgbm_names`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from anxin.catalogue import CATALOGUE, Feature
from anxin.exceptions import ContractError, InvalidParameterError
from anxin.features import build_features
from anxin.labels import build_labels
from anxin.periods import Periods, parse_periods
from anxin.tables import Tables

__all__ = [
    "KEYS",
    "SPLIT_VALUES",
    "Prepared",
    "fingerprint",
    "generic_feature",
    "lightgbm_names",
    "prepare",
]

logger = logging.getLogger(__name__)

#: The key columns of the labelled frame; every other column is a feature.
KEYS = ("enterprise_id", "period", "label")
#: The values of a split column.
SPLIT_VALUES = ("train", "valid", "test")
#: Largest magnitude a feature may hold: the model reads float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: Characters LightGBM refuses in feature names (and whitespace).
_UNSAFE = re.compile(r'[\[\]{}":,\s]')


@dataclasses.dataclass
class Prepared:
    """The labelled rows and what describes their columns.

    Attributes
    ----------
    frame : DataFrame
        ``enterprise_id``, ``period`` (canonical text; ``""`` in a
        snapshot), ``label`` (int8) and the features, labelled rows only.
    features : list of str
        Feature columns, in frame order, named as the caller named them.
    categorical : dict
        Categorical feature -> its levels (sorted text).
    catalogue : dict
        Feature -> its :class:`~anxin.catalogue.Feature` (reason text).
    source : {"tables", "frame"}
        What :func:`prepare` was given.
    freq : {"M", "Q", "Y"} or None
        The cadence of the periods; ``None`` for a snapshot.
    columns : dict
        The caller's names of the key columns (``entity``, ``period``,
        ``label``, ``split``, ``baseline``; ``None`` where absent) and how the
        periods were read (``periods``); the model remembers them.
    split : ndarray or None
        Each row's split (``train``, ``valid``, ``test``) from a split column.
    baseline : ndarray or None
        Each row's score from the caller's baseline column.
    weight : ndarray or None
        Each row's weight from the caller's weight column (a down-sampled
        frame: :func:`anxin.spark.training_frame`).
    nonfinite : dict
        Feature -> how many infinite (or beyond float32) values were read as
        missing.
    """

    frame: pd.DataFrame
    features: list[str]
    categorical: dict[str, list[str]]
    catalogue: dict[str, Feature]
    source: str
    freq: str | None = "M"
    columns: dict[str, Any] = dataclasses.field(default_factory=dict)
    split: np.ndarray | None = None
    baseline: np.ndarray | None = None
    nonfinite: dict[str, int] = dataclasses.field(default_factory=dict)
    weight: np.ndarray | None = None

    @property
    def snapshot(self) -> bool:
        """Whether the rows have no periods (one extract, no time column)."""
        return self.freq is None


# long: one documented entry point; the body is the steps in order
def prepare(
    tables: Tables | pd.DataFrame,
    *,
    horizon: int,
    entity: str | None = "enterprise_id",
    period: str | None = "period",
    label: str = "label",
    catalogue: Mapping[str, Feature] | None = None,
    freq: str | None = None,
    split: str | None = None,
    baseline: str | None = None,
    weight: str | None = None,
) -> Prepared:
    """Labelled training rows from contract tables or a prepared frame.

    Parameters
    ----------
    tables : Tables or DataFrame
        Validated contract tables, or a frame with ``entity``, ``period``,
        ``label`` and feature columns.
    horizon : int
        Months ahead of the labels built from tables.
    entity : str or None
        The entity column of a prepared frame; ``None``: each row is its own
        entity (numbered from 0).
    period : str or None
        The period column (months, quarters, years or dates); ``None``: a
        snapshot without a time column.
    label : str
        The 0/1 label column (empty when unknown).
    catalogue : mapping, optional
        Reason text for custom features, over :data:`anxin.CATALOGUE`.
    freq : {"M", "Q", "Y"}, optional
        The cadence of dates in ``period`` (inferred when omitted).
    split, baseline : str, optional
        A column of ``train`` / ``valid`` / ``test`` per row, and a column of
        a score the caller already runs (higher = riskier); neither is a
        feature.
    weight : str, optional
        A column of positive row weights (a frame whose negatives were
        down-sampled); not a feature.

    Returns
    -------
    Prepared

    Raises
    ------
    ContractError
        If the data lack labels, keys or usable features, or a key column
        holds values it cannot.
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
    >>> yearly = frame.assign(period=[2023, 2024, 2024])
    >>> prepare(yearly, horizon=1).freq
    'Y'
    """
    if isinstance(tables, Tables):
        if weight is not None:
            raise InvalidParameterError(
                f"The 'weight' parameter of train names a column of a prepared "
                f"frame; contract tables have none. Got {weight!r} instead."
            )
        frame = build_features(tables)
        frame["label"] = build_labels(tables, horizon=horizon)["label"].to_numpy()
        frame = _labelled(frame)
        columns: dict[str, Any] = {"entity": "enterprise_id", "period": "period"}
        columns.update(label="label", freq="M", periods="the contract tables")
        prep = Prepared(frame, [], {}, {}, "tables", "M", columns)
    elif isinstance(tables, pd.DataFrame):
        prep = _from_frame(tables, entity, period, label, freq, split, baseline, weight)
    else:
        raise InvalidParameterError(
            "The 'tables' parameter of train must be Tables (from anxin.validate) "
            f"or a pandas DataFrame. Got {type(tables).__name__} instead."
        )
    frame = prep.frame
    prep.features = [c for c in frame.columns if c not in KEYS]
    if not prep.features:
        raise ContractError(
            "training frame: no feature columns besides the keys.",
            table="training frame",
        )
    prep.categorical = _categorical_levels(frame, prep.features)
    prep.nonfinite = _finite(frame, prep.features, prep.categorical)
    base = dict(CATALOGUE)
    base.update(catalogue or {})
    prep.catalogue = {
        f: base.get(f) or generic_feature(f, categorical=f in prep.categorical)
        for f in prep.features
    }
    return prep


def _from_frame(
    tables: pd.DataFrame,
    entity: str | None,
    period: str | None,
    label: str,
    freq: str | None,
    split: str | None,
    baseline: str | None,
    weight: str | None = None,
) -> Prepared:
    """A prepared frame keyed under the standard names, labelled rows only."""
    named = {"entity": entity, "period": period, "label": label}
    named.update(split=split, baseline=baseline)
    if weight is not None:
        named["weight"] = weight
    _check_columns(tables, named)
    keys = {v for v in named.values() if v is not None}
    features = [c for c in tables.columns if c not in keys]
    clash = [c for c in features if c in KEYS]
    if clash:
        raise ContractError(
            f"training frame: column {clash[0]!r} is a feature here, but anxin "
            "keeps its keys under that name. Rename the column, or pass it as "
            f"entity=, period= or label= if that is what it holds.",
            table="training frame",
            column=clash[0],
        )
    frame = tables.drop(columns=list(keys)).reset_index(drop=True)
    ids = tables[entity] if entity else pd.Series(np.arange(len(tables)))
    periods: Periods | None = None
    if period is not None:
        periods = parse_periods(
            tables[period], freq=freq, column=period, entities=ids.astype("str")
        )
    frame.insert(0, "enterprise_id", ids.astype("str").to_numpy())
    frame.insert(1, "period", "" if periods is None else periods.text())
    frame.insert(2, "label", _labels(tables[label], label))
    extra = {
        "split": _split_values(tables[split], split) if split else None,
        "baseline": _baseline_values(tables[baseline], baseline) if baseline else None,
        "weight": _weight_values(tables[weight], weight) if weight else None,
    }
    _unique_keys(frame, entity, period)
    keep = frame["label"].notna().to_numpy()
    frame = _labelled(frame)
    columns: dict[str, Any] = {**named, "freq": periods.freq if periods else None}
    columns["periods"] = periods.describe() if periods else "a snapshot"
    return Prepared(
        frame,
        [],
        {},
        {},
        "frame",
        periods.freq if periods else None,
        columns,
        split=None if extra["split"] is None else extra["split"][keep],
        baseline=None if extra["baseline"] is None else extra["baseline"][keep],
        weight=None if extra["weight"] is None else extra["weight"][keep],
    )


def _check_columns(tables: pd.DataFrame, named: dict[str, str | None]) -> None:
    dupes = tables.columns[tables.columns.duplicated()].unique().tolist()
    if dupes:
        raise ContractError(
            f"training frame: column(s) {dupes} appear more than once; give "
            "every column its own name.",
            table="training frame",
            column=str(dupes[0]),
        )
    missing = [c for c in named.values() if c is not None and c not in tables]
    if missing:
        raise ContractError(
            f"training frame: column(s) {missing} missing. A prepared frame "
            f"needs the entity ({named['entity']!r}), period ({named['period']!r}: "
            f"months YYYY-MM, quarters YYYYQn, years YYYY or dates) and label "
            f"({named['label']!r}, 0/1, empty when unknown) columns; pass "
            "entity=, period=, label= to name yours (entity=None when each row "
            "is its own entity, period=None for a snapshot without a time "
            "column).",
            table="training frame",
            column=missing[0],
        )


def _labels(values: pd.Series, column: str) -> np.ndarray:
    """0/1 labels as float (NaN = unknown); anything else is an error."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64").to_numpy()
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = values.notna() & ~numbers.isin([0.0, 1.0])
    if bad.any():
        raise ContractError(
            f"column {column!r}: labels must be 0 or 1 (empty when unknown); "
            f"{int(bad.sum())} row(s) hold something else, e.g. "
            f"{values[bad].iloc[0]!r}.",
            column=column,
        )
    return numbers.to_numpy()


def _split_values(values: pd.Series, column: str) -> np.ndarray:
    text = values.astype("str").str.strip().str.lower()
    bad = values.isna() | ~text.isin(SPLIT_VALUES)
    if bad.any():
        raise ContractError(
            f"column {column!r}: each row must say train, valid or test; "
            f"{int(bad.sum())} row(s) do not, e.g. {values[bad].iloc[0]!r}.",
            column=column,
        )
    return text.to_numpy(dtype=object)


def _baseline_values(values: pd.Series, column: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = values.notna() & numbers.isna()
    if bad.any():
        raise ContractError(
            f"column {column!r}: a baseline score must be a number (higher = "
            f"riskier); {int(bad.sum())} row(s) are not, e.g. "
            f"{values[bad].iloc[0]!r}.",
            column=column,
        )
    return numbers.to_numpy()


def _weight_values(values: pd.Series, column: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = ~np.isfinite(numbers.to_numpy()) | (numbers.to_numpy() <= 0)
    if bad.any():
        raise ContractError(
            f"column {column!r}: a row weight must be a positive number; "
            f"{int(bad.sum())} row(s) are not, e.g. {values[bad].iloc[0]!r}.",
            column=column,
        )
    return numbers.to_numpy()


def _unique_keys(frame: pd.DataFrame, entity: str | None, period: str | None) -> None:
    if entity is None:
        return
    keys = ["enterprise_id"] if period is None else ["enterprise_id", "period"]
    dupes = frame.duplicated(keys)
    if dupes.any():
        first = frame.loc[dupes, keys].iloc[0].tolist()
        what = f"entity {entity!r}" + (f" and period {period!r}" if period else "")
        raise ContractError(
            f"training frame: {int(dupes.sum())} row(s) repeat an {what} of an "
            f"earlier row, e.g. {first}. Each entity has one row "
            + (
                "per period (are dates grouped by the right freq?)."
                if period
                else "in a snapshot."
            ),
            table="training frame",
            column=entity,
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


def _finite(
    frame: pd.DataFrame, features: list[str], categorical: Mapping[str, Any]
) -> dict[str, int]:
    """Make infinite (and beyond-float32) numbers missing in place; count them."""
    counts = {}
    for name in features:
        if name in categorical:
            continue
        values = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            bad = np.abs(values) > FLOAT32_MAX
        if bad.any():
            counts[name] = int(bad.sum())
            frame[name] = np.where(bad, np.nan, values)
    if counts:
        logger.warning(
            "%d infinite or too large value(s) in %d feature(s) read as missing: %s",
            sum(counts.values()),
            len(counts),
            dict(list(counts.items())[:5]),
        )
    return counts


def lightgbm_names(features: list[str]) -> list[str]:
    """Names LightGBM accepts for ``features``, unique, in the same order.

    LightGBM refuses ``[ ] { } " : ,`` in feature names; they (and spaces)
    become ``_``. The model keeps the original names; only the booster
    sees these.

    Examples
    --------
    >>> lightgbm_names(["debt [k]", "debt _k_", "a:b"])
    ['debt__k_', 'debt__k__2', 'a_b']
    """
    out: list[str] = []
    seen: set[str] = set()
    for name in features:
        safe = _UNSAFE.sub("_", str(name)) or "feature"
        candidate, k = safe, 2
        while candidate in seen:
            candidate, k = f"{safe}_{k}", k + 1
        seen.add(candidate)
        out.append(candidate)
    return out


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


def generic_feature(name: str, *, categorical: bool = False) -> Feature:
    """Catalogue entry of a feature anxin does not know: its name is its text.

    Examples
    --------
    >>> generic_feature("hotline_calls").reason_en
    'hotline_calls: {value}'
    >>> generic_feature("sector", categorical=True).kind
    'categorical'
    """
    return Feature(
        name=name,
        group=name,
        zh=name,
        en=name,
        unit="",
        reason_zh=f"{name}：{{value}}",
        reason_en=f"{name}: {{value}}",
        kind="categorical" if categorical else "numeric",
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
