"""Validity contract, part three: run follow-ups that survive a crash, stakeholder digests
and the scheduler's heartbeat.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.add_column("monitoring_runs", sa.Column("followed_up_at", sa.String(27)))
    # Runs stored before this revision were followed up in the same call: nothing is pending.
    op.execute("UPDATE monitoring_runs SET followed_up_at = measured_at")
    op.create_table(
        "monitoring_followups",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("step", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("done_at", sa.String(27), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "step", name="pk_monitoring_followups"),
    )
    op.create_table(
        "monitoring_digests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("period", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("sent_at", sa.String(27)),
        sa.PrimaryKeyConstraint("id", name="pk_monitoring_digests"),
        sa.UniqueConstraint("model", "period", name="uq_monitoring_digests_model_period"),
    )
    op.create_table(
        "digest_deliveries",
        sa.Column("id", position, autoincrement=True, nullable=False),
        sa.Column("digest_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("attempted_at", sa.String(27), nullable=False),
        sa.Column("delivered", sa.Boolean, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_digest_deliveries"),
    )
    op.create_index("ix_digest_deliveries_digest_id", "digest_deliveries", ["digest_id"])
    op.create_table(
        "scheduler_ticks",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("ticked_at", sa.String(27), nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_scheduler_ticks"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_ticks")
    op.drop_table("digest_deliveries")
    op.drop_table("monitoring_digests")
    op.drop_table("monitoring_followups")
    op.drop_column("monitoring_runs", "followed_up_at")
