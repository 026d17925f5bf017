"""Hostile arguments on every command: the right exit code and one line, no traceback.

Each case runs ``anxin.cli.main`` in-process (NUL bytes and undecodable
bytes included, as Python hands them over from ``argv``); a few run as real
processes (``python -m anxin``) with raw bytes in ``argv``. Every case
checks the exit code, that the one error line names the option, argument or
path, that "Traceback" appears nowhere, and that nothing was written: no
MLflow store, no output. The case commands (``anxin cases ...``) have their
own tests in ``tests/cases/``.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import anxin
from anxin.cli import main
from anxin.config import config_context

LONG = "9" * 100_000
BIG = "99999999999999999999"  # beyond any C integer


@dataclasses.dataclass(frozen=True)
class Case:
    """``argv`` (with ``{placeholders}``), the exit code, what the line names."""

    argv: tuple[str, ...]
    code: int
    names: str

    def __str__(self) -> str:
        shown = " ".join(
            a if len(a) < 40 else f"{a[:12]}...({len(a)})" for a in self.argv
        )
        return shown.encode("ascii", "backslashreplace").decode()


def case(line: str, code: int, names: str, *extra: str) -> Case:
    """``line`` split on spaces, plus ``extra`` arguments that hold spaces."""
    return Case((*line.split(), *extra), code, names)


SCORE = "score {data} --out {tmp}/out --model {bundle} --no-log"
SYNTH = "synth {tmp}/w -n 20 -m 3"
DEMO = "demo --workdir {tmp}/demo"

CASES = [
    # synth
    case("synth {tmp}/w -n -1", 2, "'--enterprises'"),
    case("synth {tmp}/w -n 0", 2, "'--enterprises'"),
    case("synth {tmp}/w -n 1e20", 2, "'--enterprises'"),
    case(f"synth {{tmp}}/w -n {BIG}", 2, "'--enterprises'"),
    case("synth {tmp}/w -n", 2, "'--enterprises'", ""),
    case("synth {tmp}/w -m 2", 2, "'--months'"),
    case("synth {tmp}/w -m 241", 2, "'--months'"),
    case("synth {tmp}/w -m -1", 2, "'--months'"),
    case("synth {tmp}/w --seed -1", 2, "'--seed'"),
    case(f"synth {{tmp}}/w --seed {BIG}", 2, "'--seed'"),
    case(f"{SYNTH} --end 2026-13", 2, "'--end'"),
    case(f"{SYNTH} --end abcd-ef", 2, "'--end'"),
    case(f"{SYNTH} --end", 2, "'--end'", ""),
    case(f"{SYNTH} --end ２０２６-０６", 2, "'--end'"),
    case(f"{SYNTH} --end", 2, "'--end'", "2026-06\n"),
    case(f"{SYNTH} --end {LONG}", 2, "'--end'"),
    case(f"{SYNTH} --format xml", 2, "'--format'"),
    case(f"{SYNTH} --format", 2, "'--format'", ""),
    case("synth {file} -n 20 -m 3", 2, "'OUT_DIR'"),
    case("synth {file}/sub -n 20 -m 3", 2, "'OUT_DIR'"),
    case("synth /proc/anxin/x -n 20 -m 3", 2, "'OUT_DIR'"),
    case("synth {tmp}/w\udcff -n 20 -m 3", 2, "not valid UTF-8"),
    case("synth {tmp}/w\x00 -n 20 -m 3", 2, "Argument 2"),
    case(f"synth {{tmp}}/{'x' * 300} -n 20 -m 3", 2, "'OUT_DIR'"),
    # validate
    case("validate {tmp}/nothing", 2, "'DATA_DIR'"),
    case("validate {file}", 2, "'DATA_DIR'"),
    case(f"validate {LONG}", 2, "'DATA_DIR'"),
    case("validate {data}\x00", 2, "Argument 2"),
    case("validate {data} --encoding nope", 2, "'--encoding'"),
    case("validate {data} --encoding base64", 2, "'--encoding'"),
    case("validate {data} --encoding", 2, "'--encoding'", ""),
    case("validate {data} --encoding utf\udcff", 2, "'--encoding'"),
    case("validate {data} --report {tmp}", 2, "'--report'"),
    case("validate {data} --report {file}/r.json", 2, "'--report'"),
    case("validate {data} --report {tmp}/r\udcff.json", 2, "'--report'"),
    case("validate {data} --quarantine-dir {file}", 2, "'--quarantine-dir'"),
    # train
    case("train {data} --horizon 0", 2, "'--horizon'"),
    case("train {data} --horizon 13", 2, "'--horizon'"),
    case("train {data} --horizon -1", 2, "'--horizon'"),
    case("train {data} --horizon 1e20", 2, "'--horizon'"),
    case(f"train {{data}} --horizon {BIG}", 2, "'--horizon'"),
    case("train {data} --valid-months 0", 2, "'--valid-months'"),
    case("train {data} --test-months -1", 2, "'--test-months'"),
    case("train {data} --calibration bogus", 2, "'--calibration'"),
    case("train {data} --calibration", 2, "'--calibration'", ""),
    case("train {data} --tune -1", 2, "'--tune'"),
    case("train {data} --seed -1", 2, "'--seed'"),
    case(f"train {{data}} --seed {BIG}", 2, "'--seed'"),
    case("train {data} --model-name", 2, "'--model-name'", ""),
    case("train {data} --model-name a/b", 2, "'--model-name'"),
    case("train {data} --model-name m\udcff", 2, "'--model-name'"),
    case("train {data} --encoding nope", 2, "'--encoding'"),
    case("train {tmp}/nothing", 2, "'DATA_DIR'"),
    case("train {data} --tracking-uri sqlit:///x.db", 2, "'sqlit:///x.db'"),
    case("train {data} --tracking-uri notaurl://x", 2, "'notaurl://x'"),
    case("train {data} --tracking-uri mlflow.db", 2, "sqlite:///mlflow.db"),
    case("train {data} --tracking-uri", 2, "tracking URI ''", ""),
    case("train {data} --tracking-uri sqlite:///{file}/m.db", 2, "/m.db"),
    case("train {data} --tracking-uri sqlite:///{tmp}/m\udcff.db", 2, "UTF-8"),
    case("train {data} --tracking-uri http://127.0.0.1:{port}", 1, "127.0.0.1"),
    case("train {data} --tracking-uri https://nothing.invalid", 1, "nothing.invalid"),
    # promote
    case("promote {data} --alert-volume 0", 2, "'--alert-volume'"),
    case("promote {data} --alert-volume 1", 2, "'--alert-volume'"),
    case("promote {data} --alert-volume nan", 2, "'--alert-volume'"),
    case("promote {data} --alert-volume inf", 2, "'--alert-volume'"),
    case("promote {data} --alert-volume 1e400", 2, "'--alert-volume'"),
    case("promote {data} --alert-volume -1", 2, "'--alert-volume'"),
    case("promote {data} --alert-volume", 2, "'--alert-volume'", ""),
    case("promote {data} --tolerance 1", 2, "'--tolerance'"),
    case("promote {data} --tolerance -0.1", 2, "'--tolerance'"),
    case("promote {data} --tolerance nan", 2, "'--tolerance'"),
    case("promote {data} --eval-months 0", 2, "'--eval-months'"),
    case("promote {data} --eval-months 1e20", 2, "'--eval-months'"),
    case("promote {data} --model-name", 2, "'--model-name'", " "),
    case("promote {data} --model-name x:y", 2, "'--model-name'"),
    case("promote {data} --encoding nope", 2, "'--encoding'"),
    case("promote {file}", 2, "'DATA_DIR'"),
    case("promote {data} --tracking-uri notaurl://x", 2, "'notaurl://x'"),
    case("promote {data} --tracking-uri sqlite:///{tmp}/mlfow.db", 1, "mlfow.db"),
    # score
    case(f"{SCORE} --as-of 2026-13", 2, "'--as-of'"),
    case(f"{SCORE} --as-of garbage", 2, "'--as-of'"),
    case(f"{SCORE} --as-of", 2, "'--as-of'", ""),
    case(f"{SCORE} --as-of 2026-6", 2, "'--as-of'"),
    case(f"{SCORE} --as-of ２０２６-０６", 2, "'--as-of'"),
    case(f"{SCORE} --as-of", 2, "'--as-of'", "2026-06\n"),
    case(f"{SCORE} --as-of ../../etc", 2, "'--as-of'"),
    case(f"{SCORE} --as-of [/red]", 2, "'--as-of'"),
    case(f"{SCORE} --as-of 2026-0\udcff", 2, "'--as-of'"),
    case(f"{SCORE} --as-of 2026-06\x00", 2, "'--as-of'"),
    case(f"{SCORE} --as-of={LONG}", 2, "'--as-of'"),
    case(f"{SCORE} --as-of 0001-01", 2, "'as_of'"),  # well formed, not in the data
    case(f"{SCORE} --top-k -1", 2, "'--top-k'"),
    case(f"{SCORE} --top-k 0", 2, "'--top-k'"),
    case(f"{SCORE} --top-k 12", 2, "'--top-k'"),
    case(f"{SCORE} --top-k {BIG}", 2, "'--top-k'"),
    case(f"{SCORE} --top-k 1e20", 2, "'--top-k'"),
    case(f"{SCORE} --top -1", 2, "'--top'"),
    case(f"{SCORE} --explain bogus", 2, "'--explain'"),
    case(f"{SCORE} --explain", 2, "'--explain'", ""),
    case(f"{SCORE} --encoding nope", 2, "'--encoding'"),
    case(f"{SCORE} --encoding rot13", 2, "'--encoding'"),
    case(f"{SCORE} --lock-timeout -1", 2, "lock_timeout"),
    case(f"{SCORE} --lock-timeout nan", 2, "lock_timeout"),
    case(f"{SCORE} --policy {{tmp}}/missing.json", 2, "missing.json"),
    case(f"{SCORE} --policy {{policies}}/garbage.json", 2, "not JSON"),
    case(f"{SCORE} --policy {{policies}}/high.json", 2, "high.json"),
    case(f"{SCORE} --policy {{policies}}/list.json", 2, "list.json"),
    case(f"{SCORE} --policy {{policies}}/gbk.json", 2, "not UTF-8"),
    case(f"{SCORE} --policy {{policies}}/quota.json", 2, "add up to at most 1"),
    case(f"{SCORE} --policy {{policies}}", 2, "policies"),
    case(f"{SCORE} --out {{file}}", 2, "'--out'"),
    case(f"{SCORE} --out {{file}}/sub", 2, "'--out'"),
    case(f"{SCORE} --out /proc/anxin/out", 2, "'--out'"),
    case(f"{SCORE} --out {{tmp}}/o\udcff", 2, "'--out'"),
    case(f"{SCORE} --out {{tmp}}/{'o' * 300}", 2, "'--out'"),
    case("score {tmp}/nothing --out {tmp}/out --model {bundle}", 2, "'DATA_DIR'"),
    case("score {data} --out {tmp}/out --model", 2, "'--model'", ""),
    case("score {data} --out {tmp}/out --model {tmp}/none --no-log", 1, "/none"),
    case("score {data} --out {tmp}/out --model {garbage} --no-log", 1, "booster.txt"),
    case("score {data} --out {tmp}/out --model {truncated} --no-log", 1, "truncated"),
    case(
        "score {data} --out {tmp}/out --model {nojson} --no-log", 1, "calibrator.json"
    ),
    case("score {data} --out {tmp}/out --tracking-uri sqlit:///x.db", 2, "sqlit"),
    case("score {data} --out {tmp}/out --tracking-uri sqlite:///{tmp}/a.db", 1, "a.db"),
    case("score {data} --out {tmp}/out --tracking-uri http://127.0.0.1:{port}", 1, ":"),
    # demo
    case(f"{DEMO} -n 5", 2, "'--enterprises'"),
    case(f"{DEMO} -n {BIG}", 2, "'--enterprises'"),
    case(f"{DEMO} -m 20", 2, "'--months'"),
    case(f"{DEMO} -m 1e20", 2, "'--months'"),
    case(f"{DEMO} --seed -1", 2, "'--seed'"),
    case("demo --workdir {file}", 2, "'--workdir'"),
    case("demo --workdir {tmp}/d\udcff", 2, "'--workdir'"),
    case(f"{DEMO} --tracking-uri notaurl://x", 2, "'notaurl://x'"),
    case(f"{DEMO} --tracking-uri http://127.0.0.1:{{port}}", 1, "does not answer"),
    # global
    case("-v score", 2, "Missing argument"),
    case("--debug=yes synth {tmp}/w", 2, "--debug"),
    case("no-such-command", 2, "No such command"),
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small, clean world as CSV."""
    root = tmp_path_factory.mktemp("hostile") / "data"
    with config_context(today="2026-11"):
        anxin.synth(200, 12, seed=1).write(root, format="csv")
    return root


@pytest.fixture(scope="module")
def models(
    trained: tuple[anxin.TrainResult, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """A good bundle and damaged copies of it."""
    root = tmp_path_factory.mktemp("models")
    good = root / "bundle"
    trained[0].model.save(good)
    booster = (good / "booster.txt").read_text("utf-8")
    out = {"bundle": good}
    for name, damage in [
        ("garbage", lambda: (root / "garbage" / "booster.txt").write_text("x")),
        (
            "truncated",
            lambda: (root / "truncated" / "booster.txt").write_text(
                booster[: len(booster) // 2]
            ),
        ),
        ("nojson", lambda: (root / "nojson" / "calibrator.json").unlink()),
    ]:
        shutil.copytree(good, root / name)
        damage()
        out[name] = root / name
    return out


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("policies")
    (root / "garbage.json").write_text("garbage{")
    (root / "high.json").write_text('{"kind": "threshold", "red": "high"}')
    (root / "list.json").write_text("[0.3, 0.2, 0.1]")
    (root / "gbk.json").write_bytes('{"kind": "阈值"}'.encode("gbk"))
    quota = {"kind": "quota", "red": 0.5, "orange": 0.5, "yellow": 0.5}
    (root / "quota.json").write_text(json.dumps(quota))
    return root


@pytest.fixture
def places(
    data: Path, models: dict[str, Path], policies: Path, tmp_path: Path
) -> dict[str, str]:
    """What the ``{placeholders}`` of a case stand for."""
    (tmp_path / "afile").write_text("not a directory")
    return {
        "data": str(data),
        "tmp": str(tmp_path),
        "file": str(tmp_path / "afile"),
        "policies": str(policies),
        "port": str(free_port()),
        **{name: str(path) for name, path in models.items()},
    }


def error_line(err: str) -> str:
    """The one line saying what went wrong (ours, or Click's usage error)."""
    lines = [line for line in err.splitlines() if line.lower().startswith("error")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("hostile", CASES, ids=str)
def test_hostile_arguments_get_a_line_and_a_code_not_a_traceback(
    hostile: Case,
    places: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [arg.format(**places) for arg in hostile.argv]
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    line = error_line(err)
    assert code == hostile.code, line
    assert hostile.names.format(**places) in line
    assert len(line) < 1_000  # long values are cut
    # nothing was made: no MLflow store (of a mistyped URI or not), no output
    assert not list(tmp_path.rglob("*.db"))
    assert not list(tmp_path.rglob("*.parquet"))


def test_every_command_meets_hostile_arguments() -> None:
    tested = {c.argv[0] for c in CASES}
    assert {"synth", "validate", "train", "promote", "score", "demo"} <= tested


def test_the_as_of_check_comes_before_any_loading(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a registry model that does not exist, and a bad month: the month is named
    argv = ["score", str(data), "--out", str(tmp_path / "o"), "--as-of", "2026-13"]
    assert main(argv) == 2
    assert "'--as-of'" in capsys.readouterr().err
    # and the library checks it before loading the model too
    with pytest.raises(anxin.InvalidParameterError, match="'as_of' parameter"):
        anxin.score_month(data, tmp_path / "o", as_of="../2026-06", model="nowhere")
    assert not (tmp_path / "o").exists()


def test_an_unreadable_data_directory_names_the_path(
    data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    denied = {data, data / "payroll.csv"}
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m: Path(p) not in denied)
    assert main(["validate", str(data)]) == 1
    assert error_line(capsys.readouterr().err) == (
        f"error: permission denied: {data}. Let the user running anxin read (or "
        "write) it, or choose another path."
    )
    denied.discard(data)
    assert main(["train", str(data)]) == 1
    assert f"permission denied: {data / 'payroll.csv'}" in capsys.readouterr().err
    monkeypatch.setattr(os, "access", real_access)
    # a file that becomes unreadable while it is read
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "payroll.csv":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert main(["validate", str(data)]) == 1
    err = capsys.readouterr().err
    assert f"permission denied: {data / 'payroll.csv'}" in error_line(err)
    assert "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_a_really_unreadable_directory(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    shutil.copytree(data, locked)
    locked.chmod(0)
    try:
        assert main(["validate", str(locked)]) == 1
    finally:
        locked.chmod(0o755)
    assert f"permission denied: {locked}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("err", "code", "says"),
    [
        (errno.EACCES, 1, "permission denied"),
        (errno.EROFS, 1, "read-only file system"),
        (errno.ENOSPC, 1, "no space left on device"),
        (errno.ENOTDIR, 2, "'--out'"),
    ],
)
def test_an_output_directory_the_machine_refuses(
    err: int,
    code: int,
    says: str,
    data: Path,
    models: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(err, os.strerror(err), str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    argv = ["score", str(data), "--out", str(out), "--model", str(models["bundle"])]
    assert main([*argv, "--no-log"]) == code
    line = error_line(capsys.readouterr().err)
    assert says in line and str(out) in line


# -- real processes: raw bytes in argv, and Ctrl-C ---------------------------


def run(*argv: str | bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "ANXIN_HOME": str(cwd / ".anxin"), "ANXIN_TODAY": "2026-11"}
    return subprocess.run(
        [sys.executable, "-m", "anxin", *argv],
        capture_output=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("argv", "code", "names"),
    [
        ((b"synth", b"w\xff\xfe", b"-n", b"20", b"-m", b"3"), 2, b"OUT_DIR"),
        (
            (b"synth", b"w", b"-n", b"20", b"-m", b"3", b"--end", b"2026-\xff"),
            2,
            b"--end",
        ),
        ((b"validate", b"data", b"--encoding", b"\xc0\xaf"), 2, b"--encoding"),
        ((b"score", b"data", b"--out", b"o", b"--as-of", b"\xe4\xb8"), 2, b"--as-of"),
        ((b"score", b"data", b"--out", b"o\xff", b"--model", b"m"), 2, b"--out"),
        ((b"train", b"data", b"--tracking-uri", b"sqlit:///x.db"), 2, b"sqlit"),
        ((b"promote", b"data", b"--tolerance", b"nan"), 2, b"--tolerance"),
        ((b"demo", b"-n", b"-1"), 2, b"--enterprises"),
    ],
)
def test_real_processes_with_undecodable_bytes(
    argv: tuple[bytes, ...], code: int, names: bytes, data: Path, tmp_path: Path
) -> None:
    shutil.copytree(data, tmp_path / "data")
    done = run(*argv, cwd=tmp_path)
    assert b"Traceback" not in done.stdout + done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.lower().startswith(b"error")]
    assert len(lines) == 1, done.stderr
    assert done.returncode == code, lines[0]
    assert names in lines[0]
    lines[0].decode("utf-8")  # undecodable bytes come back escaped, printable
    assert not list(tmp_path.rglob("*.db"))


def test_a_damaged_model_in_a_real_process(
    data: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    for damaged, names in (("truncated", b"truncated"), ("garbage", b"booster.txt")):
        argv = ["score", str(data), "--out", "o", "--model", str(models[damaged])]
        done = run(*argv, "--no-log", cwd=tmp_path)
        assert done.returncode == 1  # a truncated booster used to crash LightGBM
        assert b"Traceback" not in done.stderr and names in done.stderr


def test_ctrl_c_exits_130_without_a_traceback(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ANXIN_HOME": str(tmp_path / ".anxin"),
        "PYTHONUNBUFFERED": "1",
    }
    argv = ["demo", "--workdir", str(tmp_path / "demo")]  # 20,000 enterprises
    proc = subprocess.Popen(
        [sys.executable, "-m", "anxin", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # the demo's title: the synthetic world is next
        time.sleep(1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().endswith(b"error: interrupted")
    assert b"Traceback" not in out + err
