"""The one mapping from a failure to an exit code and one line, and ``--debug``."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from anxin import (
    AnxinError,
    ContractError,
    IllegalTransitionError,
    InvalidParameterError,
    ModelNotFoundError,
)
from anxin._failures import describe
from anxin.cli import main


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _raised(call: object) -> BaseException:
    try:
        call()  # type: ignore[operator]
    except BaseException as exc:  # the point is to keep it
        return exc
    raise AssertionError("nothing was raised")


def _unreachable_postgres() -> BaseException:
    url = f"postgresql+psycopg://anxin:s3cret@127.0.0.1:{_free_port()}/cases"
    engine = sa.create_engine(url)
    return _raised(lambda: engine.connect().close())


def _missing_sqlite(tmp: Path) -> BaseException:
    engine = sa.create_engine(f"sqlite:///{tmp}/no/such/dir/cases.db")
    return _raised(lambda: engine.connect().close())


@pytest.mark.parametrize(
    ("make", "code", "parts"),
    [
        (lambda t: InvalidParameterError("The 'x' parameter ..."), 2, ["'x'"]),
        (lambda t: ContractError("payroll.csv: ..."), 2, ["payroll.csv"]),
        (lambda t: ModelNotFoundError("Model 'm' not found"), 1, ["'m'"]),
        (lambda t: IllegalTransitionError("closed -> new"), 2, ["closed -> new"]),
        (lambda t: AnxinError("generic"), 1, ["generic"]),
        (
            lambda t: PermissionError(13, "Permission denied", "/srv/data"),
            1,
            ["permission denied: /srv/data", "Let the user running anxin"],
        ),
        (
            lambda t: OSError(errno.ENOSPC, "No space left on device", "/out/x"),
            1,
            ["no space left on device: /out/x", "Free some space"],
        ),
        (
            lambda t: OSError(errno.EROFS, "Read-only file system", "/mnt/ro"),
            1,
            ["read-only file system: /mnt/ro", "remount"],
        ),
        (
            lambda t: OSError(errno.ENODEV, "No such device", "/mnt/gone"),
            1,
            ["no such device: /mnt/gone", "mounted"],
        ),
        (
            lambda t: OSError(
                errno.EXDEV, "Invalid cross-device link", "/a", None, "/b"
            ),
            1,
            ["invalid cross-device link: /a -> /b"],
        ),
        (lambda t: ConnectionError("The server x does not answer."), 1, ["answer"]),
        (
            lambda t: _unreachable_postgres(),
            1,
            ["database postgresql+psycopg://anxin:***@127.0.0.1:", "unreachable"],
        ),
        (lambda t: _missing_sqlite(t), 1, ["no/such/dir/cases.db", "unreachable"]),
        (
            lambda t: _raised(lambda: sa.create_engine("notaurl://x")),
            2,
            ["bad database URL", "notaurl"],
        ),
        (
            lambda t: MlflowException("API request to http://h/api failed"),
            1,
            ["MLflow tracking store failed", "http://h/api", "--tracking-uri"],
        ),
        (
            lambda t: MlflowException(
                "Invalid model name 'a/b'", error_code=INVALID_PARAMETER_VALUE
            ),
            2,
            ["MLflow refused a value", "a/b"],
        ),
        (lambda t: MemoryError(), 1, ["out of memory"]),
        (lambda t: KeyboardInterrupt(), 130, ["interrupted"]),
        (
            lambda t: KeyError("features"),
            1,
            ["internal error (KeyError): 'features'", "--debug"],
        ),
        (
            lambda t: ZeroDivisionError("division by zero\nsecond line"),
            1,
            ["internal error (ZeroDivisionError): division by zero.", "bug"],
        ),
    ],
)
def test_each_failure_has_its_code_and_one_line(
    make: object, code: int, parts: list[str], tmp_path: Path
) -> None:
    failure = describe(make(tmp_path))  # type: ignore[operator]
    assert failure.code == code
    for part in parts:
        assert part in failure.message
    assert "\n" not in failure.message
    assert "s3cret" not in failure.message


def test_messages_are_printable_and_keep_no_password() -> None:
    exc = ConnectionError("postgresql://u:pw@h/db bad\x00 \udcff")
    message = describe(exc).message
    assert message == "postgresql://u:***@h/db bad\\x00 \\udcff"
    message.encode("utf-8")  # prints on any terminal


def test_cli_prints_the_mapped_line_and_returns_the_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import anxin.synthetic

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "w"))

    monkeypatch.setattr(anxin.synthetic, "synth", disk_full)
    assert main(["synth", str(tmp_path / "w"), "-n", "20", "-m", "3"]) == 1
    out, err = capsys.readouterr()
    assert err.strip() == (
        f"error: no space left on device: {tmp_path / 'w'}. Free some space, or "
        "write somewhere else."
    )
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (KeyboardInterrupt(), 130, "error: interrupted"),
        (ZeroDivisionError("boom"), 1, "error: internal error (ZeroDivisionError)"),
    ],
)
def test_interrupts_and_bugs_through_the_cli(
    exc: BaseException,
    code: int,
    line: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import anxin.synthetic

    def fail(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(anxin.synthetic, "synth", fail)
    assert main(["synth", str(tmp_path / "w"), "-n", "20", "-m", "3"]) == code
    out, err = capsys.readouterr()
    assert err.startswith(line) and err.count("\n") == 1
    assert "Traceback" not in out + err


def test_debug_raises_so_the_traceback_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InvalidParameterError, match="--enterprises"):
        main(["--debug", "synth", str(tmp_path / "w"), "-n", "-1"])
    import anxin.synthetic

    def bug(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(anxin.synthetic, "synth", bug)
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "synth", str(tmp_path / "w"), "-n", "20", "-m", "3"])


def test_debug_shows_the_traceback_in_a_real_process(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "anxin", "synth", str(tmp_path / "w"), "-n", "-1"]
    quiet = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert quiet.returncode == 2
    assert "Traceback" not in quiet.stderr
    assert quiet.stderr.startswith("error: The '--enterprises' option")
    cmd.insert(3, "--debug")
    loud = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert loud.returncode == 1  # Python's own exit code for an uncaught error
    assert "Traceback (most recent call last)" in loud.stderr
    assert "InvalidParameterError: The '--enterprises' option" in loud.stderr


def test_rich_markup_in_a_value_is_printed_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["score", str(tmp_path), "--out", str(tmp_path / "o"), "--as-of", "[/red]"]
    assert main(argv) == 2
    assert "Got '[/red]' instead" in capsys.readouterr().err
