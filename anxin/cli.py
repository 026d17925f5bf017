"""The ``anxin`` command line.

Exit codes: ``0`` ok; ``1`` failure; ``2`` the input broke the contract (bad
data, bad parameter, bad request). Errors anxin raises on purpose are printed
in red on stderr without a traceback; tracebacks mean a bug.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from anxin.exceptions import AnxinError

__all__ = ["app", "main"]

app = typer.Typer(
    name="anxin",
    help="安薪云 anxin: wage-arrears early warning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

VerboseOpt = Annotated[
    int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv).")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print errors only (for schedulers).")
]


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
    for noisy in ("mlflow", "alembic", "urllib3", "git"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose < 2 else logging.INFO)


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
    months: Annotated[int, typer.Option("--months", "-m", help="Months of history.")] = 48,
    end: Annotated[str, typer.Option("--end", help="Last month, YYYY-MM.")] = "2026-06",
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    dirty: Annotated[
        bool, typer.Option("--dirty", help="Inject contract breaches (see _injected.csv).")
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="parquet or csv.")
    ] = "parquet",
) -> None:
    """Write a seeded synthetic world of contract tables to OUT_DIR.

    Example: anxin synth data/ --enterprises 5000 --months 36 --dirty
    """
    from anxin.synth import synth

    world = synth(enterprises, months, end=end, seed=seed, dirty=dirty)
    written = world.write(out_dir, format=fmt)
    for name, frame in world.tables.items():
        console.print(f"{name:12s} {len(frame):>10,d} rows -> {written[name]}")
    if dirty:
        console.print(f"injected {len(world.injected)} broken rows -> {written['_injected']}")


@app.command("validate")
def validate_cmd(
    data_dir: Annotated[Path, typer.Argument(help="Directory with the contract tables.")],
    report: Annotated[
        Path | None,
        typer.Option("--report", "-r", help="Write the breaches to FILE (.json or .csv)."),
    ] = None,
    quarantine_dir: Annotated[
        Path | None,
        typer.Option("--quarantine-dir", help="Write quarantined rows to DIR/NAME.csv."),
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


from anxin._cli_cases import cases_app  # noqa: E402

app.add_typer(cases_app, name="cases")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, mapping anxin errors to exit codes."""
    try:
        app(args=argv, standalone_mode=False)
    except AnxinError as exc:
        err_console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        err_console.print("[red]aborted[/red]")
        return 1
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return 2
        raise
    return 0


def run() -> None:  # pragma: no cover - console script
    sys.exit(main())
