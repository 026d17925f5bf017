"""``python -m anxin``."""

from anxin.cli import run

run()
