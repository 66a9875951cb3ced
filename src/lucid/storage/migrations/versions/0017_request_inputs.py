"""Request-time inputs: the values each request gives a version's model, declared with it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Versions stored before this revision take no request-time input.
    op.add_column("model_versions", sa.Column("request_inputs", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("model_versions", "request_inputs")
