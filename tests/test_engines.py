"""The engines of ``anxin score``: usage errors before any data are read.

The Spark engine's results through the command line are tested against the
local engine's in tests/spark/test_engines.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from anxin._engines import ENGINES, scorer
from anxin.cli import main
from anxin.exceptions import InvalidParameterError
from anxin.scoring import score_month


def test_local_is_the_default_engine_and_is_score_month() -> None:
    assert ENGINES[0] == "local"
    assert scorer("local") is score_month


def test_spark_without_pyspark_names_the_extra(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if not installed
    with pytest.raises(InvalidParameterError, match=r"pip install 'anxin\[spark\]'"):
        scorer("spark")
    out = tmp_path / "out"
    code = main(["score", str(tmp_path), "--out", str(out), "--engine", "spark"])
    assert code == 2
    err = capsys.readouterr().err
    assert "pip install 'anxin[spark]'" in err and "Traceback" not in err
    assert not out.exists()  # nothing was read or written


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--engine", "gpu"], "'--engine' option of anxin score must be one of"),
        (["--spark-master", "local[2]"], "--spark-master applies to --engine spark"),
    ],
)
def test_engine_options_are_checked_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code = main(["score", str(tmp_path), "--out", str(tmp_path / "o"), *extra])
    assert code == 2
    assert message in capsys.readouterr().err
