"""The learning loop: A/B experiments, deployments as decisions and their checkpoints.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("control_version", sa.Integer, nullable=False),
        sa.Column("challenger_version", sa.Integer, nullable=False),
        sa.Column("design", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("concluded_at", sa.String(27), nullable=True),
        sa.Column("decision", sa.String(30), nullable=True),
        sa.Column("evidence", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
    )
    op.create_table(
        "experiment_exposures",
        sa.Column("experiment_id", sa.String(100), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("arm", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("exposed_at", sa.String(27), nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "entity_id", name="pk_experiment_exposures"),
    )
    op.create_table(
        "experiment_outcomes",
        sa.Column("experiment_id", sa.String(100), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(200), nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("observed_at", sa.String(27), nullable=False),
        sa.PrimaryKeyConstraint(
            "experiment_id", "entity_id", "metric", name="pk_experiment_outcomes"
        ),
    )
    op.create_table(
        "deployments",
        sa.Column("id", position, autoincrement=True, nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("deployed_at", sa.String(27), nullable=False),
        sa.Column("deployed_by", sa.String(200), nullable=False),
        sa.Column("hypotheses", sa.Text, nullable=False),
        sa.Column("success_criteria", sa.Text, nullable=False),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deployments"),
    )
    op.create_index("ix_deployments_model", "deployments", ["model"])
    op.create_table(
        "deployment_checkpoints",
        sa.Column("deployment_id", position, nullable=False),
        sa.Column("days", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("due_at", sa.String(27), nullable=False),
        sa.Column("evaluated_at", sa.String(27), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("verdict", sa.Text, nullable=True),
        sa.Column("event_seq", sa.BigInteger, nullable=True),
        sa.ForeignKeyConstraint(
            ["deployment_id"], ["deployments.id"], name="fk_deployment_checkpoints_deployment_id"
        ),
        sa.PrimaryKeyConstraint("deployment_id", "days", name="pk_deployment_checkpoints"),
    )
    op.create_index("ix_deployment_checkpoints_due_at", "deployment_checkpoints", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_deployment_checkpoints_due_at", table_name="deployment_checkpoints")
    op.drop_table("deployment_checkpoints")
    op.drop_index("ix_deployments_model", table_name="deployments")
    op.drop_table("deployments")
    op.drop_table("experiment_outcomes")
    op.drop_table("experiment_exposures")
    op.drop_table("experiments")
