"""``anxin serve``: a model over HTTP, on the command line.

The command lives here, beside :mod:`anxin.cli` (which registers it); the
server is :func:`anxin.serving.serve`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from anxin._options import TrackingOpt

__all__ = ["serve_cmd"]


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
