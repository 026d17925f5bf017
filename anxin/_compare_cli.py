"""``anxin compare``: two models on the months they share, on the command line.

The command lives here, beside :mod:`anxin.cli` (which registers it), as the
case commands live in :mod:`anxin.cases.cli`: the computation is
:func:`anxin.compare`, the report :mod:`anxin.comparison_report`, the
printed tables :func:`anxin._render.comparison`. Its arguments are checked
before any work, as every command's are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anxin._console import console
from anxin._options import TrackingOpt
from anxin._params import (
    check_encoding,
    check_input_dir,
    check_int,
    check_model_name,
    check_output_dir,
    check_param,
)

__all__ = ["compare_cmd"]

#: Seeds anxin passes on to numpy (a C int), as ``anxin.cli`` checks them.
MAX_SEED = 2**31 - 1


# long: the command's options are declarations, one per argument, then the
# checks in the order the options come; the work is one call
def compare_cmd(
    data_dir: Annotated[
        Path,
        typer.Argument(
            help="Data with the labelled months to score both models on.",
            readable=False,
        ),
    ],
    a: Annotated[
        str,
        typer.Argument(
            help="Model A: a version (3), an alias (champion), models:/..., "
            "runs:/RUN_ID/model, a run id or a model directory."
        ),
    ],
    b: Annotated[str, typer.Argument(help="Model B, compared with A (B minus A).")],
    model_name: Annotated[
        str | None,
        typer.Option(
            "--model-name",
            help="Registered model of versions and aliases (default anxin-arrears).",
            show_default=False,
        ),
    ] = None,
    alert_volume: Annotated[
        float, typer.Option(help="Alert volume of the recall compared.")
    ] = 0.05,
    eval_months: Annotated[
        int | None,
        typer.Option(help="Only the latest N shared months.", show_default=False),
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Resamples for the intervals.")
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", help="Also write the report (HTML, Markdown, charts) to DIR."
        ),
    ] = None,
    no_log: Annotated[
        bool, typer.Option("--no-log", help="Do not log the comparison run.")
    ] = False,
    tracking_uri: TrackingOpt = None,
    encoding: Annotated[str | None, typer.Option(help="CSV encoding.")] = None,
) -> None:
    """Score two models on the months they share and compare them.

    Both score the labelled months that are out of time for both (from the
    later of their test windows on); the output says which. Differences in
    AP, AUC and recall at the alert volume come with paired bootstrap
    confidence intervals. The comparison is logged as a run of the
    anxin-comparisons experiment with report.html and report.md.

    Example: anxin compare data/ champion challenger --report report/
    """
    cmd = "anxin compare"
    check_model_name("--model-name", model_name, cmd, kind="option")
    ok = 0 < alert_volume < 1  # NaN fails every comparison
    check_param(
        "--alert-volume", alert_volume, cmd, "a share in (0, 1)", ok, kind="option"
    )
    if eval_months is not None:
        check_int("--eval-months", eval_months, cmd, 1, kind="option")
    check_int("--bootstrap", bootstrap, cmd, 100, 100_000, kind="option")
    check_int("--seed", seed, cmd, 0, MAX_SEED, kind="option")
    if report is not None:
        check_output_dir("--report", report, cmd, kind="option")
    check_encoding("--encoding", encoding, cmd, kind="option")
    check_input_dir("DATA_DIR", data_dir, cmd, kind="argument")
    from anxin import _render
    from anxin.comparison import compare
    from anxin.comparison_report import write_report
    from anxin.tables import load_tables
    from anxin.tracking import resolve_tracking_uri
    from anxin.validation import validate

    resolve_tracking_uri(tracking_uri, create=False)  # the registry is only read
    tables = validate(load_tables(data_dir, encoding=encoding)).tables
    with console.status("scoring both models"):
        result = compare(
            tables,
            a,
            b,
            model_name=model_name,
            eval_months=eval_months,
            alert_volume=alert_volume,
            n_boot=bootstrap,
            seed=seed,
            log=not no_log,
            tracking_uri=tracking_uri,
        )
    if report is not None:
        write_report(result, report)
    _render.comparison(console, result, report=report, tracking_uri=tracking_uri)
