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
        "verify",
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


def test_stats_json_is_all_of_stdout(
    scores: pd.DataFrame, db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with CaseStore(db) as store:
        store.open_from_scores(scores, now=NOW)
    capsys.readouterr()
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    argv = ["cases", "stats", "--db", db, "--now", NOW, "--json"]
    assert run(*argv, "--mlflow", "--tracking-uri", uri) == 0
    out = capsys.readouterr()
    metrics = json.loads(out.out)  # the whole of stdout: no run line after it
    assert metrics["field_cases"] == 4.0
    # the run it was logged to is said on stderr
    run_id = out.err.split("logged to MLflow run ")[1].split()[0]
    from mlflow.tracking import MlflowClient

    assert MlflowClient(uri).get_run(run_id).data.metrics["field_cases"] == 4.0


# -- hostile arguments: a one-line message and exit 1 or 2, never a traceback --

LONG = "x" * 5000
#: (name, arguments after `anxin cases`, exit code). ``DB`` is a store with
#: cases, ``DIR`` an existing directory, ``SCORES`` a good scores file,
#: ``WIDE`` a scores file whose model name does not fit the store.
HOSTILE: list[tuple[str, list[str], int]] = [
    ("open: no scores file", ["open", "-s", "DIR/nowhere.parquet"], 2),
    ("open: empty scores path", ["open", "-s", ""], 2),
    ("open: empty level", ["open", "-s", "SCORES", "--min-level", ""], 2),
    ("open: long actor", ["open", "-s", "SCORES", "--by", LONG], 2),
    ("open: NUL actor", ["open", "-s", "SCORES", "--by", "a\x00b"], 2),
    ("open: far future", ["open", "-s", "SCORES", "--now", "9999-12-31 23:00"], 2),
    ("open: text too wide", ["open", "-s", "WIDE"], 2),
    ("list: empty status", ["list", "--status", ""], 2),
    ("list: markup level", ["list", "--level", "[/x]"], 2),
    ("list: long unit", ["list", "--unit", LONG], 2),
    ("list: NUL unit", ["list", "--unit", "\x00"], 2),
    ("show: zero", ["show", "0"], 2),
    ("show: huge id", ["show", "99999999999999999999999"], 2),
    ("show: 1e23", ["show", "1e23"], 2),
    ("show: negative id", ["show", "--", "-5"], 2),
    ("show: empty id", ["show", ""], 2),
    ("show: unknown", ["show", "99"], 2),
    ("move: empty state", ["move", "1", "--to", "", "--by", "x"], 2),
    ("move: markup state", ["move", "1", "--to", "[/x]", "--by", "x"], 2),
    ("move: empty actor", ["move", "1", "--to", "dispatched", "--by", ""], 2),
    ("move: long actor", ["move", "1", "--to", "dispatched", "--by", LONG], 2),
    ("move: NUL actor", ["move", "1", "--to", "dispatched", "--by", "\x00"], 2),
    ("move: not UTF-8", ["move", "1", "--to", "dispatched", "--by", "李\udcff"], 2),
    (
        "move: NUL note",
        ["move", "1", "--to", "dispatched", "--by", "x", "--note", "\x00"],
        2,
    ),
    (
        "move: long note",
        ["move", "1", "--to", "dispatched", "--by", "x", "--note", LONG * 3],
        2,
    ),
    ("move: huge id", ["move", str(2**31), "--to", "dispatched", "--by", "x"], 2),
    (
        "move: workers 3e9",
        [
            "move",
            "1",
            "--to",
            "confirmed",
            "--by",
            "x",
            "--workers",
            "3000000000",
            "--amount",
            "5",
        ],
        2,
    ),
    (
        "move: workers 1e20",
        [
            "move",
            "1",
            "--to",
            "confirmed",
            "--by",
            "x",
            "--workers",
            "1e20",
            "--amount",
            "5",
        ],
        2,
    ),
    (
        "move: amount inf",
        [
            "move",
            "1",
            "--to",
            "confirmed",
            "--by",
            "x",
            "--workers",
            "3",
            "--amount",
            "inf",
        ],
        2,
    ),
    (
        "move: amount nan",
        [
            "move",
            "1",
            "--to",
            "confirmed",
            "--by",
            "x",
            "--workers",
            "3",
            "--amount",
            "nan",
        ],
        2,
    ),
    (
        "move: amount 1e400",
        [
            "move",
            "1",
            "--to",
            "confirmed",
            "--by",
            "x",
            "--workers",
            "3",
            "--amount",
            "1e400",
        ],
        2,
    ),
    (
        "move: huge version",
        [
            "move",
            "1",
            "--to",
            "dispatched",
            "--by",
            "x",
            "--expected-version",
            str(2**40),
        ],
        2,
    ),
    (
        "move: now garbage",
        ["move", "1", "--to", "dispatched", "--by", "x", "--now", "yesterday"],
        2,
    ),
    (
        "move: now 9999",
        ["move", "1", "--to", "dispatched", "--by", "x", "--now", "9999-12-31 23:00"],
        2,
    ),
    (
        "move: now empty",
        ["move", "1", "--to", "dispatched", "--by", "x", "--now", ""],
        2,
    ),
    ("overdue: now 9999", ["overdue", "--now", "9999-12-31 23:00"], 2),
    ("overdue: year 1", ["overdue", "--now", "0001-01-01"], 2),
    ("overdue: empty actor", ["overdue", "--by", ""], 2),
    ("outcomes: empty path", ["outcomes", "--out", ""], 2),
    ("outcomes: xlsx", ["outcomes", "--out", "DIR/o.xlsx"], 2),
    ("outcomes: a directory", ["outcomes", "--out", "DIR/sub.csv"], 2),
    ("outcomes: NUL path", ["outcomes", "--out", "DIR/o\x00.csv"], 2),
    ("outcomes: unwritable", ["outcomes", "--out", "/proc/anxin/o.csv"], 1),
    ("history: txt", ["history", "--out", "DIR/h.txt"], 2),
    ("history: unwritable", ["history", "--out", "/proc/anxin/h.csv"], 1),
    ("history: case 0", ["history", "--out", "DIR/h.csv", "--case", "0"], 2),
    ("history: unknown case", ["history", "--out", "DIR/h.csv", "--case", "99"], 2),
    ("stats: now garbage", ["stats", "--now", "garbage"], 2),
    ("stats: now 9999", ["stats", "--now", "9999-12-31 23:00"], 2),
    ("verify: case 0", ["verify", "--case", "0"], 2),
    ("verify: unknown case", ["verify", "--case", "99"], 2),
]
#: Stores no command can open: (name, --db, exit code).
HOSTILE_DBS: list[tuple[str, str, int]] = [
    ("not a URL", "notaurl://x", 2),
    ("unparseable", "::", 2),
    ("empty", "", 2),
    ("mysql", "mysql://u@h/x", 2),
    ("unreachable postgres", "postgresql://postgres:pw@127.0.0.1:1/x", 1),
    ("sqlite under /proc", "sqlite:////proc/anxin/y.db", 1),
    ("sqlite directory", "sqlite:///DIR", 1),
]
#: One call of every command that is fine but for the store.
EVERY_COMMAND: list[list[str]] = [
    ["open", "-s", "SCORES"],
    ["list"],
    ["show", "1"],
    ["move", "1", "--to", "dispatched", "--by", "x"],
    ["overdue"],
    ["outcomes", "--out", "DIR/o.csv"],
    ["history", "--out", "DIR/h.csv"],
    ["stats"],
    ["verify"],
]


def _filled(args: list[str], tmp_path: Path, scores: pd.DataFrame) -> list[str]:
    """``args`` with ``DIR``, ``SCORES`` and ``WIDE`` made real."""
    (tmp_path / "sub.csv").mkdir(exist_ok=True)
    good, wide = tmp_path / "scores.parquet", tmp_path / "wide.parquet"
    scores.to_parquet(good)
    scores.assign(model_name="m" * 300).to_parquet(wide)
    names = {"SCORES": str(good), "WIDE": str(wide)}
    return [names.get(a, a.replace("DIR", str(tmp_path))) for a in args]


def _one_line_error(code: int, err: str, expected: int) -> None:
    assert code == expected, err
    assert "Traceback" not in err
    if err.startswith("error:"):  # anxin's own message (usage errors are click's)
        assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    ("args", "code"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_arguments_end_in_one_line_and_exit_2(
    scores: pd.DataFrame,
    db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
) -> None:
    with CaseStore(db) as store:
        store.open_from_scores(scores, now=NOW)
    before = snapshot(db)
    capsys.readouterr()
    result = run("cases", *_filled(args, tmp_path, scores), "--db", db)
    out, err = capsys.readouterr()
    _one_line_error(result, err, code)
    assert "Traceback" not in out
    after = snapshot(db)
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])


@pytest.mark.parametrize(
    ("store_url", "code"), [h[1:] for h in HOSTILE_DBS], ids=[h[0] for h in HOSTILE_DBS]
)
def test_every_command_on_a_store_that_cannot_be_opened(
    scores: pd.DataFrame,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    store_url: str,
    code: int,
) -> None:
    for args in EVERY_COMMAND:
        argv = _filled(
            [*args, "--db", store_url.replace("DIR", str(tmp_path))], tmp_path, scores
        )
        result = run("cases", *argv)
        err = capsys.readouterr().err
        _one_line_error(result, err, code)
        assert "pw@" not in err


def test_hostile_arguments_through_a_real_process(tmp_path: Path, db: str) -> None:
    """The console script itself: bytes that are not UTF-8 in argv, a server
    that does not answer, a far-future time, a huge id."""
    CaseStore(db).close()
    calls: list[tuple[list[Any], int, str]] = [
        (
            ["move", "1", "--to", "dispatched", "--by", b"\xff\xfe", "--db", db],
            2,
            "not UTF-8",
        ),
        (
            ["list", "--db", "postgresql://postgres@127.0.0.1:1/x"],
            1,
            "Cannot open the case store",
        ),
        (["list", "--db", "notaurl://x"], 2, "'notaurl' database"),
        (["overdue", "--now", "9999-12-31 23:00", "--db", db], 2, "before 2100-01-01"),
        (["show", "99999999999999999999999", "--db", db], 2, "[1, 2147483647]"),
        (["verify", "--db", db], 0, "audit trail intact"),
    ]
    for args, code, text in calls:
        proc = subprocess.run(
            [
                sys.executable.encode(),
                b"-m",
                b"anxin",
                b"cases",
                *(a if isinstance(a, bytes) else str(a).encode() for a in args),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        out = proc.stdout.decode("utf-8", "replace")
        err = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == code, (args, err)
        assert "Traceback" not in out + err
        assert text in (out + err).replace("\n", " ")


def test_list_shows_50_cases_unless_asked(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cases.helpers import make_scores

    ents = anxin.synth(n_enterprises=80, n_months=6, seed=2).tables.enterprises
    with CaseStore(db) as store:
        store.open_from_scores(make_scores(ents, ["yellow"] * 60), now=NOW)
    capsys.readouterr()
    assert run("cases", "list", "--db", db) == 0
    out = capsys.readouterr().out
    assert "Cases / 案件 (50 of 60)" in out and "10 more: --limit N or --all" in out
    assert run("cases", "list", "--db", db, "--all") == 0
    assert "Cases / 案件 (60)" in capsys.readouterr().out
    assert run("cases", "list", "--db", db, "--limit", "5", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in listed] == [1, 2, 3, 4, 5]
    assert run("cases", "list", "--db", db, "--limit", "0") == 2
    assert "'limit' parameter" in capsys.readouterr().err
