"""The command line's consoles, shared by every command module.

One stdout console (``-q`` silences it) and one stderr console for errors, so
that the main app and the case commands print through the same objects.
"""

from __future__ import annotations

from rich.console import Console

__all__ = ["console", "err_console"]

console = Console()
err_console = Console(stderr=True)
