"""anxin.spark.build_features: every row equal to one machine's panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import anxin
from anxin.config import config_context
from anxin.spark import build_features, load_tables, validate
from anxin.spark._compat import collect
from tests.spark.conftest import TODAY


def test_features_equal_one_machine_in_every_bucket(
    spark: Any, dirty_dir: Path
) -> None:
    with config_context(today=TODAY):
        one = anxin.build_features(anxin.validate(anxin.load_tables(dirty_dir)).tables)
        validation = validate(load_tables(dirty_dir, spark=spark), buckets=3)
        two = collect(build_features(validation))
    assert list(two.columns) == list(one.columns)
    by, text = ["period", "enterprise_id"], lambda s: s.astype(str)
    one = one.sort_values(by, key=text, ignore_index=True)
    two = two.sort_values(by, key=text, ignore_index=True)
    assert len(two) == len(one) > 0
    for column in one.columns:
        a, b = one[column], two[column]
        if a.dtype == np.float32:  # bit for bit, peer means included
            assert np.array_equal(a.to_numpy(), b.to_numpy(), equal_nan=True), column
        else:
            assert a.astype(str).tolist() == b.astype(str).tolist(), column
    assert pd.notna(two["headcount_peer_chg_1m"]).any()
