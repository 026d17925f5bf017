"""Tests for anxin.cases.cli: the ``anxin cases ...`` commands."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin.cases import CaseStore, read_history
from anxin.cases.cli import cases_app
from anxin.cli import main

NOW = "2026-06-05 09:00"
FIGURES = {"workers_affected": 3, "amount_owed": 9000.0}


@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    ents = anxin.synth(n_enterprises=30, n_months=6, seed=1).tables.enterprises.head(5)
    levels = ["red", "orange", "yellow", "none", "yellow"]
    return pd.DataFrame(
        {
            "enterprise_id": ents["enterprise_id"].to_numpy(),
            "as_of": "2026-06",
            "risk_score": [0.9, 0.6, 0.35, 0.05, 0.3],
            "risk_level": levels,
            "rank": np.arange(1, 6),
            "model_name": "anxin-arrears",
            "model_version": "4",
            "industry": ents["industry"].to_numpy(),
            "region": ents["region"].to_numpy(),
            "reasons": [
                [
                    {
                        "feature": "pay_delay",
                        "text_zh": "工资延迟",
                        "text_en": "late pay",
                    }
                ],
                [],
                None,
                None,
                [],
            ],
        }
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cases.db"


def run(*args: str) -> int:
    return main([str(a) for a in args])


def snapshot(db: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    with CaseStore(db) as store:
        return store.list(), store.history()


def test_every_command_has_help_ending_in_an_example() -> None:
    names = []
    for command in cases_app.registered_commands:
        assert command.callback is not None
        doc = inspect.getdoc(command.callback) or ""
        assert doc.strip().splitlines()[-1].startswith("Example: anxin cases "), doc
        names.append(command.name)
    assert set(names) == {
        "open",
        "list",
        "show",
        "move",
        "overdue",
        "outcomes",
        "history",
        "stats",
    }
    for name in names:
        assert run("cases", name, "--help") == 0
    assert run("cases", "--help") == 0


def test_full_chain_on_the_command_line(
    scores: pd.DataFrame, db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "run"
    out_dir.mkdir()
    scores.to_parquet(out_dir / "scores.parquet", index=False)
    assert run("cases", "open", "--scores", out_dir, "--db", db, "--now", NOW) == 0
    assert (
        "opened 4, escalated 0, unchanged 0 (1 rows below yellow)"
        in capsys.readouterr().out
    )
    # Idempotent from the command line too.
    assert run("cases", "open", "--scores", out_dir / "scores.parquet", "--db", db) == 0
    assert "opened 0, escalated 0, unchanged 4" in capsys.readouterr().out

    assert run("cases", "list", "--db", db, "--level", "red") == 0
    listed = capsys.readouterr().out
    assert scores["enterprise_id"].iloc[0] in listed
    assert scores["enterprise_id"].iloc[1] not in listed

    steps = [
        ("dispatched", "派单员王", []),
        ("verifying", "核查员李", []),
        ("confirmed", "核查员李", ["--workers", "23", "--amount", "186000"]),
    ]
    for state, actor, extra in steps:
        code = run(
            "cases",
            "move",
            "1",
            "--to",
            state,
            "--by",
            actor,
            "--note",
            "ok",
            "--now",
            "2026-06-05 10:00",
            "--db",
            db,
            *extra,
        )
        assert code == 0
        assert f"case 1: {state}" in capsys.readouterr().out

    assert run("cases", "show", "1", "--db", db) == 0
    shown = capsys.readouterr().out
    for text in ("confirmed", "核查员李", "工资延迟", "23 workers", "186,000"):
        assert text in shown

    assert run("cases", "overdue", "--db", db, "--now", "2026-07-01 09:00") == 0
    assert "Overdue" in capsys.readouterr().out
    with CaseStore(db) as store:
        assert store.get(2).escalations == 1

    outcomes = tmp_path / "outcomes.csv"
    assert run("cases", "outcomes", "--out", outcomes, "--db", db) == 0
    assert "1 outcomes (1 confirmed, 0 false alarms)" in capsys.readouterr().out
    frame = pd.read_csv(outcomes, dtype={"model_version": str})
    assert frame[["outcome", "workers_affected", "amount_owed", "period"]].to_dict(
        "records"
    ) == [
        {
            "outcome": "confirmed",
            "workers_affected": 23,
            "amount_owed": 186000.0,
            "period": "2026-06",
        }
    ]

    history = tmp_path / "history.json"
    assert run("cases", "history", "--out", history, "--db", db) == 0
    capsys.readouterr()
    with CaseStore(db) as store:
        pd.testing.assert_frame_equal(read_history(history), store.history())

    assert run("cases", "stats", "--db", db, "--json") == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["field_hit_rate"] == 1.0
    assert metrics["field_verified"] == 1.0


def test_open_from_csv_with_json_reasons(
    scores: pd.DataFrame, db: str, tmp_path: Path
) -> None:
    path = tmp_path / "scores.csv"
    scores.assign(
        reasons=[
            json.dumps(r, ensure_ascii=False) if r else "" for r in scores["reasons"]
        ],
        region=scores["region"],
    ).to_csv(path, index=False)
    assert run("cases", "open", "--scores", path, "--db", db, "--now", NOW) == 0
    with CaseStore(db) as store:
        case = store.get(1)
    assert case.reasons[0]["text_zh"] == "工资延迟"
    assert case.region == scores["region"].iloc[0]  # leading digits kept as text


def _bad_scores(tmp_path: Path, scores: pd.DataFrame) -> Path:
    path = tmp_path / "bad.parquet"
    scores.drop(columns=["risk_level"]).to_parquet(path, index=False)
    return path


BAD_INPUTS: list[tuple[str, list[str], str]] = [
    ("unknown case", ["show", "99"], "No case 99"),
    (
        "unknown case move",
        ["move", "99", "--to", "dispatched", "--by", "x"],
        "No case 99",
    ),
    (
        "unknown state",
        ["move", "1", "--to", "done", "--by", "x"],
        "Unknown state 'done'",
    ),
    ("illegal move", ["move", "1", "--to", "closed", "--by", "x"], "Allowed next"),
    (
        "empty actor",
        ["move", "1", "--to", "dispatched", "--by", " "],
        "'--by' parameter",
    ),
    ("missing actor", ["move", "1", "--to", "dispatched"], "'--by' parameter"),
    (
        "confirm without figures",
        ["move", "1", "--to", "confirmed", "--by", "x"],
        "'workers_affected' parameter",
    ),
    (
        "stale version",
        ["move", "1", "--to", "dispatched", "--by", "x", "--expected-version", "7"],
        "reload and retry",
    ),
    ("bad status", ["list", "--status", "open"], "'status' parameter"),
    (
        "scores breaking the contract",
        ["open", "--scores", "BAD"],
        "'risk_level' is missing",
    ),
    ("missing scores file", ["open", "--scores", "nowhere.parquet"], "not found"),
    ("bad outcomes suffix", ["outcomes", "--out", "o.xlsx"], ".csv, .parquet or .json"),
]


@pytest.mark.parametrize(
    ("args", "message"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_exits_2_and_changes_nothing(
    scores: pd.DataFrame,
    db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    with CaseStore(db) as store:
        store.open_from_scores(scores, now=NOW)
    before = snapshot(db)
    argv: list[Any] = [_bad_scores(tmp_path, scores) if a == "BAD" else a for a in args]
    argv = [tmp_path / a if str(a).startswith(("nowhere", "o.")) else a for a in argv]
    code = run("cases", *argv, "--db", db)
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err.replace("\n", " ") or message in err
    after = snapshot(db)
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])


def test_console_script_exit_code(db: str) -> None:
    CaseStore(db).close()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "anxin",
            "cases",
            "move",
            "5",
            "--to",
            "verifying",
            "--by",
            "x",
            "--db",
            db,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "No case 5" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_by_is_recorded_for_opening_and_overdue(
    scores: pd.DataFrame, db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scores.parquet"
    scores.to_parquet(path, index=False)
    code = run(
        "cases", "open", "-s", path, "--by", "评分任务", "--now", NOW, "--db", db
    )
    assert code == 0
    assert (
        run(
            "cases",
            "overdue",
            "--by",
            "督办员",
            "--now",
            "2026-07-01 09:00",
            "--db",
            db,
        )
        == 0
    )
    with CaseStore(db) as store:
        history = store.history(1)
        assert history["actor"].tolist() == ["评分任务", "督办员"]
        assert history["action"].tolist() == ["opened", "overdue_escalated"]
        assert store.get(1).updated_by == "督办员"


def test_levels_are_shown_with_their_chinese_label(
    scores: pd.DataFrame, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with CaseStore(db) as store:
        store.open_from_scores(scores, now=NOW)
    capsys.readouterr()
    assert run("cases", "list", "--db", db) == 0
    listed = capsys.readouterr().out
    for label in ("红 red", "橙 orange", "黄 yellow"):
        assert label in listed
    assert run("cases", "show", "1", "--db", db) == 0
    assert "红 red" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning")
def test_stats_as_tables_and_to_mlflow(
    scores: pd.DataFrame, db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with CaseStore(db) as store:
        store.open_from_scores(scores, now=NOW)
        for state in ("dispatched", "verifying"):
            store.move(1, state, by="核查员李", now=NOW)
        store.move(1, "confirmed", by="核查员李", now=NOW, **FIGURES)
    capsys.readouterr()
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    code = run("cases", "stats", "--db", db, "--mlflow", "--tracking-uri", uri)
    assert code == 0
    out = capsys.readouterr().out
    assert "cases 4, open 4, overdue " in out
    assert "verified 1, confirmed 1, hit rate 100.0%" in out
    for title in ("Hit rate by level", "Hit rate by model", "Cases by state"):
        assert title in out
    assert "logged to MLflow run " in out
    run_id = out.split("logged to MLflow run ")[1].split()[0]
    from mlflow.tracking import MlflowClient

    logged = MlflowClient(uri).get_run(run_id).data.metrics
    assert logged["field_hit_rate"] == 1.0
