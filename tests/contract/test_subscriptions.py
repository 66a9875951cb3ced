"""Signed webhooks delivered to a real HTTP receiver on loopback, with retries recorded."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from lucid.bootstrap import utc_now
from lucid.contracts.events import DecisionRecorded, NewEvent, Subject
from lucid.errors import InvalidInput
from lucid.notifications.webhooks import Subscriptions, verify_delivery
from lucid.storage.event_log import SqlEventLog
from lucid.storage.unit_of_work import SqlUnitsOfWork


class Receiver:
    """A real HTTP server that answers with the status codes it is told, and keeps bodies."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status == 200:
                    receiver.received.append((dict(self.headers), body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def decision(title: str) -> NewEvent:
    return NewEvent.of(
        DecisionRecorded(title=title, decision="d"),
        actor="ana",
        subject=Subject("model", "churn"),
        rationale="why",
    )


def test_events_arrive_signed_in_order_and_failures_are_retried_then_resumed(
    db: Any, event_log: SqlEventLog, receiver: Receiver
) -> None:
    pauses: list[float] = []
    hooks = Subscriptions(
        SqlUnitsOfWork(db, event_log),
        event_log,
        clock=utc_now,
        attempts=3,
        backoff_seconds=0.5,
        sleep=pauses.append,
    )
    subscription, secret = hooks.add(
        receiver.url, event_types=["DecisionRecorded"], actor="ops", rationale="page the data team"
    )
    event_log.append_many([decision("one"), decision("two")])
    receiver.statuses = [500, 500, 500]  # the first event fails three times
    result = hooks.dispatch()
    assert result.to_dict() == {"delivered": 0, "failed_attempts": 3, "stuck": [subscription]}
    assert pauses == [0.5, 1.0]  # exponential backoff between the three attempts
    assert [
        (d["attempt"], d["http_status"], d["delivered"]) for d in hooks.deliveries(subscription)
    ] == [(1, 500, False), (2, 500, False), (3, 500, False)]
    receiver.statuses = [503]  # recovers after one more failure
    assert hooks.dispatch().to_dict() == {"delivered": 2, "failed_attempts": 1, "stuck": []}
    titles = [json.loads(body)["payload"]["title"] for _, body in receiver.received]
    assert titles == ["one", "two"]
    for headers, body in receiver.received:
        assert verify_delivery(secret, headers, body) == json.loads(body)
        assert headers["X-Lucid-Event"] == "DecisionRecorded"
    assert [headers["webhook-id"] for headers, _ in receiver.received] == [
        f"{subscription}:{json.loads(body)['seq']}" for _, body in receiver.received
    ]
    # Nothing new: nothing sent; the SubscriptionAdded event itself was filtered out.
    assert hooks.dispatch().delivered == 0
    assert len(receiver.received) == 2


def test_an_unreachable_receiver_is_recorded_not_dropped(db: Any, event_log: SqlEventLog) -> None:
    hooks = Subscriptions(
        SqlUnitsOfWork(db, event_log),
        event_log,
        clock=utc_now,
        attempts=2,
        sleep=lambda _: None,
        timeout_seconds=1,
    )
    subscription, _ = hooks.add(
        "http://127.0.0.1:9/nowhere", event_types=[], actor="ops", rationale="r"
    )
    event_log.append(decision("lost?"))
    assert hooks.dispatch().stuck == [subscription]
    attempts = hooks.deliveries(subscription)
    assert len(attempts) == 2 and all(not a["delivered"] and a["error"] for a in attempts)


@pytest.mark.parametrize(
    ("url", "secret", "message"),
    [
        ("ftp://x/y", None, "url: 'ftp://x/y' must be an http"),
        ("http://h/x", "short", "secret: must be whsec_"),
        ("http://h/x", "whsec_" + "A" * 20, "secret: must be whsec_"),  # 15 bytes
    ],
)
def test_bad_subscriptions_are_refused(
    db: Any, event_log: SqlEventLog, url: str, secret: str | None, message: str
) -> None:
    hooks = Subscriptions(SqlUnitsOfWork(db, event_log), event_log, clock=utc_now)
    before = event_log.count()
    with pytest.raises(InvalidInput, match=message):
        hooks.add(url, event_types=[], actor="ops", rationale="r", secret=secret)
    assert hooks.entries() == [] and event_log.count() == before
