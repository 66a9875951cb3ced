"""API tokens, dashboard sessions and webhook subscriptions in the metadata database
(`lucid.ports.access`).

Built on a unit of work's connection: what it writes commits with the unit's events.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update

from lucid.contracts.access import StoredSession, StoredToken, Subscription, WebhookAttempt
from lucid.storage.tables import (
    api_tokens,
    dashboard_sessions,
    events,
    webhook_deliveries,
    webhook_subscriptions,
)


def _token(row: Any) -> StoredToken:
    return StoredToken(
        id=row.id,
        secret_sha256=row.secret_sha256,
        person=row.person,
        role=row.role,
        teams=tuple(json.loads(row.teams)),
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
    )


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        url=row.url,
        event_types=tuple(json.loads(row.event_types)),
        secret=row.secret,
        cursor=int(row.cursor),
        created_by=row.created_by,
        created_at=row.created_at,
    )


class SqlAccessRepository:
    """Tokens, sessions, subscriptions and delivery attempts on one transaction's
    connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    # -- tokens ---------------------------------------------------------------------------------

    def add_token(self, token: StoredToken) -> None:
        self._connection.execute(
            insert(api_tokens).values(
                id=token.id,
                secret_sha256=token.secret_sha256,
                person=token.person,
                role=token.role,
                teams=json.dumps(list(token.teams)),
                created_at=token.created_at,
                created_by=token.created_by,
                revoked_at=token.revoked_at,
            )
        )

    def token(self, token_id: str) -> StoredToken | None:
        row = self._connection.execute(select(api_tokens).where(api_tokens.c.id == token_id))
        found = row.first()
        return None if found is None else _token(found)

    def token_by_digest(self, secret_sha256: str) -> StoredToken | None:
        row = self._connection.execute(
            select(api_tokens).where(api_tokens.c.secret_sha256 == secret_sha256)
        ).first()
        return None if row is None else _token(row)

    def tokens(self) -> list[StoredToken]:
        """Every token, revoked ones too, oldest first."""
        rows = self._connection.execute(select(api_tokens).order_by(api_tokens.c.created_at))
        return [_token(row) for row in rows]

    def revoke_token(self, token_id: str, at: str) -> None:
        self._connection.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=at)
        )

    # -- sessions -------------------------------------------------------------------------------

    def add_session(self, session: StoredSession) -> None:
        self._connection.execute(
            insert(dashboard_sessions).values(
                id_sha256=session.id_sha256,
                token_id=session.token_id,
                person=session.person,
                role=session.role,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
                expires_at=session.expires_at,
                revoked_at=session.revoked_at,
            )
        )

    def session_by_digest(self, id_sha256: str) -> StoredSession | None:
        row = self._connection.execute(
            select(dashboard_sessions).where(dashboard_sessions.c.id_sha256 == id_sha256)
        ).first()
        return None if row is None else StoredSession(**row._mapping)

    def touch_session(self, id_sha256: str, at: str) -> None:
        self._connection.execute(
            update(dashboard_sessions)
            .where(dashboard_sessions.c.id_sha256 == id_sha256)
            .values(last_seen_at=at)
        )

    def revoke_session(self, id_sha256: str, at: str) -> None:
        self._connection.execute(
            update(dashboard_sessions)
            .where(dashboard_sessions.c.id_sha256 == id_sha256)
            .where(dashboard_sessions.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    def revoke_sessions_of(self, token_id: str, at: str) -> int:
        done = self._connection.execute(
            update(dashboard_sessions)
            .where(dashboard_sessions.c.token_id == token_id)
            .where(dashboard_sessions.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(done.rowcount)

    # -- subscriptions --------------------------------------------------------------------------

    def last_event_seq(self) -> int:
        """The position of the latest event; 0 for an empty log."""
        row = self._connection.execute(
            select(events.c.seq).order_by(events.c.seq.desc()).limit(1)
        ).first()
        return 0 if row is None else int(row.seq)

    def add_subscription(self, subscription: Subscription) -> None:
        self._connection.execute(
            insert(webhook_subscriptions).values(
                id=subscription.id,
                url=subscription.url,
                event_types=json.dumps(list(subscription.event_types)),
                secret=subscription.secret,
                cursor=subscription.cursor,
                created_by=subscription.created_by,
                created_at=subscription.created_at,
                removed_at=None,
            )
        )

    def subscription(self, subscription_id: str) -> Subscription | None:
        row = self._connection.execute(
            select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
        ).first()
        return None if row is None else _subscription(row)

    def subscriptions(self) -> list[Subscription]:
        rows = self._connection.execute(select(webhook_subscriptions))
        return [_subscription(row) for row in rows]

    def set_cursor(self, subscription_id: str, cursor: int) -> None:
        self._connection.execute(
            update(webhook_subscriptions)
            .where(webhook_subscriptions.c.id == subscription_id)
            .values(cursor=cursor)
        )

    def add_webhook_attempt(self, attempt: WebhookAttempt) -> None:
        self._connection.execute(
            insert(webhook_deliveries).values(
                subscription_id=attempt.subscription_id,
                event_seq=attempt.event_seq,
                attempt=attempt.attempt,
                delivered=attempt.delivered,
                http_status=attempt.http_status,
                error=attempt.error,
                attempted_at=attempt.attempted_at,
            )
        )

    def webhook_attempts(self, subscription_id: str) -> list[WebhookAttempt]:
        """The subscription's delivery attempts in the order they were made."""
        rows = self._connection.execute(
            select(webhook_deliveries)
            .where(webhook_deliveries.c.subscription_id == subscription_id)
            .order_by(webhook_deliveries.c.id)
        )
        return [
            WebhookAttempt(
                r.subscription_id,
                int(r.event_seq),
                r.attempt,
                bool(r.delivered),
                r.http_status,
                r.error,
                r.attempted_at,
            )
            for r in rows
        ]
