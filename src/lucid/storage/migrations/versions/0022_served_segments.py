"""Segments of served feature values, registered like the prediction log's (0019).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "served_segments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("first_id", _POSITION, nullable=False),
        sa.Column("last_id", _POSITION, nullable=False),
        sa.Column("first_served_at", sa.String(27), nullable=False),
        sa.Column("last_served_at", sa.String(27), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_served_segments"),
        sa.UniqueConstraint("path", name="uq_served_segments_path"),
    )
    op.create_index("ix_served_segments_last_id", "served_segments", ["last_id"])


def downgrade() -> None:
    op.drop_index("ix_served_segments_last_id", table_name="served_segments")
    op.drop_table("served_segments")
