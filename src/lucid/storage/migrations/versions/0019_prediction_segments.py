"""Segments of the columnar prediction log, registered by the metadata database; an outcome
may name a prediction kept in a segment, so it no longer references `prediction_log`.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prediction_segments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("first_served_at", sa.String(27), nullable=False),
        sa.Column("last_served_at", sa.String(27), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prediction_segments"),
        sa.UniqueConstraint("path", name="uq_prediction_segments_path"),
    )
    op.create_index("ix_prediction_segments_model", "prediction_segments", ["model", "day"])
    with op.batch_alter_table("outcome_log") as batch:
        batch.drop_constraint("fk_outcome_log_prediction_id", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("outcome_log") as batch:
        batch.create_foreign_key(
            "fk_outcome_log_prediction_id", "prediction_log", ["prediction_id"], ["id"]
        )
    op.drop_index("ix_prediction_segments_model", table_name="prediction_segments")
    op.drop_table("prediction_segments")
