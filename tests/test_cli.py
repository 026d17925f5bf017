"""The command line: help everywhere, documented, and exit codes that mean things."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import anxin
from anxin._clidoc import cli_markdown, walk_commands
from anxin.cli import main

DOCS = Path(__file__).parents[1] / "docs"


@pytest.mark.parametrize(("name", "cmd"), walk_commands(), ids=lambda x: str(x))
def test_every_command_has_help_with_an_example_and_is_documented(
    name: str, cmd: object
) -> None:
    help_text = getattr(cmd, "help", "") or ""
    assert help_text.strip(), f"anxin {name} has no help"
    assert "Example: anxin" in help_text, f"anxin {name} help lacks an example"
    assert f"## `anxin {name}`" in (DOCS / "cli.md").read_text("utf-8")
    assert main([*name.split(), "--help"]) == 0


def test_cli_doc_is_generated_from_the_commands() -> None:
    assert (DOCS / "cli.md").read_text("utf-8") == cli_markdown(), (
        "docs/cli.md is stale: run `make docs`"
    )


def test_python_dash_m_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "anxin", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0 and "validate" in out.stdout


def test_synth_and_validate_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    assert (
        main(["synth", str(data), "-n", "300", "-m", "12", "--dirty", "-f", "csv"]) == 0
    )
    assert (data / "payroll.csv").exists() and (data / "_injected.csv").exists()
    report = tmp_path / "report.json"
    # quarantined rows are reported; the data are still usable
    assert main(["validate", str(data), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "quarantined" in out and "duplicate_key" in out
    injected = pd.read_csv(data / "_injected.csv")
    payload = json.loads(report.read_text("utf-8"))
    assert sum(payload["rows_quarantined"].values()) == len(injected)
    # a missing required table breaks the contract: exit 2, message on stderr
    (data / "payroll.csv").unlink()
    assert main(["validate", str(data)]) == 2
    err = capsys.readouterr().err
    assert "required table 'payroll' not found" in err
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", "somewhere"]) == 2  # --out is required
    assert "Missing option" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2


def test_bad_parameter_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["synth", str(tmp_path), "-n", "3"]) == 2
    assert "The '--enterprises' option of anxin synth" in capsys.readouterr().err


def test_missing_model_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anxin.synth(200, 12, seed=1).write(tmp_path / "data")
    code = main(
        [
            "score",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "out"),
            "--tracking-uri",
            f"sqlite:///{tmp_path}/empty.db",
        ]
    )
    assert code == 1
    assert "anxin train" in capsys.readouterr().err


def test_warnings_print_as_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import warnings

    from anxin import DriftWarning
    from anxin.cli import _setup_logging

    with warnings.catch_warnings():
        _setup_logging()
        warnings.warn(
            "Scoring data for 2026-06 have drifted", DriftWarning, stacklevel=1
        )
    err = capsys.readouterr().err
    assert "DriftWarning: Scoring data for 2026-06 have drifted" in err
    assert ".py:" not in err  # no file path and line, as Python would print
