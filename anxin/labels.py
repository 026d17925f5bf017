"""Labels: did a confirmed arrears case follow within the horizon?

See docs/concepts.md for the definition with a worked timeline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from anxin import _calendar
from anxin._grid import event_months, scatter, window
from anxin._params import check_horizon
from anxin.exceptions import ContractError
from anxin.tables import Tables

__all__ = ["build_labels"]


def build_labels(
    tables: Tables,
    *,
    horizon: int = 3,
    as_of: str | Sequence[str] | None = None,
    events_through: str | None = None,
) -> pd.DataFrame:
    """Label each enterprise-month: a confirmed arrears case within the horizon?

    ``label(e, t) = 1`` if enterprise ``e`` has a confirmed event with period
    in ``(t, t + horizon]``, else ``0``. When ``t + horizon`` is after the last
    month the events table covers, the label is unknown (``<NA>``, censored):
    such rows are excluded from training, never counted as 0.

    Parameters
    ----------
    tables : Tables
        Validated tables with an ``events`` table.
    horizon : int, default 3
        Months ahead, 1-12.
    as_of : str or list of str, optional
        Restrict to these months, as in :func:`build_features`.
    events_through : str, optional
        Last month the events table covers. By default the last month of
        payroll data (the extract's month): an events table with no case in
        its last months still covers them.

    Returns
    -------
    DataFrame
        ``enterprise_id``, ``period``, ``label`` (nullable Int8), in the row
        order of :func:`build_features`.

    Examples
    --------
    >>> from anxin import synth
    >>> tables = synth(n_enterprises=100, n_months=12, seed=2).tables
    >>> labels = build_labels(tables, horizon=3)
    >>> bool(labels.loc[labels["period"] > "2026-03", "label"].isna().all())
    True
    """
    check_horizon(horizon, "build_labels")
    if tables.events is None:
        raise ContractError(
            "Labels need the events table (confirmed wage-arrears cases). Add "
            "events.csv or events.parquet to the data directory.",
            table="events",
        )
    g = window(tables, as_of)
    _, active = scatter(g, tables.payroll, [], "payroll")
    mask = g.view(active, 0)
    e_idx, t_idx = np.nonzero(mask)
    through = events_through if events_through is not None else tables.last_period()
    assert through is not None
    cover = _calendar.to_index(through)
    code, month, _ = event_months(tables, g)
    month_t = g.targets[t_idx]
    # for each cell, is there an event of its enterprise in (t, t+h]?
    label = np.zeros(t_idx.size, dtype=np.int8)
    if code.size:
        order = np.lexsort((month, code))
        code_s, month_s = code[order], month[order]
        key_ev = code_s * 1_000_000 + month_s
        lo = np.searchsorted(key_ev, e_idx * 1_000_000 + month_t, side="right")
        hi = np.searchsorted(
            key_ev, e_idx * 1_000_000 + month_t + horizon, side="right"
        )
        label = (hi > lo).astype(np.int8)
    labels = pd.array(label, dtype="Int8")
    labels[month_t + horizon > cover] = pd.NA
    return pd.DataFrame(
        {
            "enterprise_id": pd.array(g.ids.take(pa.array(e_idx)), dtype="str"),
            "period": pd.array(_calendar.index_to_periods(month_t), dtype="str"),
            "label": labels,
        }
    )
