"""How ``--help`` reads: ``-h`` as well, and switches without a value type.

Every ``anxin`` group (the app and ``anxin cases``) is a :class:`HelpGroup`
with :data:`HELP_SETTINGS`. typer's help shows a value type beside every
option, ``<bool>`` even beside a switch that takes no value (``--dirty``,
``--no-register``, ``-v``, ``--help``); the group clears it for switches,
so only options that take a value show one (``--horizon <int>``).

Help texts are Rich markup: write a literal bracket as ``\\[`` (``pip install
'anxin\\[tune]'``), or Rich takes ``[tune]`` for a style and drops it.
:mod:`anxin._clidoc` removes the backslash for ``docs/cli.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from typer.core import TyperGroup, TyperOption

__all__ = ["HELP_SETTINGS", "HelpGroup", "unescape"]

#: ``-h`` is help everywhere, as in most command lines.
HELP_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}


def _untyped_switches(params: Iterable[Any]) -> None:
    for param in params:
        switch = isinstance(param, TyperOption) and (param.is_flag or param.count)
        if switch and param.metavar is None:
            param.metavar = ""  # typer shows the metavar, when set, as the type


def unescape(text: str) -> str:
    """Help text as read (``anxin[tune]``), without Rich's escapes."""
    return text.replace("\\[", "[")


class HelpGroup(TyperGroup):
    """A command group whose help, and its commands' help, show switches
    without a value type."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _untyped_switches(params)
        return params

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None and not isinstance(command, HelpGroup):
            # the help option is made once per command and kept
            _untyped_switches([*command.params, command.get_help_option(ctx)])
        return command
