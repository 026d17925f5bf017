"""The ``anxin`` command line.

Exit codes: ``0`` ok; ``1`` failure; ``2`` the input broke the contract (bad
data, bad parameter, bad request). Errors anxin raises on purpose are printed
in red on stderr without a traceback; tracebacks mean a bug.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from anxin._console import console, err_console
from anxin.exceptions import AnxinError

__all__ = ["app", "main"]

app = typer.Typer(
    name="anxin",
    help="安薪云 anxin: wage-arrears early warning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

VerboseOpt = Annotated[
    int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv).")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print errors only (for schedulers).")
]


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    logging.getLogger("anxin").warning("%s: %s", category.__name__, message)


def _setup_logging(verbose: int = 0, quiet: bool = False) -> None:
    if quiet:
        level = logging.ERROR
        console.quiet = True
    else:
        level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    root = logging.getLogger("anxin")
    root.handlers.clear()
    from rich.logging import RichHandler

    handler = RichHandler(console=err_console, show_path=False, show_time=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    import os

    # MLflow configures its loggers when first imported; its INFO chatter
    # (database migrations, input-example checks) is not for our users
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING" if verbose < 2 else "INFO")
    # warnings (drift, ...) are shown as one log line, not with a file path
    warnings.showwarning = _show_warning
    for noisy in ("mlflow", "alembic", "urllib3", "git"):
        logging.getLogger(noisy).setLevel(
            logging.WARNING if verbose < 2 else logging.INFO
        )


@app.callback()
def _main(verbose: VerboseOpt = 0, quiet: QuietOpt = False) -> None:
    """安薪云 anxin: wage-arrears early warning.

    Validate departmental data, train and register a risk model in MLflow,
    score every month with reasons, and follow warnings through the handling
    chain.
    """
    _setup_logging(verbose, quiet)


@app.command("synth")
def synth_cmd(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write the tables to.")],
    enterprises: Annotated[
        int, typer.Option("--enterprises", "-n", help="Number of enterprises.")
    ] = 20_000,
    months: Annotated[
        int, typer.Option("--months", "-m", help="Months of history.")
    ] = 48,
    end: Annotated[str, typer.Option("--end", help="Last month, YYYY-MM.")] = "2026-06",
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    dirty: Annotated[
        bool,
        typer.Option("--dirty", help="Inject contract breaches (see _injected.csv)."),
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="parquet or csv.")
    ] = "parquet",
) -> None:
    """Write a seeded synthetic world of contract tables to OUT_DIR.

    Example: anxin synth data/ --enterprises 5000 --months 36 --dirty
    """
    from anxin.synthetic import synth

    world = synth(enterprises, months, end=end, seed=seed, dirty=dirty)
    written = world.write(out_dir, format=fmt)
    for name, frame in world.tables.items():
        console.print(f"{name:12s} {len(frame):>10,d} rows -> {written[name]}")
    if dirty:
        console.print(
            f"injected {len(world.injected)} broken rows -> {written['_injected']}"
        )


@app.command("validate")
def validate_cmd(
    data_dir: Annotated[
        Path, typer.Argument(help="Directory with the contract tables.")
    ],
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", "-r", help="Write the breaches to FILE (.json or .csv)."
        ),
    ] = None,
    quarantine_dir: Annotated[
        Path | None,
        typer.Option(
            "--quarantine-dir", help="Write quarantined rows to DIR/NAME.csv."
        ),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="CSV encoding (default: detect).")
    ] = None,
) -> None:
    """Check DATA_DIR against the data contract and report quarantined rows.

    Exit 0 when the data are usable (quarantined rows are reported), 2 when
    the contract is broken.

    Example: anxin validate data/ --report quarantine.json
    """
    from anxin import _render
    from anxin.tables import load_tables
    from anxin.validation import validate

    result = validate(load_tables(data_dir, encoding=encoding))
    _render.validation(console, result)
    if report is not None:
        result.write(report)
        console.print(f"report -> {report}")
    if quarantine_dir is not None:
        result.write_quarantine(quarantine_dir)
        console.print(f"quarantined rows -> {quarantine_dir}")


TrackingOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        help="MLflow tracking URI (default: MLFLOW_TRACKING_URI, else "
        "sqlite:///$ANXIN_HOME/mlflow.db).",
        show_default=False,
    ),
]
ModelNameOpt = Annotated[
    str | None,
    typer.Option(
        "--model-name",
        help="Registered model name (default anxin-arrears).",
        show_default=False,
    ),
]


def _validated(data_dir: Path, encoding: str | None) -> Any:
    from anxin.tables import load_tables
    from anxin.validation import validate

    report = validate(load_tables(data_dir, encoding=encoding))
    if report.n_quarantined:
        console.print(
            f"[yellow]{report.n_quarantined:,d} rows quarantined[/yellow] "
            "(run 'anxin validate' for the report); training on the valid rows."
        )
    return report.tables


@app.command("train")
def train_cmd(
    data_dir: Annotated[
        Path, typer.Argument(help="Directory with the contract tables.")
    ],
    horizon: Annotated[
        int, typer.Option("--horizon", "-h", help="Months ahead (1-12).")
    ] = 3,
    valid_months: Annotated[int, typer.Option(help="Validation months.")] = 3,
    test_months: Annotated[int, typer.Option(help="Test months.")] = 3,
    calibration: Annotated[str, typer.Option(help="sigmoid or isotonic.")] = "sigmoid",
    refit: Annotated[
        bool,
        typer.Option("--refit", help="Retrain on train+validation before registering."),
    ] = False,
    tune: Annotated[
        int, typer.Option("--tune", help="Optuna trials (needs anxin[tune]); 0 = off.")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    tracking_uri: TrackingOpt = None,
    model_name: ModelNameOpt = None,
    no_register: Annotated[
        bool, typer.Option("--no-register", help="Log the run but do not register.")
    ] = False,
    encoding: Annotated[str | None, typer.Option(help="CSV encoding.")] = None,
) -> None:
    """Train, evaluate out of time against the rules, and register in MLflow.

    The new version gets the 'challenger' alias (and 'champion' if there is
    none yet).

    Example: anxin train data/ --horizon 3 --refit
    """
    from anxin import _render
    from anxin.training import train

    with console.status("validating"):
        tables = _validated(data_dir, encoding)
    with console.status("building features and training"):
        result = train(
            tables,
            horizon=horizon,
            valid_months=valid_months,
            test_months=test_months,
            calibration=calibration,
            refit=refit,
            tune=tune,
            seed=seed,
            tracking_uri=tracking_uri,
            model_name=model_name,
            register=not no_register,
        )
    _render.training(console, result)


@app.command("promote")
def promote_cmd(
    data_dir: Annotated[
        Path, typer.Argument(help="Data with the latest labelled months to compare on.")
    ],
    model_name: ModelNameOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote whatever the figures.")
    ] = False,
    alert_volume: Annotated[
        float, typer.Option(help="Alert volume for the recall criterion.")
    ] = 0.05,
    tolerance: Annotated[
        float, typer.Option(help="Allowed shortfall in AP and recall (absolute).")
    ] = 0.01,
    eval_months: Annotated[
        int, typer.Option(help="Latest labelled months to use.")
    ] = 3,
    tracking_uri: TrackingOpt = None,
    encoding: Annotated[str | None, typer.Option(help="CSV encoding.")] = None,
) -> None:
    """Compare challenger and champion on the same data; move 'champion' if deserved.

    Exit 0 whether or not the challenger was promoted; the decision and the
    figures are printed and recorded as registry tags.

    Example: anxin promote data/ --alert-volume 0.05 --tolerance 0.01
    """
    from anxin import _render
    from anxin.promotion import promote

    tables = _validated(data_dir, encoding)
    with console.status("scoring challenger and champion"):
        decision = promote(
            tables,
            model_name=model_name,
            force=force,
            alert_volume=alert_volume,
            tolerance=tolerance,
            eval_months=eval_months,
            tracking_uri=tracking_uri,
        )
    _render.promotion(console, decision, alert_volume)


@app.command("score")
def score_cmd(
    data_dir: Annotated[
        Path, typer.Argument(help="Directory with the contract tables.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output root directory.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Month to score (default: latest).")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Model URI (default models:/anxin-arrears@champion)."
        ),
    ] = None,
    policy: Annotated[
        Path | None, typer.Option(help="Level policy JSON overriding the model's.")
    ] = None,
    explain: Annotated[str, typer.Option(help="alerts, all or none.")] = "alerts",
    top_k: Annotated[int, typer.Option(help="Reasons per enterprise.")] = 3,
    top: Annotated[int, typer.Option(help="Warnings to print.")] = 10,
    tracking_uri: TrackingOpt = None,
    no_log: Annotated[
        bool, typer.Option("--no-log", help="Do not log to MLflow.")
    ] = False,
    encoding: Annotated[str | None, typer.Option(help="CSV encoding.")] = None,
    lock_timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds to wait while another run scores the same month "
            "(default: as long as it takes; 0: do not wait, exit 1)."
        ),
    ] = None,
) -> None:
    """Score one month and write OUT/as_of=YYYY-MM/ atomically.

    Writes scores.parquet, summary.json, drift.csv and the quarantine report.
    One run of a month at a time: another run of the same month waits for it
    (up to --lock-timeout). Exit 0 ok, 1 failure (also: still locked after
    --lock-timeout), 2 contract broken.

    Example: anxin score data/ --as-of 2026-06 --model models:/anxin-arrears@champion --out scores/
    """  # noqa: E501
    from anxin import _render
    from anxin.scoring import score_month

    with _render.steps(console) as step:
        result = score_month(
            data_dir,
            out,
            as_of=as_of,
            model=model,
            policy=policy,
            explain=explain,
            top_k=top_k,
            encoding=encoding,
            log=not no_log,
            tracking_uri=tracking_uri,
            step=step,
            lock_timeout=lock_timeout,
        )
    _render.scoring(console, result, top)


@app.command("serve")
def serve_cmd(
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Model URI (default models:/anxin-arrears@champion)."
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to bind; 0.0.0.0 serves other machines.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", "-p", min=1, max=65535, help="Port.")
    ] = 5001,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Worker processes.")
    ] = 1,
    timeout: Annotated[
        float, typer.Option("--timeout", "-t", help="Seconds per request (504).")
    ] = 60.0,
    max_body_mb: Annotated[
        int, typer.Option(min=1, help="Largest request body in MiB (413 beyond).")
    ] = 50,
    max_rows: Annotated[
        int, typer.Option(min=1, help="Most rows per request (413 beyond).")
    ] = 100_000,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Serve a model over HTTP (MLflow's protocol, bounded requests, short errors).

    POST /invocations takes the feature rows as JSON (dataframe_split or
    dataframe_records), CSV or Parquet and answers risk, level, rank and
    reasons; bad requests get a 4xx with a one-line message. See
    docs/serving.md.

    Example: anxin serve --model models:/anxin-arrears@champion --port 5001
    """
    from anxin.serving import Limits, serve

    limits = Limits(
        max_body_bytes=max_body_mb * 2**20, max_rows=max_rows, timeout=timeout
    )
    serve(
        model=model,
        host=host,
        port=port,
        workers=workers,
        limits=limits,
        tracking_uri=tracking_uri,
    )


@app.command("demo")
def demo_cmd(
    workdir: Annotated[
        Path, typer.Option("--workdir", "-w", help="Where data and outputs go.")
    ] = Path("anxin-demo"),
    enterprises: Annotated[int, typer.Option("--enterprises", "-n")] = 20_000,
    months: Annotated[int, typer.Option("--months", "-m")] = 48,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    tracking_uri: TrackingOpt = None,
) -> None:
    """The whole chain on a synthetic world, on this machine.

    Synthetic data -> validate -> train -> register -> score the latest month
    -> explain -> print the top warnings -> open cases and print the queue.

    Example: anxin demo --enterprises 5000
    """
    from anxin.demo import run_demo

    run_demo(
        console,
        workdir=workdir,
        n_enterprises=enterprises,
        n_months=months,
        seed=seed,
        tracking_uri=tracking_uri,
    )


from anxin.cases.cli import cases_app  # noqa: E402

app.add_typer(cases_app, name="cases")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, mapping anxin errors to exit codes."""
    try:
        app(args=argv, standalone_mode=False)
    except AnxinError as exc:
        err_console.print(
            f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True
        )
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        err_console.print("[red]aborted[/red]")
        return 1
    except typer.TyperException as exc:  # usage errors (typer bundles click)
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:  # pragma: no cover
            err_console.print(f"[red]error:[/red] {exc}")
        return int(getattr(exc, "exit_code", 2) or 2)
    return 0


def run() -> None:  # pragma: no cover - console script
    sys.exit(main())
