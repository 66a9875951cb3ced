"""Experiment exposures may carry a pre-period covariate per entity (CUPED).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experiment_exposures") as batch:
        batch.add_column(sa.Column("covariate", sa.Double, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("experiment_exposures") as batch:
        batch.drop_column("covariate")
