"""What the state tables hold, in the form the event log's fold gives (`contracts.log_state`).

Read under the event log's lock, with the position of the last event, so the tables and the
events up to that position are one consistent moment: every writer commits its rows and their
events together under that lock.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from lucid.contracts.log_state import LogState, freeze_fields, token_fields
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK
from lucid.storage.tables import (
    api_tokens,
    events,
    feature_approvals,
    feature_definitions,
    model_versions,
    registered_models,
)


def stored_state(db: Database) -> tuple[int, LogState]:
    """The position of the last event, and the state the tables hold at that moment."""
    state = LogState()
    with db.locked_transaction(EVENT_LOCK) as connection:
        head = int(
            connection.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one()
        )
        for token in connection.execute(select(api_tokens)):
            state.tokens[(token.id,)] = token_fields(
                token.person, token.role, json.loads(token.teams), token.revoked_at is not None
            )
        for version in connection.execute(
            select(model_versions.c.name, model_versions.c.version, model_versions.c.stage)
        ):
            state.stages[(version.name, str(version.version))] = {"stage": version.stage}
        for model in connection.execute(select(registered_models)):
            state.freezes[(model.name,)] = freeze_fields(model.frozen_reason is not None)
        for feature in connection.execute(
            select(
                feature_definitions.c.name,
                feature_definitions.c.version,
                feature_definitions.c.status,
            )
        ):
            state.features[(feature.name, feature.version)] = {"status": feature.status}
        for approval in connection.execute(select(feature_approvals)):
            key = (approval.name, approval.version, approval.team)
            state.approvals[key] = {"person": approval.person}
    return head, state
