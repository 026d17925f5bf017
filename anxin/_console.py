"""The command line's consoles and tables, shared by every command module.

One stdout console (``-q`` silences it) and one stderr console for errors, so
that the main app and the case commands print through the same objects.

Schedulers and CI read the output from a pipe or a log file, not a terminal:
there the console is wide (160 columns, or ``COLUMNS``) and table cells wrap
instead of being cut short with "…", so a log holds every figure and reason.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import rich.table
from rich.console import Console

__all__ = ["Table", "console", "err_console"]

#: Width when the output is not a terminal (a pipe, a log file).
LOG_WIDTH = 160


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    width = None if is_tty or os.environ.get("COLUMNS") else LOG_WIDTH
    return Console(stderr=stderr, width=width)


console = _console(stderr=False)
err_console = _console(stderr=True)


class Table(rich.table.Table):
    """A rich table whose cells wrap rather than being cut with "…"."""

    def add_column(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("overflow", "fold")
        super().add_column(*args, **kwargs)
