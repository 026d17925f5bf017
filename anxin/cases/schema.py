"""The current tables of the case store, as queries see them.

:mod:`anxin.cases.migrations` builds them step by step; a test checks that
applying every migration yields exactly these columns. Column names are the
stored ones (``actor``, ``updated_by``): the Python API calls whoever acts
``by``.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["CASES", "HISTORY", "METADATA"]

METADATA = sa.MetaData()

#: One row per warning being handled (一案一档).
CASES = sa.Table(
    "cases",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("enterprise_id", sa.String(32), nullable=False),
    sa.Column("as_of", sa.String(7), nullable=False),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("reasons", sa.JSON, nullable=True),
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("model_version", sa.String(100), nullable=False),
    sa.Column("industry", sa.String(8), nullable=True),
    sa.Column("region", sa.String(16), nullable=True),
    sa.Column("unit", sa.String(200), nullable=False),
    sa.Column("grid", sa.String(200), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("stage_started_at", sa.DateTime, nullable=False),
    sa.Column("due_at", sa.DateTime, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    # 0002_outcomes_and_escalation
    sa.Column("escalations", sa.Integer, nullable=False, server_default="0"),
    sa.Column("overdue_stage", sa.String(16), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=True),
    sa.Column("verified_at", sa.DateTime, nullable=True),
    sa.Column("verified_level", sa.String(8), nullable=True),
    sa.Column("verified_as_of", sa.String(7), nullable=True),
    sa.Column("verified_model_name", sa.String(200), nullable=True),
    sa.Column("verified_model_version", sa.String(100), nullable=True),
    sa.Column("workers_affected", sa.Integer, nullable=True),
    sa.Column("amount_owed", sa.Float, nullable=True),
    sa.Column("closed_at", sa.DateTime, nullable=True),
)

#: Append-only audit trail: one row per change of a case (留痕), each row
#: chained to the case's previous one by its hash. Triggers refuse UPDATE
#: and DELETE.
HISTORY = sa.Table(
    "case_history",
    METADATA,
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("from_state", sa.String(16), nullable=True),
    sa.Column("to_state", sa.String(16), nullable=True),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("details", sa.JSON, nullable=True),
    # 0004_history_hash_chain (see anxin.cases.integrity)
    sa.Column("prev_hash", sa.String(64), nullable=True),
    sa.Column("row_hash", sa.String(64), nullable=False),
)
