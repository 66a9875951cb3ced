"""Monitoring checks keep their evidence and diagnostics: the p-value of no drift at the
window's sizes, the same p-value adjusted across the run (Holm), and the measurement's details
(JSON: bins or categories that moved, row counts, notes of the rule applied).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("monitoring_checks") as batch:
        batch.add_column(sa.Column("pvalue", sa.Double, nullable=True))
        batch.add_column(sa.Column("adjusted_pvalue", sa.Double, nullable=True))
        batch.add_column(sa.Column("details", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitoring_checks") as batch:
        batch.drop_column("details")
        batch.drop_column("adjusted_pvalue")
        batch.drop_column("pvalue")
