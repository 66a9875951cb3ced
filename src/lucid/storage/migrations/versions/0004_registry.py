"""The model registry: registered models, their versions, observed business metrics.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("frozen_reason", sa.Text, nullable=True),
        sa.Column("frozen_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_registered_models"),
    )
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("artifact_kind", sa.String(20), nullable=False),
        sa.Column("artifact_location", sa.Text, nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=True),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("training_data", sa.String(300), nullable=False),
        sa.Column("offline_metrics", sa.Text, nullable=False),
        sa.Column("impact", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=True),
        sa.Column("registered_by", sa.String(200), nullable=False),
        sa.Column("registered_at", sa.String(27), nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("production_seq", sa.BigInteger, nullable=True),
        sa.Column("rolled_back", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_model_versions"),
    )
    op.create_index(
        "uq_model_versions_one_production",
        "model_versions",
        ["name"],
        unique=True,
        sqlite_where=sa.text("stage = 'production'"),
        postgresql_where=sa.text("stage = 'production'"),
    )
    op.create_table(
        "business_observations",
        sa.Column("id", position, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(200), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("period", sa.String(100), nullable=False),
        sa.Column("observed_at", sa.String(27), nullable=False),
        sa.Column("observed_by", sa.String(200), nullable=False),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_business_observations"),
    )
    op.create_index(
        "ix_business_observations_name_version", "business_observations", ["name", "version"]
    )


def downgrade() -> None:
    op.drop_table("business_observations")
    op.drop_index("uq_model_versions_one_production", table_name="model_versions")
    op.drop_table("model_versions")
    op.drop_table("registered_models")
