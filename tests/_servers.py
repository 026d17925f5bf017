"""Real servers for tests: a free port, a subprocess, health checks, cleanup.

:func:`running_server` starts a command (``mlflow server``, ``mlflow ui``,
``mlflow models serve``) in its own process group on a free localhost port,
waits until its health endpoint answers, and always stops the whole group
afterwards -- MLflow servers fork uvicorn workers (and, unless disabled, job
runners), so killing only the parent would leave them behind. The server's
output goes to a log file; :meth:`Server.tail` shows it in assertion messages,
and the tail is printed at teardown, where pytest shows it for failed tests.

:func:`http` is a small JSON-over-HTTP client on the standard library, so the
tests need nothing beyond what anxin already installs; :func:`raw_http` sends
hand-made requests (a header promising more than is sent, a body in chunks)
over a plain socket.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from http.client import HTTPResponse
from pathlib import Path
from typing import Any

#: Directory of the running interpreter's scripts (``.venv/bin``): ``mlflow``
#: lives here, and MLflow's servers ``exec uvicorn`` from ``PATH``.
BIN = Path(sys.executable).parent
MLFLOW = str(BIN / "mlflow")

#: Environment for every server: the venv first on PATH, no progress bars,
#: and no background job runner (MLflow 3 starts several Huey consumers per
#: server by default; the tests need none of them).
BASE_ENV = {
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    "PYTHONUNBUFFERED": "1",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class Response:
    """An HTTP answer: status, content type and body text."""

    status: int
    content_type: str
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def http(
    method: str,
    url: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    content_type: str = "application/json",
    timeout: float = 120,
) -> Response:
    """Send a request; 4xx/5xx answers are returned, not raised.

    ``body`` is sent as JSON (NaN is refused: JSON has none); ``raw`` is sent
    as is.
    """
    data = raw
    if body is not None:
        data = json.dumps(body, allow_nan=False, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": content_type} if data is not None else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Response(
                answer.status,
                answer.headers.get("Content-Type", ""),
                answer.read().decode("utf-8"),
            )
    except urllib.error.HTTPError as error:
        return Response(
            error.code,
            error.headers.get("Content-Type", ""),
            error.read().decode("utf-8", errors="replace"),
        )


def raw_http(
    port: int, head: bytes, chunks: Iterable[bytes] = (), *, timeout: float = 60
) -> Response:
    """Send ``head`` (request line and headers) and then ``chunks`` as they are,
    stopping early if the server closes; return its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = HTTPResponse(sock)
        answer.begin()
        return Response(
            answer.status,
            answer.getheader("Content-Type", ""),
            answer.read().decode("utf-8", errors="replace"),
        )


@dataclasses.dataclass
class Server:
    """A server process started by :func:`running_server`."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, lines: int = 60) -> str:
        """The last lines of the server's log, for assertion messages."""
        try:
            text = self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return f"[{self.name}: no log at {self.log_path}]"
        last = "\n".join(text.splitlines()[-lines:])
        return f"--- {self.name} log ({self.log_path}), last {lines} lines ---\n{last}"

    def get(self, path: str, **kwargs: Any) -> Response:
        return http("GET", self.url + path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return http("POST", self.url + path, body, **kwargs)


def _group_alive(pgid: int) -> bool:
    """Whether any non-zombie process of group ``pgid`` is left."""
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - not Linux
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def stop(server: Server, *, grace: float = 15.0) -> None:
    """Terminate the server's whole process group; SIGKILL what lingers."""
    pgid = server.process.pid  # start_new_session: the leader's pid is the pgid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if server.process.poll() is not None and not _group_alive(pgid):
            break
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=10)


def _wait_healthy(server: Server, health: str, timeout: float) -> str | None:
    """``None`` once ``health`` answers 200; otherwise why not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = server.process.poll()
        if code is not None:
            return f"exited with code {code} before becoming healthy"
        try:
            with urllib.request.urlopen(server.url + health, timeout=2) as answer:
                if answer.status == 200:
                    return None
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.3)
    return f"not healthy at {health} after {timeout:.0f}s"


@contextlib.contextmanager
def running_server(
    name: str,
    command: Callable[[int], list[str]],
    *,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    health: str = "/health",
    timeout: float = 180.0,
    attempts: int = 3,
) -> Iterator[Server]:
    """Start ``command(port)`` on a free port, yield it once healthy, stop it.

    Parameters
    ----------
    name : str
        For log file names and messages.
    command : callable
        Port -> argv.
    log_dir : Path
        Where ``<name>-<port>.log`` goes.
    env : mapping, optional
        Extra environment variables (on top of :data:`BASE_ENV`).
    health : str
        Path answering 200 when the server is ready.
    timeout : float
        Seconds to wait for health.
    attempts : int
        Tries with a new port when a start fails because the port was taken
        between :func:`free_port` and the bind.

    Raises
    ------
    RuntimeError
        If the server does not become healthy; the message holds its log.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **BASE_ENV, **(env or {})}
    server: Server | None = None
    try:
        for attempt in range(1, attempts + 1):
            port = free_port()
            log_path = log_dir / f"{name}-{port}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    command(port),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=full_env,
                    start_new_session=True,
                )
            server = Server(name, port, process, log_path)
            problem = _wait_healthy(server, health, timeout)
            if problem is None:
                break
            stop(server)
            taken = "address already in use" in server.tail(200).lower()
            if not (taken and attempt < attempts):
                raise RuntimeError(f"{name} {problem}.\n{server.tail()}")
        assert server is not None
        yield server
    finally:
        if server is not None:
            stop(server)
            print(server.tail())  # shown by pytest when the test failed
