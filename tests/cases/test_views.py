"""Tests for anxin.cases.views: text from the store printed as text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from anxin.cases import CaseStore
from anxin.cases.views import level_text, plain, when
from anxin.cli import main

from .helpers import T0, make_scores


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("[/x] not markup", "[/x] not markup"),
        ("clear\x1b[2Jscreen", "clear\\x1b[2Jscreen"),
        ("over\rwrite", "over\\rwrite"),
        ("rtl\u202eevil", "rtl\\u202eevil"),
        ("not utf-8 \udcff", "not utf-8 \\udcff"),
        ("two\nlines\tand a tab", "two\nlines\tand a tab"),
        (None, "-"),
        (12, "12"),
    ],
)
def test_plain_shows_text_as_it_is_with_controls_escaped(
    value: object, shown: str
) -> None:
    assert plain(value).plain == shown


def test_levels_are_coloured_and_anything_else_is_plain() -> None:
    assert level_text("red").plain == "红 red"
    assert level_text("[bold]x").plain == "[bold]x"
    assert when(None) == "-"
    assert when(T0, short=True) == "06-05 09:00"


def test_hostile_text_in_the_store_is_shown_not_obeyed(
    tmp_path: Path, enterprises: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    """Values written behind anxin's back (or by an older release) that hold
    markup and escape sequences: list and show print them, escaped."""
    db = f"sqlite:///{tmp_path}/cases.db"
    with CaseStore(db) as store:
        store.open_from_scores(make_scores(enterprises, ["red"]), now=T0)
        store.move(1, "dispatched", by="[/red]派单员", note="[bold]见附件[/]", now=T0)
        with store.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE cases SET unit = :u, model_name = :m, grid = :g "
                    "WHERE id = 1"
                ),
                {"u": "[/x]单位\x1b[2J", "m": "[link=http://x]m[/link]", "g": "\x07"},
            )
    capsys.readouterr()
    assert main(["cases", "show", "1", "--db", db]) == 0
    assert main(["cases", "list", "--db", db]) == 0
    out = capsys.readouterr().out
    for text in ("[/red]派单员", "[bold]见附件[/]", "[/x]单位\\x1b[2J", "\\x07"):
        assert text in out
    assert "\x1b[2J" not in out
