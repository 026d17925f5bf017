"""Errors: one root, the matching builtin, structured fields, exit codes."""

from __future__ import annotations

import pytest

import anxin
from anxin import exceptions

ERRORS = [
    getattr(exceptions, name)
    for name in exceptions.__all__
    if not issubclass(getattr(exceptions, name), Warning)
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_every_error_derives_from_the_root_and_a_builtin(error: type) -> None:
    assert issubclass(error, anxin.AnxinError)
    builtins = [b for b in error.__mro__ if b.__module__ == "builtins"]
    if error is not anxin.AnxinError and error is not anxin.CaseError:
        assert builtins[0] is not Exception, "also subclass the matching builtin"
    assert error.exit_code in (1, 2)


def test_callers_can_catch_the_builtin() -> None:
    with pytest.raises(ValueError, match="broken"):
        raise anxin.ContractError("payroll: broken", table="payroll")
    with pytest.raises(LookupError):
        raise anxin.UnknownCaseError("case 7 is not in the store")


def test_fields_are_attributes_and_the_message_is_the_text() -> None:
    err = anxin.ContractError(
        "payroll.csv: column 'period' is missing.", table="payroll", column="period"
    )
    assert (err.table, err.column) == ("payroll", "period")
    assert err.fields == {"table": "payroll", "column": "period"}
    assert str(err) == "payroll.csv: column 'period' is missing."


def test_bad_input_exits_2_failures_exit_1() -> None:
    assert anxin.ContractError("x").exit_code == 2
    assert anxin.InvalidParameterError("x").exit_code == 2
    assert anxin.IllegalTransitionError("x").exit_code == 2
    assert anxin.ModelNotFoundError("x").exit_code == 1
    assert anxin.AnxinError("x").exit_code == 1


def test_drift_is_a_warning_not_an_error() -> None:
    assert issubclass(anxin.DriftWarning, UserWarning)
    assert not issubclass(anxin.DriftWarning, anxin.AnxinError)
