"""Options several ``anxin`` commands share (:mod:`anxin.cli`,
:mod:`anxin._compare_cli`, :mod:`anxin._serve_cli`)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["JsonOpt", "TrackingOpt"]

TrackingOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        help="MLflow tracking URI (default: MLFLOW_TRACKING_URI, else "
        "sqlite:///$ANXIN_HOME/mlflow.db).",
        show_default=False,
    ),
]

JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the result as one JSON document on stdout, for machines "
        "(progress goes to stderr).",
    ),
]
