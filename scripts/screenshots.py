"""Screenshots of the MLflow UI for docs/analysts.md (``make screenshots``).

Builds a demo store -- a seeded synthetic world, three trained versions of
``anxin-arrears`` (the defaults, isotonic calibration, 31 leaves) and a
promotion,
which logs a comparison run -- starts ``mlflow ui`` on it, and photographs
the pages an analyst uses with headless Chromium from the distribution's
packages (``apt-get install -y chromium``; nothing is downloaded). The PNGs
go to ``docs/img/analysts/``; run it again after a change to the UI or to
what anxin logs.

Usage: python scripts/screenshots.py [--out docs/img/analysts] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout; test helpers

from _browser import Chromium, find_chromium  # noqa: E402
from _servers import MLFLOW, running_server  # noqa: E402

import anxin  # noqa: E402
from anxin import _mlflow_ui, tracking  # noqa: E402

#: UI preferences of the screenshots' browser: MLflow's assistant panel
#: closed (it would take a third of every picture).
QUIET_UI = {
    "mlflow.assistant.panelOpen_v1": "false",
    "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": "true",
}
SIZE = (1440, 900)


def build_store(home: Path) -> dict[str, object]:
    """Train three versions and promote; what the pages need to find."""
    uri = f"sqlite:///{(home / 'mlflow.db').as_posix()}"
    with anxin.config_context(home=str(home), today="2026-11"):
        world = anxin.synth(3000, 36, seed=5)
        tables = anxin.validate(world.tables).tables
        runs = [
            anxin.train(tables, tracking_uri=uri),
            anxin.train(tables, tracking_uri=uri, calibration="isotonic"),
            anxin.train(tables, tracking_uri=uri, params={"num_leaves": 31}),
        ]
        decision = anxin.promote(tables, tracking_uri=uri)
    client = tracking.client(uri)
    experiment = client.get_run(str(runs[0].run_id)).info.experiment_id
    comparisons = client.get_experiment_by_name("anxin-comparisons").experiment_id
    return {
        "uri": uri,
        "runs": runs,
        "experiment": experiment,
        "comparisons": comparisons,
        "decision": decision,
    }


def shoot(page: Chromium, url: str, wait: list[str], path: Path) -> None:
    """Open ``url``, wait for ``wait`` to show, save the screenshot."""
    page.open(url)
    page.wait_for(wait, timeout=120, settle=2.5)
    page.screenshot(path)
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def screenshots(store: dict[str, object], base: str, out: Path, tmp: Path) -> None:
    """Every picture of docs/analysts.md."""
    runs = store["runs"]
    assert isinstance(runs, list)
    exp, cmp_exp = str(store["experiment"]), str(store["comparisons"])
    decision = store["decision"]
    assert isinstance(decision, anxin.PromotionDecision)
    first, last = runs[0], runs[-1]
    binary = find_chromium()
    if binary is None:
        raise SystemExit(
            "headless Chromium not found: apt-get install -y chromium (or set "
            "ANXIN_CHROMIUM to the binary)"
        )
    with Chromium(binary, size=SIZE, local_storage=QUIET_UI) as page:
        shoot(
            page,
            _mlflow_ui.experiment_link(exp, base),
            [str(last.run_name), "matching runs"],
            out / "runs-list.png",
        )
        shoot(
            page,
            _mlflow_ui.run_link(exp, str(last.run_id), base),
            ["vs rules", "Description"],
            out / "run-page.png",
        )
        # the runs' chart view, charts searched for the per-month series
        page.open(f"{_mlflow_ui.experiment_link(exp, base)}&compareRunsMode=CHART")
        page.wait_for(["Model metrics", "best_iteration"], timeout=120)
        page.evaluate(
            "document.querySelector('input[placeholder=\"Search metric charts\"]')"
            ".focus()"
        )
        page.call("Input.insertText", {"text": "by_month"})
        page.wait_for(["test_ap_by_month", "test_auc_by_month"], settle=3.0)
        page.screenshot(out / "runs-chart.png")
        print(out / "runs-chart.png")
        shoot(
            page,
            _mlflow_ui.run_link(
                exp, str(last.run_id), base, artifact="plots/calibration.png"
            ),
            ["calibration.png"],
            out / "run-calibration.png",
        )
        ids = json.dumps([str(r.run_id) for r in runs])
        shoot(
            page,
            f"{base}/#/compare-runs?runs={quote(ids)}&experiments="
            f"{quote(json.dumps([exp]))}&workflowType=machine_learning",
            [str(first.run_name), "test_ap"],
            out / "compare-runs.png",
        )
        shoot(
            page,
            _mlflow_ui.version_link("anxin-arrears", str(last.model_version), base),
            ["Training run", "Promotion"],
            out / "model-version.png",
        )
        shoot(
            page,
            _mlflow_ui.run_link(cmp_exp, str(decision.comparison_run_id), base),
            ["Decision", "recall at 5%"],
            out / "comparison-run.png",
        )
        report = Path(
            tracking.client(str(store["uri"])).download_artifacts(
                str(decision.comparison_run_id), "report.html", str(tmp)
            )
        )
        page.open(report.as_uri())
        page.wait_for(["Differences with confidence intervals"], settle=1.0)
        page.screenshot(out / "comparison-report.png")
        page.evaluate("document.querySelector('h2:last-of-type').scrollIntoView()")
        time.sleep(0.5)
        page.screenshot(out / "comparison-report-charts.png")
        print(out / "comparison-report.png", out / "comparison-report-charts.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/img/analysts")
    parser.add_argument("--keep", type=Path, help="Keep the demo store in DIR.")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="anxin-screens-") as scratch:
        home = args.keep or Path(scratch) / "home"
        home.mkdir(parents=True, exist_ok=True)
        store = build_store(home)
        with running_server(
            "mlflow-ui",
            lambda port: [
                MLFLOW,
                "ui",
                "--backend-store-uri",
                str(store["uri"]),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            log_dir=Path(scratch) / "logs",
            env={"ANXIN_HOME": str(home)},
        ) as ui:
            screenshots(store, ui.url, args.out, Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
