"""``anxin demo``: the whole chain on a synthetic world, on this machine."""

from __future__ import annotations

import logging
import shutil
import sys
import time
from pathlib import Path

from rich.console import Console

from anxin.config import get_config

__all__ = ["next_steps", "run_demo"]

logger = logging.getLogger(__name__)


def run_demo(
    console: Console,
    *,
    workdir: str | Path = "anxin-demo",
    n_enterprises: int = 20_000,
    n_months: int = 48,
    seed: int = 0,
    tracking_uri: str | None = None,
    top: int = 10,
) -> dict[str, object]:
    """Synthetic world -> validate -> train -> register -> score -> explain -> cases.

    Returns a dict with the train result, the score result and the case
    store's opening result (for tests and notebooks).
    """
    from anxin import _render
    from anxin.cases import CaseStore
    from anxin.scoring import score_month
    from anxin.synthetic import synth
    from anxin.tables import load_tables
    from anxin.training import train
    from anxin.validation import validate

    root = Path(workdir)
    data_dir = root / "data"
    t0 = time.perf_counter()
    console.rule("[bold]安薪云 anxin demo[/bold]")
    with console.status(
        f"1/6 synthetic world: {n_enterprises:,d} enterprises x {n_months} months"
    ):
        world = synth(n_enterprises, n_months, seed=seed)
        world.write(data_dir)
    console.print(f"1/6 synthetic world written to {data_dir}")
    with console.status("2/6 validating against the data contract"):
        report = validate(load_tables(data_dir))
    console.print("2/6 validated")
    _render.validation(console, report)
    with console.status("3/6 features, training, evaluation, MLflow registry"):
        result = train(report.tables, seed=seed, tracking_uri=tracking_uri)
    console.print("3/6 trained and registered")
    _render.training(console, result)
    with console.status("4/6 scoring and explaining the latest month"):
        scored = score_month(
            data_dir,
            root / "scores",
            model=f"models:/{result.model_name}@champion",
            tracking_uri=tracking_uri,
        )
    console.print("4/6 scored")
    _render.scoring(console, scored, top)
    with console.status("5/6 opening cases for the warnings"):
        store = CaseStore()
        opened = store.open_from_scores(scored.scores)
        queue = store.list(status="new")
        store.close()
    console.print(
        f"5/6 cases: {opened.opened} opened, {opened.escalated} escalated, "
        f"{opened.unchanged} unchanged (store {get_config().cases_url})"
    )
    _render.case_queue(console, queue, top)
    console.print(f"6/6 done in {time.perf_counter() - t0:.0f}s.")
    for line in next_steps(tracking_uri or get_config().tracking_uri):
        console.print(line, markup=False, highlight=False)
    return {"train": result, "score": scored, "cases": opened}


def _program(name: str) -> str:
    """How to call ``name`` from here: on PATH, or from this environment."""
    beside = Path(sys.executable).parent / name
    found = shutil.which(name)
    if found and Path(found).resolve() == beside.resolve():
        return name
    try:
        return str(beside.relative_to(Path.cwd()))
    except ValueError:
        return str(beside)


def next_steps(tracking_uri: str) -> list[str]:
    """The demo's closing lines: commands that work as printed, from here."""
    anxin_cmd, mlflow_cmd = _program("anxin"), _program("mlflow")
    return [
        "Next / 下一步:",
        "  Open the MLflow UI on the local store (runs, models, aliases):",
        f"    {mlflow_cmd} ui --backend-store-uri {tracking_uri} --port 5000",
        "    (or `make ui` in the project's directory), then browse "
        "http://127.0.0.1:5000",
        "  Work the case queue:",
        f"    {anxin_cmd} cases list",
    ]
