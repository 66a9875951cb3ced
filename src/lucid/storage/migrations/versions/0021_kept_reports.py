"""Reports kept with the state of the database they were measured at.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_reports",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("measured_at", sa.String(27), nullable=False),
        sa.Column("valid_until", sa.String(27), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_kept_reports"),
    )


def downgrade() -> None:
    op.drop_table("kept_reports")
