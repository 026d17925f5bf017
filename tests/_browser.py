"""Headless Chromium for tests and screenshots, driven from the standard library.

Chromium comes from the distribution's packages (``apt-get install -y
chromium`` on Debian); nothing is downloaded. :class:`Chromium` starts it
with ``--remote-debugging-pipe`` and speaks the DevTools protocol over that
pipe (NUL-terminated JSON on file descriptors 3 and 4), so no websocket
library and no port are needed: open a page, wait for text to appear, read
the page's text, click, take a screenshot.

:func:`chromium_or_skip` gives the binary, or skips the test saying why --
unless ``ANXIN_REQUIRE_CHROMIUM=1`` (set by ``.ci/run``), where a missing
browser fails the test.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The flags this machine's probe found to work headless, as root, offline.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    """The Chromium binary (``ANXIN_CHROMIUM``, else the first on PATH)."""
    explicit = os.environ.get("ANXIN_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else shutil.which(explicit)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_or_skip() -> str:
    """The binary; skip the test when there is none (fail when required)."""
    import pytest

    found = find_chromium()
    if found:
        return found
    reason = (
        "headless Chromium not found (apt-get install -y chromium, or set "
        "ANXIN_CHROMIUM); the MLflow UI test needs a browser"
    )
    if os.environ.get("ANXIN_REQUIRE_CHROMIUM") == "1":
        pytest.fail(f"ANXIN_REQUIRE_CHROMIUM=1 but {reason}")
    pytest.skip(reason)


class BrowserError(RuntimeError):
    """Chromium answered with an error or went away."""


class Chromium:
    """One headless Chromium with one page; use as a context manager.

    Parameters
    ----------
    binary : str
        The Chromium executable.
    size : tuple of int
        The page's width and height in CSS pixels.
    local_storage : dict, optional
        Set in every page's ``localStorage`` before its scripts run (for
        UI preferences).
    """

    def __init__(
        self,
        binary: str,
        *,
        size: tuple[int, int] = (1600, 1000),
        local_storage: dict[str, str] | None = None,
    ) -> None:
        self.binary, self.size = binary, size
        self.local_storage = local_storage or {}
        self._id = 0
        self._buffer = b""
        self._profile = tempfile.mkdtemp(prefix="anxin-chromium-")
        self._process: subprocess.Popen[bytes] | None = None

    # -- the pipe ---------------------------------------------------------------

    def __enter__(self) -> Chromium:
        to_browser, self._writer = _pipe()
        self._reader, from_browser = _pipe()

        def wire() -> None:  # in the child: the pipe ends on fds 3 and 4
            inbound, outbound = os.dup(to_browser), os.dup(from_browser)
            os.dup2(inbound, 3)
            os.dup2(outbound, 4)

        self._process = subprocess.Popen(
            [
                self.binary,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                f"--window-size={self.size[0]},{self.size[1]}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire,  # only dup2, before exec
            start_new_session=True,
        )
        os.close(to_browser)
        os.close(from_browser)
        target = self._send("Target.createTarget", {"url": "about:blank"})
        self._session = self._send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )["sessionId"]
        self.call("Page.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": self.size[0],
                "height": self.size[1],
                "deviceScaleFactor": 1,
                "mobile": False,
            },
        )
        if self.local_storage:
            script = "".join(
                f"localStorage.setItem({json.dumps(k)}, {json.dumps(v)});"
                for k, v in self.local_storage.items()
            )
            self.call(
                "Page.addScriptToEvaluateOnNewDocument",
                {"source": f"try {{ {script} }} catch (e) {{}}"},
            )
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self._send("Browser.close", timeout=5)
        if self._process is not None:
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, 9)
                self._process.wait(timeout=10)
        for fd in (self._writer, self._reader):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def _send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: str | None = None,
        timeout: float = 60,
    ) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {
            "id": self._id,
            "method": method,
            "params": params or {},
        }
        if session:
            message["sessionId"] = session
        try:
            os.write(self._writer, json.dumps(message).encode() + b"\0")
        except OSError as exc:
            raise BrowserError(f"Chromium went away ({exc})") from exc
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self._buffer:
                if time.monotonic() > deadline:
                    raise BrowserError(f"no answer to {method} in {timeout:.0f}s")
                chunk = os.read(self._reader, 1 << 16)
                if not chunk:
                    raise BrowserError("Chromium closed the pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A DevTools command on the page."""
        return self._send(method, params, session=self._session)

    # -- what tests and screenshots need ----------------------------------------

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        answer = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in answer:
            raise BrowserError(str(answer["exceptionDetails"]))
        return answer.get("result", {}).get("value")

    def open(self, url: str) -> None:
        """Navigate to ``url``."""
        self.call("Page.navigate", {"url": url})

    def text(self) -> str:
        """The page's visible text."""
        return str(self.evaluate("document.body ? document.body.innerText : ''"))

    def url(self) -> str:
        return str(self.evaluate("location.href"))

    def wait_for(
        self, texts: Sequence[str], *, timeout: float = 60, settle: float = 1.0
    ) -> str:
        """Wait until every one of ``texts`` shows on the page; its text.

        Raises
        ------
        BrowserError
            After ``timeout`` seconds, with what the page showed.
        """
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if all(t in text for t in texts):
                time.sleep(settle)  # let charts and late rows render
                return self.text()
            time.sleep(0.3)
        missing = [t for t in texts if t not in text]
        raise BrowserError(
            f"{missing} not on {self.url()} after {timeout:.0f}s; the page "
            f"showed:\n{text[:2000]}"
        )

    def click(self, text: str, selector: str = "button, a, [role=button]") -> bool:
        """Click the first element matching ``selector`` whose text is
        ``text``; whether there was one."""
        script = (
            f"(() => {{ const el = Array.from(document.querySelectorAll("
            f"{json.dumps(selector)})).find(e => e.innerText.trim() === "
            f"{json.dumps(text)}); if (el) {{ el.click(); return true; }} "
            "return false; })()"
        )
        return bool(self.evaluate(script))

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        """A PNG of the page (of all of it when ``full_page``)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            height = int(self.evaluate("document.documentElement.scrollHeight"))
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": self.size[0],
                "height": max(height, self.size[1]),
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


def _pipe() -> tuple[int, int]:
    read, write = os.pipe()
    return read, write
