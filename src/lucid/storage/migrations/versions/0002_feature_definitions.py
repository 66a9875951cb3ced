"""Sources, feature definitions and their approvals (the semantic contract).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feature_sources",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("registered_by", sa.String(200), nullable=False),
        sa.Column("registered_at", sa.String(27), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_feature_sources"),
    )
    op.create_table(
        "feature_definitions",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("major", sa.Integer, nullable=False),
        sa.Column("minor", sa.Integer, nullable=False),
        sa.Column("patch", sa.Integer, nullable=False),
        sa.Column("concept", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("proposed_at", sa.String(27), nullable=False),
        sa.Column("status_changed_at", sa.String(27), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_feature_definitions"),
    )
    op.create_index("ix_feature_definitions_concept", "feature_definitions", ["concept"])
    op.create_table(
        "feature_approvals",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("approved_at", sa.String(27), nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", "version", "team", name="pk_feature_approvals"),
    )


def downgrade() -> None:
    op.drop_table("feature_approvals")
    op.drop_index("ix_feature_definitions_concept", "feature_definitions")
    op.drop_table("feature_definitions")
    op.drop_table("feature_sources")
