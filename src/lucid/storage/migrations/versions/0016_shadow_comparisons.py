"""Shadow comparisons: a challenger scores the production predictions without acting on them;
its scores wait for the production predictions' outcomes (`outcome_log`).

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shadow_comparisons",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("control_version", sa.Integer, nullable=True),
        sa.Column("challenger_version", sa.Integer, nullable=False),
        sa.Column("design", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("concluded_at", sa.String(27), nullable=True),
        sa.Column("evidence", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_shadow_comparisons"),
    )
    op.create_index("ix_shadow_comparisons_model", "shadow_comparisons", ["model", "status"])
    op.create_table(
        "shadow_scores",
        sa.Column("comparison_id", sa.String(100), nullable=False),
        sa.Column("prediction_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("comparison_id", "prediction_id", name="pk_shadow_scores"),
    )


def downgrade() -> None:
    op.drop_table("shadow_scores")
    op.drop_index("ix_shadow_comparisons_model", table_name="shadow_comparisons")
    op.drop_table("shadow_comparisons")
