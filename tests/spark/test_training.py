"""anxin.spark.training_frame: one machine's features and labels, positives all
kept, a seeded share of the negatives with weight 1 / share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin.catalogue import CATALOGUE
from anxin.config import config_context
from anxin.exceptions import InvalidParameterError
from anxin.spark import training_frame
from tests.spark.conftest import TODAY

SHARE = 0.3
KEY = ["enterprise_id", "period"]


@pytest.fixture(scope="module")
def full(dirty_dir: Path) -> pd.DataFrame:
    """Every labelled row, built on one machine."""
    with config_context(today=TODAY):
        tables = anxin.validate(anxin.load_tables(dirty_dir)).tables
    frame = anxin.build_features(tables)
    frame["label"] = anxin.build_labels(tables, horizon=3)["label"].to_numpy()
    return frame[frame["label"].notna()].reset_index(drop=True)


@pytest.fixture(scope="module")
def sampled(spark: Any, dirty_dir: Path) -> pd.DataFrame:
    with config_context(today=TODAY):
        return training_frame(
            dirty_dir, negatives=SHARE, seed=1, buckets=3, spark=spark
        )


def test_rows_are_one_machines_with_all_positives(
    full: pd.DataFrame, sampled: pd.DataFrame
) -> None:
    positives = full[full["label"] == 1]
    assert len(positives) > 20
    merged = sampled.merge(full, on=KEY, suffixes=("", "_one"), validate="1:1")
    assert len(merged) == len(sampled)  # every row is one of one machine's rows
    for column in CATALOGUE:  # every feature, as one machine's
        a, b = merged[column], merged[f"{column}_one"]
        assert a.astype(str).tolist() == b.astype(str).tolist(), column
    assert (merged["label"] == merged["label_one"].astype(int)).all()
    kept = sampled[sampled["label"] == 1]
    assert sorted(map(tuple, kept[KEY].to_numpy())) == sorted(
        map(tuple, positives[KEY].to_numpy())
    )
    assert (kept["weight"] == 1.0).all()


def test_negatives_are_a_share_weighted_back(
    full: pd.DataFrame, sampled: pd.DataFrame
) -> None:
    negatives = sampled[sampled["label"] == 0]
    n_full = int((full["label"] == 0).sum())
    assert len(negatives) / n_full == pytest.approx(SHARE, abs=0.03)
    assert np.allclose(negatives["weight"], 1 / SHARE)
    # the weighted rows stand for the full data
    assert sampled["weight"].sum() == pytest.approx(len(full), rel=0.08)
    rate = np.average(sampled["label"], weights=sampled["weight"])
    assert rate == pytest.approx(full["label"].mean(), rel=0.1)
    assert sampled["label"].dtype == np.int8 and sampled["weight"].dtype == float


def test_the_same_seed_gives_the_same_frame_whatever_the_buckets(
    spark: Any, dirty_dir: Path, sampled: pd.DataFrame
) -> None:
    with config_context(today=TODAY):
        again = training_frame(dirty_dir, negatives=SHARE, seed=1, buckets=2)
        other = training_frame(dirty_dir, negatives=SHARE, seed=2, buckets=3)
        late = training_frame(
            dirty_dir, negatives=SHARE, seed=1, keep_from="2026-02", start="2025-09"
        )
    pd.testing.assert_frame_equal(again, sampled)
    assert not other[KEY].equals(sampled[KEY])
    # months from keep_from are whole (weight 1); start cuts the earlier ones
    assert late["period"].min() == "2025-09"
    whole = late[late["period"] >= "2026-02"]
    assert (whole["weight"] == 1.0).all() and (whole["label"] == 0).any()
    early = late[late["period"] < "2026-02"]
    assert early.merge(sampled, on=KEY)[["weight_x", "weight_y"]].nunique().max() == 2


def test_train_takes_the_frame_with_its_weights(sampled: pd.DataFrame) -> None:
    from anxin.training.preparation import prepare

    prep = prepare(sampled, horizon=3, weight="weight")
    assert "weight" not in prep.features and prep.weight is not None
    assert np.array_equal(prep.weight, sampled["weight"].to_numpy())


def test_parameters_are_checked_first(spark: Any, dirty_dir: Path) -> None:
    with pytest.raises(InvalidParameterError, match="'negatives' parameter"):
        training_frame(dirty_dir, negatives=0, spark=spark)
    with pytest.raises(InvalidParameterError, match="'keep_from' parameter"):
        training_frame(dirty_dir, keep_from="2026-13", spark=spark)
