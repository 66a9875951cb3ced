"""The served feature values' log without its secondary indexes: each value served went into
two more B-trees on the serving path's commit, about a third of its CPU (`bench/journal.py`).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_served_features_served_at", table_name="served_features")
    op.drop_index("ix_served_features_feature", table_name="served_features")


def downgrade() -> None:
    op.create_index("ix_served_features_served_at", "served_features", ["served_at"])
    op.create_index("ix_served_features_feature", "served_features", ["feature"])
