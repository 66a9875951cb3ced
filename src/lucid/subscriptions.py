"""Event subscriptions: the seed's event dispatcher, as signed webhooks with retries.

Each subscription names a URL, the event types it wants (empty: all) and a shared secret. A
dispatch run sends the events after the subscription's cursor, in order, each as a JSON POST
signed `X-Lucid-Signature: sha256=<HMAC-SHA256(secret, body)>`. A failed attempt (transport
error or non-2xx) is recorded and retried with exponential backoff; after the last attempt the
run stops at that event and the cursor stays before it, so the next run retries it — nothing
is skipped or dropped silently. No database lock is held while sending; run one dispatcher
per project (cron, or one scheduler process), as two would send the same events twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import insert, select, update

from lucid.contracts.access_events import SubscriptionAdded
from lucid.contracts.events import (
    NewEvent,
    RecordedEvent,
    Subject,
    format_time,
)
from lucid.errors import InvalidInput, NotFound
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK, SqlEventLog
from lucid.storage.tables import webhook_deliveries, webhook_subscriptions

SIGNATURE_HEADER = "X-Lucid-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature header value of a body: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class DispatchResult:
    delivered: int
    failed_attempts: int
    stuck: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "failed_attempts": self.failed_attempts,
            "stuck": self.stuck,
        }


Post = Callable[[str, bytes, dict[str, str], float], int]


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


class Subscriptions:
    """Add, list and dispatch webhook subscriptions to the event log."""

    def __init__(
        self,
        db: Database,
        events: SqlEventLog,
        *,
        attempts: int = 3,
        backoff_seconds: float = 0.5,
        timeout_seconds: float = 5.0,
        post: Post = _post,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = db
        self._events = events
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._timeout = timeout_seconds
        self._post = post
        self._sleep = sleep

    def add(
        self,
        url: str,
        *,
        event_types: Sequence[str],
        actor: str,
        rationale: str,
        secret: str | None = None,
        from_start: bool = False,
    ) -> tuple[str, str]:
        """A new subscription; returns its id and secret. It receives events recorded from now
        on (or all of history with `from_start`)."""
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidInput("url", f"{url!r} must be an http(s) URL")
        types = sorted({name.strip() for name in event_types if name.strip()})
        shared = secret or secrets.token_urlsafe(32)
        if len(shared) < 16:
            raise InvalidInput("secret", "must be at least 16 characters")
        subscription_id = secrets.token_hex(8)
        with self._db.locked_transaction(EVENT_LOCK) as connection:
            head = self._events.head()
            cursor = 0 if from_start or head is None else head.seq
            connection.execute(
                insert(webhook_subscriptions).values(
                    id=subscription_id,
                    url=url,
                    event_types=json.dumps(types),
                    secret=shared,
                    cursor=cursor,
                    created_by=actor,
                    created_at=format_time(datetime.now(UTC)),
                    removed_at=None,
                )
            )
            self._events.append(
                NewEvent.of(
                    SubscriptionAdded(subscription_id, url, types),
                    actor=actor,
                    subject=Subject("subscription", subscription_id),
                    rationale=rationale,
                ),
                connection=connection,
            )
        return subscription_id, shared

    def entries(self) -> list[dict[str, Any]]:
        with self._db.transaction() as connection:
            rows = connection.execute(select(webhook_subscriptions)).all()
        return [
            {
                "id": r.id,
                "url": r.url,
                "event_types": json.loads(r.event_types),
                "cursor": r.cursor,
                "created_by": r.created_by,
                "created_at": r.created_at,
            }
            for r in rows
        ]

    def deliveries(self, subscription_id: str) -> list[dict[str, Any]]:
        with self._db.transaction() as connection:
            rows = connection.execute(
                select(webhook_deliveries)
                .where(webhook_deliveries.c.subscription_id == subscription_id)
                .order_by(webhook_deliveries.c.id)
            ).all()
        return [
            {
                "event_seq": r.event_seq,
                "attempt": r.attempt,
                "delivered": r.delivered,
                "http_status": r.http_status,
                "error": r.error,
            }
            for r in rows
        ]

    def dispatch(self, *, batch: int = 100) -> DispatchResult:
        """Send every pending event of every subscription (one run; cron-friendly)."""
        delivered = failed = 0
        stuck: list[str] = []
        for subscription in self.entries():
            sent, failures, blocked = self._dispatch_one(subscription["id"], batch)
            delivered += sent
            failed += failures
            if blocked:
                stuck.append(subscription["id"])
        return DispatchResult(delivered, failed, stuck)

    def _dispatch_one(self, subscription_id: str, batch: int) -> tuple[int, int, bool]:
        sent = failures = 0
        with self._db.transaction() as connection:
            row = connection.execute(
                select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
            ).first()
        if row is None:
            raise NotFound(f"Subscription {subscription_id} does not exist.")
        types = set(json.loads(row.event_types))
        scanned = self._events.read(after=int(row.cursor), limit=batch)
        for event in scanned:
            if types and event.type not in types:
                continue
            ok, attempts = self._deliver(row.url, row.secret, event, subscription_id)
            failures += attempts - (1 if ok else 0)
            if not ok:
                self._set_cursor(subscription_id, event.seq - 1)
                return sent, failures, True
            sent += 1
            self._set_cursor(subscription_id, event.seq)
        if scanned:
            self._set_cursor(subscription_id, scanned[-1].seq)
        return sent, failures, False

    def _deliver(
        self, url: str, secret: str, event: RecordedEvent, subscription_id: str
    ) -> tuple[bool, int]:
        body = json.dumps(event.to_dict(), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Lucid-Event": event.type,
            "X-Lucid-Delivery": f"{subscription_id}:{event.seq}",
            SIGNATURE_HEADER: sign(secret, body),
        }
        for attempt in range(1, self._attempts + 1):
            status: int | None = None
            error: str | None = None
            try:
                status = self._post(url, body, headers, self._timeout)
            except (OSError, urllib.error.URLError) as failure:
                error = str(failure)
            ok = status is not None and 200 <= status < 300
            if not ok and error is None:
                error = f"HTTP {status}"
            self._record(subscription_id, event.seq, attempt, ok, status, error)
            if ok:
                return True, attempt
            if attempt < self._attempts:
                self._sleep(self._backoff * 2 ** (attempt - 1))
        return False, self._attempts

    def _record(
        self,
        subscription_id: str,
        seq: int,
        attempt: int,
        ok: bool,
        status: int | None,
        error: str | None,
    ) -> None:
        with self._db.transaction() as connection:
            connection.execute(
                insert(webhook_deliveries).values(
                    subscription_id=subscription_id,
                    event_seq=seq,
                    attempt=attempt,
                    delivered=ok,
                    http_status=status,
                    error=error,
                    attempted_at=format_time(datetime.now(UTC)),
                )
            )

    def _set_cursor(self, subscription_id: str, cursor: int) -> None:
        with self._db.transaction() as connection:
            connection.execute(
                update(webhook_subscriptions)
                .where(webhook_subscriptions.c.id == subscription_id)
                .values(cursor=cursor)
            )
