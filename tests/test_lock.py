"""One writer per month: the month lock between real processes.

A helper process takes the lock of a month (and, like a scoring run in its
write step, makes a work directory) and keeps it until told to let go or
killed; the tests then try the same month, another month, and ``recover``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import anxin
from anxin._lock import lock_path, month_lock, read_holder
from anxin.scoring import recover, score_month

AS_OF = "2026-06"

_HOLDER = """
import os, sys, time
from pathlib import Path
from anxin._lock import month_lock
out, as_of, ready, release = sys.argv[1:5]
with month_lock(out, as_of, timeout=0):
    (Path(out) / f".as_of={as_of}.tmp-live").mkdir()
    Path(ready).write_text("holding")
    deadline = time.monotonic() + 120
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.02)
"""


class Holder:
    """A process holding a month's lock until :meth:`release` or :meth:`kill`."""

    def __init__(self, out: Path, as_of: str, tmp: Path) -> None:
        stamp = time.monotonic_ns()
        self.ready = tmp / f"ready-{stamp}"
        self.release_file = tmp / f"release-{stamp}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _HOLDER,
                str(out),
                as_of,
                str(self.ready),
                str(self.release_file),
            ],
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not self.ready.exists():
            assert self.proc.poll() is None, "the holder ended before locking"
            assert time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.02)

    def release(self) -> int:
        self.release_file.write_text("go")
        return self.proc.wait(timeout=60)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Holder]:
    held = Holder(tmp_path / "out", AS_OF, tmp_path)
    yield held
    if held.proc.poll() is None:
        held.kill()


def test_a_second_run_without_waiting_names_the_holder(
    holder: Holder, tmp_path: Path
) -> None:
    with (
        pytest.raises(anxin.LockTimeoutError) as caught,
        month_lock(tmp_path / "out", AS_OF, timeout=0),
    ):
        pytest.fail("two holders of one month")
    err = caught.value
    assert err.exit_code == 1
    assert isinstance(err, TimeoutError)
    assert (err.pid, err.host) == (holder.proc.pid, socket.gethostname())
    assert err.since and err.since[:4].isdigit()
    message = str(err)
    for part in (f"pid {holder.proc.pid}", f"host {err.host}", f"since {err.since}"):
        assert part in message
    assert "--lock-timeout" in message and "as_of=2026-06" in message
    assert holder.release() == 0  # the holder never noticed


def test_a_second_run_waits_and_then_gets_the_lock(
    holder: Holder, tmp_path: Path
) -> None:
    threading.Timer(0.5, holder.release_file.write_text, ["go"]).start()
    start = time.monotonic()
    with month_lock(tmp_path / "out", AS_OF, timeout=60) as path:
        waited = time.monotonic() - start
        assert read_holder(path).pid == os.getpid()
    assert waited >= 0.4
    assert holder.proc.wait(timeout=60) == 0
    assert not lock_path(tmp_path / "out", AS_OF).exists()  # removed on release


def test_waiting_gives_up_after_the_timeout(holder: Holder, tmp_path: Path) -> None:
    start = time.monotonic()
    with (
        pytest.raises(anxin.LockTimeoutError, match=r"after waiting 0\.3 s"),
        month_lock(tmp_path / "out", AS_OF, timeout=0.3),
    ):
        pass
    assert 0.3 <= time.monotonic() - start < 5


def test_a_killed_holder_leaves_no_lock_behind(holder: Holder, tmp_path: Path) -> None:
    path = lock_path(tmp_path / "out", AS_OF)
    holder.kill()
    assert read_holder(path).pid == holder.proc.pid  # its note stays ...
    with month_lock(tmp_path / "out", AS_OF, timeout=0):  # ... but not its lock
        assert read_holder(path).pid == os.getpid()


def test_other_months_do_not_wait(holder: Holder, tmp_path: Path) -> None:
    with month_lock(tmp_path / "out", "2026-05", timeout=0):
        pass
    assert holder.proc.poll() is None


def test_recover_leaves_a_live_runs_work_alone(holder: Holder, tmp_path: Path) -> None:
    out = tmp_path / "out"
    work = out / f".as_of={AS_OF}.tmp-live"
    with pytest.raises(anxin.LockTimeoutError):
        recover(out, AS_OF, lock_timeout=0)
    assert work.is_dir()
    holder.kill()  # now the work is a dead run's leftover
    recover(out, AS_OF, lock_timeout=0)
    assert not work.exists()
    assert sorted(p.name for p in out.iterdir()) == []


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    inside: list[int] = []
    overlaps: list[int] = []

    def work(i: int) -> None:
        with month_lock(tmp_path / "out", AS_OF, timeout=60):
            inside.append(i)
            if len(inside) > 1:
                overlaps.append(i)
            time.sleep(0.05)
            inside.remove(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), True, "10"])
def test_lock_timeout_is_checked_before_any_work(bad: object, tmp_path: Path) -> None:
    with pytest.raises(anxin.InvalidParameterError, match="'lock_timeout'"):
        score_month(
            tmp_path / "data",
            tmp_path / "out",
            as_of=AS_OF,
            model=str(tmp_path / "no-model"),
            lock_timeout=bad,  # type: ignore[arg-type]
        )
    assert not (tmp_path / "out").exists()
