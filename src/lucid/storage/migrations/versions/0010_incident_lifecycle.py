"""Incidents of the learning loop: acknowledgement, diagnosis, proposals, experiment, lesson,
closing and the repeated-error link; `recovered` becomes a fact (recovered_at), not a status.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("summary", sa.Text),
    ("opened_by", sa.String(200)),
    ("acknowledged_by", sa.String(200)),
    ("acknowledged_at", sa.String(27)),
    ("root_cause", sa.String(40)),
    ("diagnosis", sa.Text),
    ("participants", sa.Text),
    ("proposals", sa.Text),
    ("experiment_id", sa.String(100)),
    ("resolution", sa.Text),
    ("lesson", sa.Text),
    ("closed_at", sa.String(27)),
    ("repeated_of", sa.String(36)),
)


def upgrade() -> None:
    with op.batch_alter_table("monitoring_incidents") as batch:
        # An incident opened by hand has no monitoring run.
        batch.alter_column("last_run_id", existing_type=sa.String(36), nullable=True)
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.execute("UPDATE monitoring_incidents SET status = 'open' WHERE status = 'recovered'")


def downgrade() -> None:
    op.execute(
        "UPDATE monitoring_incidents SET status = 'recovered' "
        "WHERE recovered_at IS NOT NULL AND status <> 'closed'"
    )
    with op.batch_alter_table("monitoring_incidents") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
