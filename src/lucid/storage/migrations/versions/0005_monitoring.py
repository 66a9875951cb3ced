"""Validity contract: reference profiles, monitoring runs and their checks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_profiles",
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("model", "version", name="pk_monitoring_profiles"),
    )
    op.create_table(
        "monitoring_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("window_key", sa.String(200), nullable=False),
        sa.Column("measured_at", sa.String(27), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("actions", sa.Text, nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitoring_runs"),
        sa.UniqueConstraint("model", "window_key", name="uq_monitoring_runs_model_window_key"),
    )
    op.create_table(
        "monitoring_checks",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("threshold", sa.String(300), nullable=False),
        sa.Column("drift_type", sa.String(20), nullable=False),
        sa.Column("metric", sa.String(50), nullable=False),
        sa.Column("feature", sa.String(200)),
        sa.Column("segment", sa.String(300)),
        sa.Column("value", sa.Double),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("warning", sa.Double, nullable=False),
        sa.Column("critical", sa.Double, nullable=False),
        sa.Column("reference_rows", sa.BigInteger),
        sa.Column("current_rows", sa.BigInteger),
        sa.Column("expected_no_drift", sa.Double),
        sa.Column("actions", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("run_id", "position", name="pk_monitoring_checks"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["monitoring_runs.id"], name="fk_monitoring_checks_run_id"
        ),
    )


def downgrade() -> None:
    op.drop_table("monitoring_checks")
    op.drop_table("monitoring_runs")
    op.drop_table("monitoring_profiles")
