"""Model signature: the inputs a version's model takes, in its order.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Versions stored before this revision have no signature: they take the pins in order.
    op.add_column("model_versions", sa.Column("inputs", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("model_versions", "inputs")
