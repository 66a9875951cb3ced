"""Segments of the columnar outcome log, registered by the metadata database like the
prediction log's (0019).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcome_segments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("first_logged_at", sa.String(27), nullable=False),
        sa.Column("last_logged_at", sa.String(27), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outcome_segments"),
        sa.UniqueConstraint("path", name="uq_outcome_segments_path"),
    )
    op.create_index("ix_outcome_segments_model", "outcome_segments", ["model", "day"])


def downgrade() -> None:
    op.drop_index("ix_outcome_segments_model", table_name="outcome_segments")
    op.drop_table("outcome_segments")
