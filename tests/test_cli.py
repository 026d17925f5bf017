"""The command line: help everywhere, documented, and exit codes that mean things."""

from __future__ import annotations

import inspect
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer

import anxin
from anxin._clidoc import cli_markdown, walk_commands
from anxin.cli import app, main

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


# -- help that behaves like its neighbours ------------------------------------

COMMANDS = [("", None), *walk_commands()]


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=lambda x: str(x))
def test_dash_h_is_help_for_every_command(
    name: str,
    cmd: object,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line per option
    assert main([*name.split(), "-h"]) == 0
    out = capsys.readouterr().out
    assert f"Usage: anxin {name}".rstrip() in out
    assert "Show this message and exit." in out
    assert "<bool>" not in out  # a switch takes no value


def _help_lines(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main([*argv, "--help"]) == 0
    return capsys.readouterr().out.splitlines()


def test_help_shows_value_types_and_brackets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line per option
    lines = _help_lines(["train"], capsys)
    (horizon,) = (line for line in lines if "Months ahead" in line)
    assert "-H" in horizon and "<int>" in horizon
    (register,) = (line for line in lines if "Log the run" in line)
    assert "--no-register" in register and "<" not in register
    # Rich markup would take [tune] for a style and drop it
    assert any("pip install 'anxin[tune]'" in line for line in lines)
    lines = _help_lines(["cases", "list"], capsys)
    (show_all,) = (line for line in lines if "Show every case" in line)
    assert "--all" in show_all and "<" not in show_all
    cli_md = (DOCS / "cli.md").read_text("utf-8")
    assert "| `--horizon`, `-H` `<int>` | Months ahead (1-12). |" in cli_md
    assert "| `--no-register` | Log the run" in cli_md
    assert "pip install 'anxin[tune]'" in cli_md


def test_the_horizon_keeps_its_long_name_and_takes_dash_capital_h(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # -H is read as the horizon (checked before any work: 0 is out of range)
    assert main(["train", str(tmp_path), "-H", "0"]) == 2
    assert "The '--horizon' option of anxin train" in capsys.readouterr().err


def _examples(help_text: str) -> list[str]:
    lines = inspect.cleandoc(help_text).splitlines()
    return [ln.split("Example:", 1)[1].strip() for ln in lines if "Example:" in ln]


@pytest.mark.parametrize(("name", "cmd"), walk_commands(), ids=lambda x: str(x))
def test_every_command_has_one_example_that_parses(name: str, cmd: Any) -> None:
    (example,) = _examples(cmd.help or "")
    argv = shlex.split(example)
    assert argv[0] == "anxin"
    # find the command as the shell would, then parse its arguments: an
    # unknown option, a missing argument or a value of the wrong type fails
    node, path, words = typer.main.get_command(app), ["anxin"], argv[1:]
    while hasattr(node, "commands") and words and words[0] in node.commands:
        path.append(words[0])
        node = node.commands[words.pop(0)]
    assert " ".join(path).startswith(f"anxin {name}")
    assert not hasattr(node, "commands"), f"{example!r} names no command"
    node.make_context(" ".join(path), words)


# -- --json: one document on stdout, for machines ------------------------------


def _json_out(argv: list[str], capfd: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Run ``anxin ARGV --json``; stdout (the file descriptor, so that a C
    library's print would show too) must be one JSON document and nothing else."""
    capfd.readouterr()
    assert main([*argv, "--json"]) == 0
    out = capfd.readouterr().out
    assert out.endswith("}\n") and out.count("\n") == 1  # one line: JSON Lines
    facts: dict[str, Any] = json.loads(out)
    return facts


def test_validate_train_and_score_print_json_for_machines(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from mlflow.tracking import MlflowClient

    data, out, report = tmp_path / "data", tmp_path / "out", tmp_path / "q.json"
    anxin.synth(600, 30, seed=3, dirty=True).write(data, format="csv")
    uri = f"sqlite:///{tmp_path}/mlflow.db"

    checked = _json_out(["validate", str(data), "--report", str(report)], capfd)
    injected = len(pd.read_csv(data / "_injected.csv"))
    assert checked["usable"] is True
    assert checked["rows_quarantined_total"] == injected > 0
    assert sum(checked["rows_quarantined"].values()) == injected
    written = json.loads(report.read_text("utf-8"))
    assert checked["breaches_by_rule"] == written["breaches_by_rule"]
    assert checked["report"] == str(report)

    trained = _json_out(["train", str(data), "--tracking-uri", uri], capfd)
    run = MlflowClient(uri).get_run(trained["run_id"])
    assert trained["model_version"] == "1"
    assert set(trained["aliases"]) == {"challenger", "champion"}
    assert trained["metrics"]["test_ap"] == pytest.approx(run.data.metrics["test_ap"])
    assert trained["test"]["model"]["positives"] > 0
    assert isinstance(trained["test"]["model"]["rows"], int)  # a count, not 2732.0
    assert trained["splits"]["train"][1] < trained["splits"]["test"][0]

    scored = _json_out(
        ["score", str(data), "--out", str(out), "--tracking-uri", uri], capfd
    )
    month = Path(scored["out_dir"])
    assert month == out / f"as_of={scored['as_of']}"
    assert scored["model_version"] == "1"
    assert scored["scored"] == len(pd.read_parquet(month / "scores.parquet"))
    assert sum(scored["levels"].values()) == scored["scored"]
    assert scored["quarantine"]["rows"] == injected
    assert scored["drift"]["verdict"] in {"stable", "watch", "act"}
    assert set(scored["files"]) >= {"scores.parquet", "summary.json", "drift.csv"}
    assert "quarantine/" in scored["files"]  # directories end in "/"
    summary = json.loads((month / "summary.json").read_text("utf-8"))
    assert {k: scored[k] for k in summary} == summary
    assert MlflowClient(uri).get_run(scored["run_id"]).info.status == "FINISHED"


def test_quiet_holds_for_its_own_call_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-q", "synth", str(tmp_path / "a"), "-n", "50", "-m", "3"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["synth", str(tmp_path / "b"), "-n", "50", "-m", "3"]) == 0
    assert "50" in capsys.readouterr().out  # the next call speaks again
