"""One writer per month: an exclusive lock file beside the month's output.

:func:`month_lock` holds ``OUT_DIR/.as_of=YYYY-MM.lock`` while a run of that
month works; a second run of the same month waits for it (up to a timeout) or
raises :class:`~anxin.exceptions.LockTimeoutError` naming the holder. Other
months have their own files and never wait for each other.

How it holds:

* **POSIX (Linux, macOS, BSD)**: ``fcntl.flock`` on the open file. The kernel
  drops the lock when the holder's process ends in any way (``kill -9``
  included), so a lock is never stale; the file is only a place to lock and a
  note of the holder (pid, host, start time), which is read for messages and
  never trusted for the decision.
* **Windows**: ``msvcrt.locking`` on the file's first byte (released by the
  system when the process ends); the holder's note sits after that byte. Not
  covered by the test suite.

The holder removes the file before it lets go. A waiter that then gets the
lock on the removed file notices (its descriptor no longer names the path)
and tries again on the new one, so two runs never both hold "the" lock. On a
network file system the lock is as good as the file system's own locking
(NFSv4 honours it across machines; some FUSE and SMB mounts do not).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from anxin.exceptions import LockTimeoutError

__all__ = ["Holder", "lock_path", "month_lock", "read_holder"]

logger = logging.getLogger(__name__)

#: Longest pause between two tries while waiting, in seconds.
MAX_POLL = 0.5


@dataclasses.dataclass(frozen=True)
class Holder:
    """Who holds a lock, as its note says (any field may be unknown)."""

    pid: int | None = None
    host: str | None = None
    since: str | None = None

    def describe(self) -> str:
        """``pid 4242 on host worker-1 since 2026-07-05T06:00:01+08:00``."""
        if self.pid is None and self.host is None:
            return "a run that has not written its note yet"
        return f"pid {self.pid} on host {self.host} since {self.since}"


def lock_path(out_dir: str | Path, as_of: str) -> Path:
    """``OUT_DIR/.as_of=YYYY-MM.lock`` (hidden, like the work in progress)."""
    return Path(out_dir) / f".as_of={as_of}.lock"


def read_holder(path: str | Path) -> Holder:
    """The note in a lock file; empty when missing or unreadable."""
    try:
        with open(path, "rb") as fh:
            fh.seek(1)  # byte 0 is the Windows lock byte
            note = json.loads(fh.read().decode("utf-8"))
        return Holder(
            pid=int(note["pid"]), host=str(note["host"]), since=str(note["since"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return Holder()


if sys.platform == "win32":  # pragma: no cover - not run by the test suite
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _open_and_lock(path: Path) -> int | None:
    """A descriptor of ``path`` holding its lock, or ``None`` if it is taken."""
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the directory went away in between
            continue
        if not _try_lock(fd):
            os.close(fd)
            return None
        try:  # the previous holder may have removed the file we locked
            current = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            current = False
        if current:
            return fd
        _unlock(fd)
        os.close(fd)


def _write_note(fd: int, as_of: str) -> None:
    """Pid, host and start time after byte 0 (the Windows lock byte)."""
    note = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "as_of": as_of,
    }
    data = b"\n" + json.dumps(note).encode("utf-8") + b"\n"
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    os.ftruncate(fd, len(data))


def _give_up(path: Path, as_of: str, timeout: float) -> LockTimeoutError:
    holder = read_holder(path)
    waited = "without waiting" if timeout == 0 else f"after waiting {timeout:g} s"
    return LockTimeoutError(
        f"as_of={as_of} in {path.parent} is being written by another run: "
        f"{holder.describe()}. Gave up {waited} (lock_timeout={timeout:g}). "
        "Let that run finish, or allow a longer wait (--lock-timeout SECONDS; "
        f"leave it out to wait as long as it takes). Lock file: {path}",
        path=str(path),
        as_of=as_of,
        pid=holder.pid,
        host=holder.host,
        since=holder.since,
    )


def _acquire(path: Path, as_of: str, timeout: float | None) -> int:
    """Lock ``path``, waiting up to ``timeout`` seconds (``None``: no limit)."""
    start = time.monotonic()
    pause = 0.02
    announced = False
    while True:
        fd = _open_and_lock(path)
        if fd is not None:
            if announced:
                logger.warning(
                    "got the lock of as_of=%s after %.1f s",
                    as_of,
                    time.monotonic() - start,
                )
            return fd
        left = None if timeout is None else timeout - (time.monotonic() - start)
        if left is not None and left <= 0:
            raise _give_up(path, as_of, timeout or 0.0)
        if not announced:
            logger.warning(
                "as_of=%s in %s is being written by %s: waiting%s",
                as_of,
                path.parent,
                read_holder(path).describe(),
                "" if timeout is None else f" up to {timeout:g} s",
            )
            announced = True
        time.sleep(pause if left is None else min(pause, left))
        pause = min(pause * 2, MAX_POLL)


@contextlib.contextmanager
def month_lock(
    out_dir: str | Path, as_of: str, *, timeout: float | None = None
) -> Iterator[Path]:
    """Hold the lock of month ``as_of`` under ``out_dir`` for the block.

    Parameters
    ----------
    out_dir : str or Path
        Output root (created if needed; removed again on release if this call
        created it and it is still empty).
    as_of : str
        The month, ``YYYY-MM``.
    timeout : float, optional
        Seconds to wait for another holder; ``None`` waits as long as it
        takes, ``0`` does not wait.

    Yields
    ------
    Path
        The lock file.

    Raises
    ------
    LockTimeoutError
        If another process still holds the lock after ``timeout`` seconds.
    """
    root = Path(out_dir)
    made_root = not root.exists()
    path = lock_path(root, as_of)
    fd = _acquire(path, as_of, timeout)
    try:
        _write_note(fd, as_of)
        yield path
    finally:
        with contextlib.suppress(OSError):  # Windows cannot remove an open file
            path.unlink()
        _unlock(fd)
        os.close(fd)
        if made_root:
            with contextlib.suppress(OSError):  # not empty: keep it
                root.rmdir()
