"""Regenerate the generated docs: ``python -m anxin._docs`` (or ``make docs``).

``docs/data-contract.md`` comes from the pandera models, ``docs/features.md``
from the feature catalogue and ``docs/cli.md`` from the typer app; tests fail
when a committed file differs from what this writes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["GENERATED", "write_all"]


def _contract() -> str:
    from anxin.schemas import contract_markdown

    return contract_markdown()


def _features() -> str:
    from anxin.features import features_markdown

    return features_markdown()


def _cli() -> str:
    from anxin._clidoc import cli_markdown

    return cli_markdown()


#: File under docs/ -> function rendering it.
GENERATED: dict[str, Callable[[], str]] = {
    "data-contract.md": _contract,
    "features.md": _features,
    "cli.md": _cli,
}


def write_all(docs: str | Path = "docs") -> list[Path]:
    """Write every generated page into ``docs``."""
    out = []
    for name, render in GENERATED.items():
        path = Path(docs) / name
        path.write_text(render(), encoding="utf-8")
        out.append(path)
    return out


if __name__ == "__main__":  # pragma: no cover
    for written in write_all():
        print(written)
