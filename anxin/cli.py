"""The ``anxin`` command line.

Exit codes: ``0`` ok; ``1`` failure (of the machine, a service, or a bug);
``2`` the input broke the contract (bad data, bad parameter, bad request);
``130`` interrupted (Ctrl-C). Every command checks its arguments before any
work. :func:`main` maps every failure to its code and one line in red on
stderr (:func:`anxin._failures.describe`); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from anxin._compare_cli import compare_cmd
from anxin._console import console, err_console
from anxin._engines import ENGINES, scorer
from anxin._failures import describe
from anxin._help import HELP_SETTINGS, HelpGroup
from anxin._machine_output import (
    emit,
    people_to_stderr,
    scoring_facts,
    training_facts,
    validation_facts,
)
from anxin._options import JsonOpt, TrackingOpt
from anxin._params import (
    MAX_HORIZON,
    check_argv,
    check_choice,
    check_encoding,
    check_input_dir,
    check_int,
    check_model_name,
    check_month,
    check_output_dir,
    check_output_file,
    check_param,
)
from anxin._serve_cli import serve_cmd

__all__ = ["app", "main"]

app = typer.Typer(
    name="anxin",
    help="安薪云 anxin: wage-arrears early warning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=HelpGroup,
    context_settings=HELP_SETTINGS,
)

VerboseOpt = Annotated[
    int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv).")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print errors only (for schedulers).")
]
DebugOpt = Annotated[
    bool,
    typer.Option("--debug", help="Show the full traceback of a failure (bug reports)."),
]
#: Seeds anxin passes on to numpy and LightGBM (a C int).
MAX_SEED = 2**31 - 1
# readable=False: an unreadable directory is the machine's refusal (exit 1,
# check_input_dir), not a usage error (Click's exit 2)
DataDirArg = Annotated[
    Path, typer.Argument(help="Directory with the contract tables.", readable=False)
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
    console.quiet = quiet  # per call: main() may run again in one process
    if quiet:
        level = logging.ERROR
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
def _main(
    verbose: VerboseOpt = 0, quiet: QuietOpt = False, debug: DebugOpt = False
) -> None:
    """安薪云 anxin: wage-arrears early warning.

    Validate departmental data, train and register a risk model in MLflow,
    score every month with reasons, and follow warnings through the handling
    chain.
    """
    _setup_logging(verbose, quiet)  # --debug is read by main()


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
    cmd = "anxin synth"
    _check_world(cmd, enterprises, months, seed)
    check_month("--end", end, cmd, kind="option")
    check_choice("--format", fmt, cmd, ("parquet", "csv"), kind="option")
    check_output_dir("OUT_DIR", out_dir, cmd, kind="argument")
    from anxin.synthetic import synth

    world = synth(enterprises, months, end=end, seed=seed, dirty=dirty)
    written = world.write(out_dir, format=fmt)
    for name, frame in world.tables.items():
        console.print(f"{name:12s} {len(frame):>10,d} rows -> {written[name]}")
    if dirty:
        console.print(
            f"injected {len(world.injected)} broken rows -> {written['_injected']}"
        )


def _check_world(
    cmd: str, enterprises: int, months: int, seed: int, min_months: int = 3
) -> None:
    """The size and seed of a synthetic world, as :func:`anxin.synth` takes them."""
    check_int("--enterprises", enterprises, cmd, 10, 10_000_000, kind="option")
    check_int("--months", months, cmd, min_months, 240, kind="option")
    check_int("--seed", seed, cmd, 0, MAX_SEED, kind="option")


@app.command("validate")
def validate_cmd(
    data_dir: DataDirArg,
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
    as_json: JsonOpt = False,
) -> None:
    """Check DATA_DIR against the data contract and report quarantined rows.

    Exit 0 when the data are usable (quarantined rows are reported), 2 when
    the contract is broken.

    Example: anxin validate data/ --report quarantine.json
    """
    cmd = "anxin validate"
    check_encoding("--encoding", encoding, cmd, kind="option")
    if report is not None:
        check_output_file("--report", report, cmd, kind="option")
    if quarantine_dir is not None:
        check_output_dir("--quarantine-dir", quarantine_dir, cmd, kind="option")
    check_input_dir("DATA_DIR", data_dir, cmd, kind="argument")
    from anxin import _render
    from anxin.tables import load_tables
    from anxin.validation import validate

    with people_to_stderr(as_json):
        result = validate(load_tables(data_dir, encoding=encoding))
        if report is not None:
            result.write(report)
        if quarantine_dir is not None:
            result.write_quarantine(quarantine_dir)
    if as_json:
        emit(validation_facts(result, report, quarantine_dir))
        return
    _render.validation(console, result)
    if report is not None:
        console.print(f"report -> {report}")
    if quarantine_dir is not None:
        console.print(f"quarantined rows -> {quarantine_dir}")


ModelNameOpt = Annotated[
    str | None,
    typer.Option(
        "--model-name",
        help="Registered model name (default anxin-arrears).",
        show_default=False,
    ),
]


def _check_tracking(tracking_uri: str | None, *, create: bool = True) -> None:
    """The MLflow store is usable (see resolve_tracking_uri) before any data."""
    from anxin.tracking import resolve_tracking_uri

    resolve_tracking_uri(tracking_uri, create=create)


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
    data_dir: DataDirArg,
    horizon: Annotated[
        int, typer.Option("--horizon", "-H", help="Months ahead (1-12).")
    ] = 3,
    valid_months: Annotated[
        int | None,
        typer.Option(help="Validation months (default: sized by the positives)."),
    ] = None,
    test_months: Annotated[
        int | None,
        typer.Option(help="Test months (default: sized by the positives)."),
    ] = None,
    calibration: Annotated[str, typer.Option(help="sigmoid or isotonic.")] = "sigmoid",
    refit: Annotated[
        bool,
        typer.Option(
            "--refit/--no-refit", help="Retrain on train+validation before registering."
        ),
    ] = True,
    tune: Annotated[
        int,
        typer.Option(
            "--tune",
            help="Optuna trials; 0 = off. Needs pip install 'anxin\\[tune]'.",
        ),
    ] = 0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    tracking_uri: TrackingOpt = None,
    model_name: ModelNameOpt = None,
    no_register: Annotated[
        bool, typer.Option("--no-register", help="Log the run but do not register.")
    ] = False,
    encoding: Annotated[str | None, typer.Option(help="CSV encoding.")] = None,
    run_name: str | None = typer.Option(None, help="Run name (default: what differs)."),
    as_json: JsonOpt = False,
) -> None:
    """Train, evaluate out of time against the rules, and register in MLflow.

    The new version gets the 'challenger' alias (and 'champion' if there is
    none yet).

    Example: anxin train data/ --horizon 3 --refit
    """
    cmd = "anxin train"
    check_int("--horizon", horizon, cmd, 1, MAX_HORIZON, kind="option")
    for option, months in (
        ("--valid-months", valid_months),
        ("--test-months", test_months),
    ):
        if months is not None:
            check_int(option, months, cmd, 1, kind="option")
    calibrations = ("sigmoid", "isotonic")
    check_choice("--calibration", calibration, cmd, calibrations, kind="option")
    check_int("--tune", tune, cmd, 0, kind="option")
    check_int("--seed", seed, cmd, 0, MAX_SEED, kind="option")
    check_model_name("--model-name", model_name, cmd, kind="option")
    check_encoding("--encoding", encoding, cmd, kind="option")
    check_input_dir("DATA_DIR", data_dir, cmd, kind="argument")
    _check_tracking(tracking_uri)
    from anxin import _render
    from anxin.training import train

    with people_to_stderr(as_json), console.status("validating"):
        tables = _validated(data_dir, encoding)
    with people_to_stderr(as_json), console.status("building features and training"):
        result = train(
            tables,
            horizon=horizon,
            valid_periods=valid_months,
            test_periods=test_months,
            calibration=calibration,
            refit=refit,
            tune=tune,
            seed=seed,
            tracking_uri=tracking_uri,
            model_name=model_name,
            register=not no_register,
            run_name=run_name,
        )
    if as_json:
        emit(training_facts(result))
        return
    _render.training(console, result)


@app.command("promote")
def promote_cmd(
    data_dir: Annotated[
        Path,
        typer.Argument(
            help="Data with the latest labelled months to compare on.", readable=False
        ),
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
    cmd = "anxin promote"
    check_model_name("--model-name", model_name, cmd, kind="option")
    ok = 0 < alert_volume < 1  # NaN fails every comparison
    check_param(
        "--alert-volume", alert_volume, cmd, "a share in (0, 1)", ok, kind="option"
    )
    ok = 0 <= tolerance < 1
    check_param("--tolerance", tolerance, cmd, "a number in [0, 1)", ok, kind="option")
    check_int("--eval-months", eval_months, cmd, 1, kind="option")
    check_encoding("--encoding", encoding, cmd, kind="option")
    check_input_dir("DATA_DIR", data_dir, cmd, kind="argument")
    _check_tracking(tracking_uri, create=False)  # the registry is only read
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
    data_dir: DataDirArg,
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
    as_json: JsonOpt = False,
    engine: Annotated[
        str, typer.Option(help="local, or spark: pip install 'anxin\\[spark]'.")
    ] = "local",
    spark_master: Annotated[
        str | None, typer.Option(help="Spark master (default: local[*]).")
    ] = None,
) -> None:
    """Score one month and write OUT/as_of=YYYY-MM/ atomically.

    Writes scores.parquet, summary.json, drift.csv and the quarantine report.
    One run of a month at a time: another run of the same month waits for it
    (up to --lock-timeout). Exit 0 ok, 1 failure (also: still locked after
    --lock-timeout), 2 contract broken. --engine spark scores Parquet tables
    on Apache Spark with the same results (docs/scale.md).

    Example: anxin score data/ --as-of 2026-06 --model models:/anxin-arrears@champion --out scores/
    """  # noqa: E501
    cmd = "anxin score"
    if as_of is not None:
        check_month("--as-of", as_of, cmd, kind="option")
    check_int("--top-k", top_k, cmd, 1, 11, kind="option")
    check_int("--top", top, cmd, 0, kind="option")
    check_choice("--explain", explain, cmd, ("alerts", "all", "none"), kind="option")
    check_encoding("--encoding", encoding, cmd, kind="option")
    check_choice("--engine", engine, cmd, ENGINES, kind="option")
    run = scorer(engine, master=spark_master, encoding=encoding)
    ok = model is None or bool(model.strip())
    expected = "a model URI or a model directory"
    check_param("--model", model, cmd, expected, ok, kind="option")
    from anxin.levels import LevelPolicy

    levels = None if policy is None else LevelPolicy.from_file(policy)
    check_input_dir("DATA_DIR", data_dir, cmd, kind="argument")
    check_output_dir("--out", out, cmd, kind="option")
    if model is None or model.startswith(("models:/", "runs:/")):
        _check_tracking(tracking_uri, create=False)  # the registry is read
    elif not no_log or tracking_uri is not None:
        _check_tracking(tracking_uri)  # the run is logged there
    from anxin import _render

    with people_to_stderr(as_json), _render.steps(console) as step:
        result = run(
            data_dir,
            out,
            as_of=as_of,
            model=model,
            policy=levels,
            explain=explain,
            top_k=top_k,
            encoding=encoding,
            log=not no_log,
            tracking_uri=tracking_uri,
            step=step,
            lock_timeout=lock_timeout,
        )
    if as_json:
        emit(scoring_facts(result))
        return
    _render.scoring(console, result, top)


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
    cmd = "anxin demo"
    # training's default splits need 18 labelled months, and 3 more to label
    _check_world(cmd, enterprises, months, seed, min_months=21)
    check_output_dir("--workdir", workdir, cmd, kind="option")
    _check_tracking(tracking_uri)
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

app.command("compare")(compare_cmd)
app.command("serve")(serve_cmd)
app.command("demo")(demo_cmd)
app.add_typer(cases_app, name="cases")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and return its exit code.

    Usage errors are Click's (exit 2); every other failure is one line on
    stderr and the code :func:`anxin._failures.describe` gives it.
    ``anxin --debug ...`` raises instead, so that the traceback prints.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):  # undecodable paths print escaped
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    command = typer.main.get_command(app)
    ctx = None
    try:
        check_argv(args, "anxin")
        ctx = command.make_context("anxin", args)
        with ctx:
            command.invoke(ctx)
    except typer.Exit as exc:  # --help, or a command's explicit exit
        return int(exc.exit_code or 0)
    except typer.Abort:
        err_console.print("[red]aborted[/red]")
        return 1
    except typer.TyperException as exc:  # usage errors (typer bundles click)
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:  # pragma: no cover
            _print_error(str(exc))
        return int(getattr(exc, "exit_code", 2) or 2)
    except (Exception, KeyboardInterrupt) as exc:
        if ctx is not None and ctx.params.get("debug"):
            raise
        failure = describe(exc)
        _print_error(failure.message)
        return failure.code
    return 0


def _print_error(message: str) -> None:
    from rich.text import Text

    line = Text.assemble(("error:", "red"), " ", message)  # no markup in it
    err_console.print(line, highlight=False, soft_wrap=True)


def run() -> None:  # pragma: no cover - console script
    sys.exit(main())
