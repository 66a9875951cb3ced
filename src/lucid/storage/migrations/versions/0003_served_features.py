"""The log of served feature values, read by the training-serving skew report.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "served_features",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("served_at", sa.String(27), nullable=False),
        sa.Column("entity", sa.String(200), nullable=False),
        sa.Column("feature", sa.String(160), nullable=False),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("as_of", sa.String(27), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_served_features"),
    )
    op.create_index("ix_served_features_served_at", "served_features", ["served_at"])
    op.create_index("ix_served_features_feature", "served_features", ["feature"])


def downgrade() -> None:
    op.drop_table("served_features")
