"""The contract's pandera models: registered checks, dtypes, the generated doc."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest

from anxin import schemas
from anxin._arrow_contract import check_ok
from anxin._checks import period_format, region_code
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


TEXT_CASES = {
    "period_format": [
        "2026-01",
        "2026-13",
        "26-01",
        "２０２６-01",
        "2026-01\n",
        "0001-01",
    ],
    "period_not_in_future": ["2026-01", "2026-07", "2027-01", "2026-13", "x"],
    "period_not_before_floor": ["1990-01", "1989-12", "0001-01", "2026-01", "x"],
    "region_code": ["330502", "33050", "３３０５０２", "330502\n", " 330502", "33O502"],
    "uscc_check_character": [],  # filled below from real codes
}


def _engines_agree(check: str, values: list[str | None]) -> tuple[list, list]:
    """Failing positions by pandera (pandas) and by the Arrow engine."""
    series = pd.Series(values, dtype="string")
    schema = pa.DataFrameSchema(
        {"x": pa.Column(str, checks=getattr(pa.Check, check)(), nullable=True)}
    )
    try:
        schema.validate(pd.DataFrame({"x": series}), lazy=True)
        by_pandera: list = []
    except pa.errors.SchemaErrors as err:
        by_pandera = sorted(err.failure_cases["index"].dropna().astype(int).tolist())
    checks = schema.columns["x"].checks
    ok = check_ok(checks[0], pyarrow.array(values, pyarrow.string()), "text")
    return by_pandera, sorted(np.flatnonzero(~ok).tolist())


@pytest.mark.parametrize("check", list(TEXT_CASES))
def test_text_rules_are_one_definition_for_both_engines(check: str) -> None:
    values: list[str | None] = [*TEXT_CASES[check], None]
    if check == "uscc_check_character":
        good = make_codes(np.random.default_rng(3).integers(0, 31, size=(3, 17)))
        bad = good[0][:-1] + ("0" if good[0][-1] != "0" else "1")
        values = [*good, bad, good[0].lower(), good[0] + "\n", None]
    with config_context(today="2026-06", period_floor="1990-01"):
        by_pandera, by_arrow = _engines_agree(check, values)
    assert by_pandera == by_arrow
    assert by_arrow, f"{check}: the cases should include breaches"
    assert len(values) - 1 not in by_arrow  # missing values are not this rule's


def test_full_width_digits_and_trailing_newlines_are_not_codes() -> None:
    values = pd.Series(
        ["330502", "３３０５０２", "330502\n", "2026-01\n"], dtype="string"
    )
    assert region_code(values).tolist() == [True, False, False, False]
    assert period_format(values).tolist() == [False, False, False, False]


@pytest.mark.parametrize("name", list(schemas.SCHEMAS))
def test_models_coerce_and_keep_extra_columns(name: str) -> None:
    config = schemas.SCHEMAS[name].to_schema()
    assert config.coerce is True
    assert config.strict is False
