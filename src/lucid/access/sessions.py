"""Dashboard sessions: a random id in the browser's cookie, its SHA-256 in the database.

Signing in with an API token starts a session that speaks for the token; every request looks
the session up, so signing out (or revoking the token) ends it on the server, and a captured
cookie stops working. A session ends `idle` after its last request and `lifetime` after sign-in
(`SessionPolicy`). Sessions record no event: a sign-in is no decision, and every write a
session makes is recorded as its token's person.

The form (CSRF) token of a session is an HMAC of a fixed label keyed by the session id: a page
of another site cannot read or compute it, a form token of another session does not match,
and every worker recomputes it without shared state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime

from lucid.access.tokens import Tokens, Unauthenticated
from lucid.contracts.access import Principal, SessionPolicy, StoredSession
from lucid.contracts.events import format_time
from lucid.ports.unit_of_work import UnitsOfWork


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    """The form token of a session: HMAC-SHA256 of a fixed label keyed by the session id."""
    return hmac.new(session_id.encode(), b"lucid-dashboard-form", hashlib.sha256).hexdigest()


class Sessions:
    """Start, check and end dashboard sessions."""

    def __init__(
        self,
        uows: UnitsOfWork,
        tokens: Tokens,
        policy: SessionPolicy,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._uows = uows
        self._tokens = tokens
        self.policy = policy
        self._clock = clock

    def start(self, token: str) -> tuple[Principal, str]:
        """A new session for a valid API token: its principal and the session id (for the
        cookie; only its SHA-256 is stored)."""
        principal = self._tokens.authenticate(token)
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        stored = StoredSession(
            id_sha256=_digest(session_id),
            token_id=principal.token_id,
            person=principal.person,
            role=principal.role.value,
            created_at=format_time(now),
            last_seen_at=format_time(now),
            expires_at=format_time(now + self.policy.lifetime),
        )
        with self._uows() as uow:
            uow.access.add_session(stored)
        return principal, session_id

    def authenticate(self, session_id: str | None) -> Principal:
        """The principal of a live session; refuse a missing, unknown or ended one."""
        if not session_id:
            raise Unauthenticated("session: there is none; sign in with an API token.")
        digest = _digest(session_id)
        now = self._clock()
        with self._uows.read() as uow:
            session = uow.access.session_by_digest(digest)
            token = None if session is None else uow.access.token(session.token_id)
        if session is None:
            raise Unauthenticated("session: it is not known; sign in again.")
        ended = self.policy.ended(session, token, now)
        if ended is not None or token is None:
            raise Unauthenticated(f"session: {ended}; sign in again.")
        if self.policy.refresh_due(session, now):
            with self._uows() as uow:
                uow.access.touch_session(digest, format_time(now))
        return token.principal

    def end(self, session_id: str | None) -> bool:
        """Sign out: the session stops working for good. False when there was none live."""
        if not session_id:
            return False
        digest = _digest(session_id)
        with self._uows() as uow:
            session = uow.access.session_by_digest(digest)
            if session is None or session.revoked_at is not None:
                return False
            uow.access.revoke_session(digest, format_time(self._clock()))
        return True
