"""The port of the stored access: what the use cases read and write in a unit of work."""

from __future__ import annotations

from typing import Protocol

from lucid.contracts.access import StoredSession, StoredToken, Subscription, WebhookAttempt


class AccessRepository(Protocol):
    """API tokens, dashboard sessions and event subscriptions (webhooks)."""

    def add_token(self, token: StoredToken) -> None: ...

    def token(self, token_id: str) -> StoredToken | None: ...

    def token_by_digest(self, secret_sha256: str) -> StoredToken | None: ...

    def tokens(self) -> list[StoredToken]:
        """Every token, revoked ones too, oldest first."""
        ...

    def revoke_token(self, token_id: str, at: str) -> None: ...

    def add_session(self, session: StoredSession) -> None: ...

    def session_by_digest(self, id_sha256: str) -> StoredSession | None: ...

    def touch_session(self, id_sha256: str, at: str) -> None:
        """Store `at` as the session's last request."""
        ...

    def revoke_session(self, id_sha256: str, at: str) -> None: ...

    def revoke_sessions_of(self, token_id: str, at: str) -> int:
        """End every live session of a token; returns how many."""
        ...

    def last_event_seq(self) -> int:
        """The position of the latest event; 0 for an empty log."""
        ...

    def add_subscription(self, subscription: Subscription) -> None: ...

    def subscription(self, subscription_id: str) -> Subscription | None: ...

    def subscriptions(self) -> list[Subscription]: ...

    def set_cursor(self, subscription_id: str, cursor: int) -> None:
        """Mark events up to position `cursor` as delivered to the subscription."""
        ...

    def add_webhook_attempt(self, attempt: WebhookAttempt) -> None: ...

    def webhook_attempts(self, subscription_id: str) -> list[WebhookAttempt]:
        """The subscription's delivery attempts in the order they were made."""
        ...
