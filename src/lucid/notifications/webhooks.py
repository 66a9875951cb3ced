"""Event subscriptions: the event log sent to webhooks, signed, with retries.

Each subscription names a URL, the event types it wants (empty: all) and a shared secret. A
dispatch run sends the events after the subscription's cursor, in order, each as a JSON POST
signed in the Standard Webhooks scheme (`lucid.notifications.signatures`: the id, the time of
the attempt and the body; receivers check with `verify_delivery`). A failed attempt (transport
error or non-2xx) is recorded and retried with exponential backoff; after the last attempt the
run stops at that event and the cursor stays before it, so the next run retries it — nothing
is skipped or dropped silently. No database lock is held while sending; run one dispatcher
per project (cron, or one scheduler process), as two would send the same events twice.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from lucid.contracts.access import Subscription, WebhookAttempt
from lucid.contracts.access_events import SubscriptionAdded
from lucid.contracts.events import NewEvent, RecordedEvent, Subject, format_time
from lucid.errors import InvalidInput, NotFound
from lucid.notifications import client
from lucid.notifications.retries import Attempt, retry
from lucid.notifications.signatures import (
    check_secret,
    new_secret,
    signed_headers,
    verify_delivery,
)
from lucid.ports.event_log import EventLog
from lucid.ports.unit_of_work import UnitsOfWork

__all__ = ["DispatchResult", "Subscriptions", "post_signed", "verify_delivery"]


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


def post_signed(
    url: str, body: bytes, headers: dict[str, str], timeout: float, number: int
) -> Attempt:
    """Attempt `number` of POSTing a signed event: delivered on a 2xx answer."""
    try:
        status = client.post(url, body, headers, timeout).status_code
    except client.TransportError as failure:
        return Attempt(number, False, str(failure))
    if 200 <= status < 300:
        return Attempt(number, True, f"HTTP {status}", status)
    return Attempt(number, False, f"HTTP {status}", status)


class Subscriptions:
    """Add, list and dispatch webhook subscriptions to the event log."""

    def __init__(
        self,
        uows: UnitsOfWork,
        events: EventLog,
        *,
        clock: Callable[[], datetime],
        attempts: int = 3,
        backoff_seconds: float = 0.5,
        timeout_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._uows = uows
        self._events = events
        self._clock = clock
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._timeout = timeout_seconds
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
        shared = new_secret() if secret is None else check_secret(secret)
        subscription_id = secrets.token_hex(8)
        with self._uows() as uow:
            cursor = 0 if from_start else uow.access.last_event_seq()
            uow.access.add_subscription(
                Subscription(
                    subscription_id,
                    url,
                    tuple(types),
                    shared,
                    cursor,
                    created_by=actor,
                    created_at=format_time(self._clock()),
                )
            )
            uow.record(
                NewEvent.of(
                    SubscriptionAdded(subscription_id, url, types),
                    actor=actor,
                    subject=Subject("subscription", subscription_id),
                    rationale=rationale,
                )
            )
        return subscription_id, shared

    def entries(self) -> list[dict[str, Any]]:
        with self._uows.read() as uow:
            subscriptions = uow.access.subscriptions()
        return [
            {
                "id": s.id,
                "url": s.url,
                "event_types": list(s.event_types),
                "cursor": s.cursor,
                "created_by": s.created_by,
                "created_at": s.created_at,
            }
            for s in subscriptions
        ]

    def deliveries(self, subscription_id: str) -> list[dict[str, Any]]:
        with self._uows.read() as uow:
            attempts = uow.access.webhook_attempts(subscription_id)
        keys = ("event_seq", "attempt", "delivered", "http_status", "error")
        return [{key: asdict(a)[key] for key in keys} for a in attempts]

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
        with self._uows.read() as uow:
            subscription = uow.access.subscription(subscription_id)
        if subscription is None:
            raise NotFound(f"Subscription {subscription_id} does not exist.")
        types = set(subscription.event_types)
        scanned = self._events.read(after=subscription.cursor, limit=batch)
        for event in scanned:
            if types and event.type not in types:
                continue
            last = self._deliver(subscription, event)
            failures += last.number - (1 if last.delivered else 0)
            if not last.delivered:
                self._set_cursor(subscription_id, event.seq - 1)
                return sent, failures, True
            sent += 1
            self._set_cursor(subscription_id, event.seq)
        if scanned:
            self._set_cursor(subscription_id, scanned[-1].seq)
        return sent, failures, False

    def _deliver(self, subscription: Subscription, event: RecordedEvent) -> Attempt:
        body = json.dumps(event.to_dict(), sort_keys=True).encode()
        message_id = f"{subscription.id}:{event.seq}"

        def attempt(number: int) -> Attempt:
            headers = {
                "Content-Type": "application/json",
                "X-Lucid-Event": event.type,
                **signed_headers(subscription.secret, message_id, body, self._clock()),
            }
            return post_signed(subscription.url, body, headers, self._timeout, number)

        def record(attempt: Attempt) -> None:
            with self._uows() as uow:
                uow.access.add_webhook_attempt(
                    WebhookAttempt(
                        subscription.id,
                        event.seq,
                        attempt.number,
                        attempt.delivered,
                        attempt.status,
                        None if attempt.delivered else attempt.detail,
                        format_time(self._clock()),
                    )
                )

        last = retry(
            attempt,
            attempts=self._attempts,
            backoff_seconds=self._backoff,
            sleep=self._sleep,
            record=record,
        )
        assert last is not None  # attempts >= 1 and none made before
        return last

    def _set_cursor(self, subscription_id: str, cursor: int) -> None:
        with self._uows() as uow:
            uow.access.set_cursor(subscription_id, cursor)
