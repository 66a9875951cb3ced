"""The pooled training-serving skew, kept by the position of the last served value.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "skew_figures",
        sa.Column("tolerance", sa.Float, nullable=False),
        sa.Column("position", position, nullable=False),
        sa.Column("figures", sa.Text, nullable=False),
        sa.Column("measured_at", sa.String(27), nullable=False),
        sa.PrimaryKeyConstraint("tolerance", name="pk_skew_figures"),
    )


def downgrade() -> None:
    op.drop_table("skew_figures")
