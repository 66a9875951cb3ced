"""Validity contract, part two: prediction and outcome logs, stored policies, alerts, their
delivery attempts and incidents.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "prediction_log",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(200), nullable=False),
        sa.Column("served_at", sa.String(27), nullable=False),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("score", sa.Double, nullable=False),
        sa.Column("arm", sa.String(100)),
        sa.PrimaryKeyConstraint("id", name="pk_prediction_log"),
    )
    op.create_index("ix_prediction_log_model_served_at", "prediction_log", ["model", "served_at"])
    op.create_index(
        "ix_prediction_log_model_entity", "prediction_log", ["model", "entity", "served_at"]
    )
    op.create_table(
        "outcome_log",
        sa.Column("prediction_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("label", sa.Integer, nullable=False),
        sa.Column("observed_at", sa.String(27), nullable=False),
        sa.Column("logged_at", sa.String(27), nullable=False),
        sa.PrimaryKeyConstraint("prediction_id", name="pk_outcome_log"),
        sa.ForeignKeyConstraint(
            ["prediction_id"], ["prediction_log.id"], name="fk_outcome_log_prediction_id"
        ),
    )
    op.create_table(
        "monitoring_policies",
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("updated_at", sa.String(27), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("model", name="pk_monitoring_policies"),
    )
    op.create_table(
        "monitoring_alerts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("runbooks", sa.Text, nullable=False),
        sa.Column("raised_at", sa.String(27), nullable=False),
        sa.Column("stepped_at", sa.String(27), nullable=False),
        sa.Column("acknowledged_at", sa.String(27)),
        sa.Column("acknowledged_by", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_monitoring_alerts"),
    )
    op.create_index("ix_monitoring_alerts_model", "monitoring_alerts", ["model"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", position, autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("attempted_at", sa.String(27), nullable=False),
        sa.Column("delivered", sa.Boolean, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_deliveries"),
    )
    op.create_index("ix_alert_deliveries_alert_id", "alert_deliveries", ["alert_id"])
    op.create_table(
        "monitoring_incidents",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("opened_at", sa.String(27), nullable=False),
        sa.Column("window_start", sa.String(27), nullable=False),
        sa.Column("last_run_id", sa.String(36), nullable=False),
        sa.Column("recovered_at", sa.String(27)),
        sa.PrimaryKeyConstraint("id", name="pk_monitoring_incidents"),
    )
    op.create_index("ix_monitoring_incidents_model", "monitoring_incidents", ["model"])


def downgrade() -> None:
    op.drop_table("monitoring_incidents")
    op.drop_table("alert_deliveries")
    op.drop_table("monitoring_alerts")
    op.drop_table("monitoring_policies")
    op.drop_table("outcome_log")
    op.drop_table("prediction_log")
