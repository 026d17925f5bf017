"""What ``anxin validate|train|score --json`` print: one JSON document on stdout.

The human output (tables, progress lines) is for people; ``--json`` is for
schedulers and scripts. While a command works under :func:`people_to_stderr`
everything meant for people goes to stderr, so stdout holds the document and
nothing else. The documents hold the key facts of the result (counts,
quarantine, metrics, MLflow run and model version, output paths, the drift
verdict); the files the commands write hold the rest. Values are plain JSON:
NaN and infinities are ``null``, paths are strings.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

__all__ = [
    "emit",
    "people_to_stderr",
    "scoring_facts",
    "training_facts",
    "validation_facts",
]


@contextlib.contextmanager
def people_to_stderr(as_json: bool) -> Iterator[None]:
    """With ``as_json``, send stdout's writers (the console, ``print``) to stderr."""
    if not as_json:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):  # the console writes to sys.stdout
        yield


def _plain(value: Any) -> Any:
    """``value`` as JSON can hold it (numpy scalars, NaN, paths, tuples)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy and pandas scalars
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def emit(facts: dict[str, Any]) -> None:
    """Print ``facts`` as one line of JSON on stdout (UTF-8, not escaped), as
    ``anxin cases list --json`` does: a log of runs is JSON Lines."""
    typer.echo(json.dumps(_plain(facts), ensure_ascii=False))


def validation_facts(
    report: Any, report_path: Path | None, quarantine_dir: Path | None
) -> dict[str, Any]:
    """Row counts, quarantine by table and rule, and the files written."""
    return {
        "usable": True,  # a broken contract exits 2 before any output
        "rows_quarantined_total": report.n_quarantined,
        **report.summary(),
        "report": report_path,
        "quarantine_dir": quarantine_dir,
    }


def training_facts(result: Any) -> dict[str, Any]:
    """Splits, metrics against the baselines, the MLflow run and model version."""
    splits = result.splits
    return {
        "run_id": result.run_id,
        "run_name": result.run_name,
        "model_name": result.model_name,
        "model_version": result.model_version,
        "model_uri": result.model_uri,
        "aliases": result.aliases,
        "splits": {
            "train": splits.train,
            "valid": splits.valid,
            "test": splits.test,
            "horizon": splits.horizon,
        },
        "periods": result.periods,
        "best_iteration": result.best_iteration,
        "metrics": result.metrics,
        "test": {
            model: {k: _count(k, v) for k, v in row.items()}
            for model, row in result.comparison.to_dict("index").items()
        },
    }


def _count(key: str, value: Any) -> Any:
    """Counts as whole numbers (the comparison table holds them as floats)."""
    if key in ("rows", "positives") and isinstance(value, float) and value == value:
        return int(value)
    return value


def scoring_facts(result: Any) -> dict[str, Any]:
    """``summary.json`` with the output directory, its files and the MLflow run.

    A directory is listed as a file is, with a trailing ``/``: the Spark
    engine writes ``scores.parquet/`` (partitioned by region), both engines
    ``quarantine/`` when rows were quarantined.
    """
    files = sorted(
        p.name + ("/" if p.is_dir() else "") for p in Path(result.out_dir).iterdir()
    )
    return {
        **result.summary,
        "out_dir": result.out_dir,
        "files": files,
        "run_id": result.run_id,
    }
