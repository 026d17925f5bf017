"""The contract's pandera models: registered checks, dtypes, the generated doc."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anxin import schemas
from anxin._uscc import make_codes
from anxin.config import config_context


def test_every_table_has_a_model_and_a_documented_column_set() -> None:
    assert set(schemas.SCHEMAS) == set(schemas.TABLE_NAMES)
    assert set(schemas.REQUIRED_TABLES) | set(schemas.OPTIONAL_TABLES) == set(
        schemas.TABLE_NAMES
    )
    doc = schemas.contract_markdown()
    for name, model in schemas.SCHEMAS.items():
        assert f"`{name}`" in doc
        for column in model.to_schema().columns:
            assert f"`{column}`" in doc, (name, column)


def test_period_checks_run_per_distinct_value() -> None:
    periods = pd.Series(["2026-01", "2026-13", None, "2026-01", "26-01", "2027-01"])
    ok = schemas.period_format(periods)
    assert ok.tolist() == [True, False, False, True, False, True]
    assert ok.index.equals(periods.index)
    with config_context(today="2026-06"):
        # only well-formed months can be "in the future"; others are reported once
        future_ok = schemas.period_not_in_future(periods)
    assert future_ok.tolist() == [True, True, True, True, True, False]


def test_uscc_check_flags_only_bad_codes() -> None:
    good = make_codes(np.random.default_rng(3).integers(0, 31, size=(2, 17)))
    bad = good[0][:-1] + ("0" if good[0][-1] != "0" else "1")  # wrong check char
    codes = pd.Series([good[0], bad, None, good[1], good[0]])
    ok = schemas.uscc_check_character(codes)
    assert ok.tolist() == [True, False, False, True, True]


@pytest.mark.parametrize("name", list(schemas.SCHEMAS))
def test_models_coerce_and_keep_extra_columns(name: str) -> None:
    config = schemas.SCHEMAS[name].to_schema()
    assert config.coerce is True
    assert config.strict is False
