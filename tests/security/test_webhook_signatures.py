"""Issue 20, item 11 (webhooks): a delivery signs its id, its time and its body (Standard
Webhooks), so a receiver using `verify_delivery` refuses a captured delivery replayed later, a
changed body and a wrong secret, each with a sentence naming the header and the rule. The
deliveries are real: Lucid's dispatcher POSTs to a receiver on loopback that verifies them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import standardwebhooks

from lucid.bootstrap import utc_now
from lucid.contracts.events import DecisionRecorded, NewEvent, Subject
from lucid.errors import InvalidInput
from lucid.notifications.channels import AlertMessage, notifier_for
from lucid.notifications.signatures import new_secret
from lucid.notifications.webhooks import Subscriptions, verify_delivery
from lucid.ports.notifier import NotDelivered
from lucid.settings import AlertChannel
from lucid.storage.event_log import SqlEventLog
from lucid.storage.unit_of_work import SqlUnitsOfWork


class VerifyingReceiver:
    """A real HTTP server that checks every delivery with `verify_delivery`: 204 when it
    verifies, else 400 with the sentence; it keeps what it accepted and what it refused."""

    def __init__(self) -> None:
        self.secret = ""
        self.tolerance_seconds = 300.0
        self.accepted: list[tuple[dict[str, str], bytes]] = []
        self.refused: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = dict(self.headers)
                try:
                    verify_delivery(
                        receiver.secret,
                        headers,
                        body,
                        tolerance_seconds=receiver.tolerance_seconds,
                    )
                except InvalidInput as refusal:
                    receiver.refused.append(str(refusal))
                    self.send_response(400)
                    self.end_headers()
                    self.wfile.write(str(refusal).encode())
                    return
                receiver.accepted.append((headers, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[VerifyingReceiver]:
    running = VerifyingReceiver()
    yield running
    running.close()


def delivered(db: Any, event_log: SqlEventLog, receiver: VerifyingReceiver) -> tuple[dict, bytes]:
    """One real delivery of a recorded event, accepted by the verifying receiver."""
    hooks = Subscriptions(
        SqlUnitsOfWork(db, event_log), event_log, clock=utc_now, sleep=lambda _: None
    )
    _, receiver.secret = hooks.add(
        receiver.url, event_types=["DecisionRecorded"], actor="ops", rationale="r"
    )
    event_log.append(
        NewEvent.of(
            DecisionRecorded(title="ship it", decision="d"),
            actor="ana",
            subject=Subject("model", "churn"),
            rationale="why",
        )
    )
    assert hooks.dispatch().to_dict() == {"delivered": 1, "failed_attempts": 0, "stuck": []}
    assert receiver.refused == []
    [(headers, body)] = receiver.accepted
    return headers, body


def signed(headers: dict[str, str]) -> dict[str, str]:
    """The signature headers of a captured delivery, to send them again."""
    return {k: v for k, v in headers.items() if k.lower().startswith("webhook-")}


def test_a_real_delivery_verifies_with_the_standard_webhooks_library_too(
    db: Any, event_log: SqlEventLog, receiver: VerifyingReceiver
) -> None:
    headers, body = delivered(db, event_log, receiver)
    assert receiver.secret.startswith("whsec_")
    assert json.loads(body)["payload"]["title"] == "ship it"
    # Any Standard Webhooks receiver verifies it with the secret as printed.
    assert standardwebhooks.Webhook(receiver.secret).verify(body, headers)["seq"] > 0


def test_a_captured_delivery_replayed_after_the_tolerance_is_refused(
    db: Any, event_log: SqlEventLog, receiver: VerifyingReceiver
) -> None:
    headers, body = delivered(db, event_log, receiver)
    receiver.tolerance_seconds = 2
    time.sleep(3.5)  # past the tolerance of 2 s (timestamps are whole seconds)
    answer = httpx.post(receiver.url, content=body, headers=signed(headers), timeout=5)
    assert answer.status_code == 400
    assert answer.text.startswith("webhook-timestamp: the delivery was signed ")
    assert "more than the 2 s allowed: it is refused as a possible replay" in answer.text
    assert len(receiver.accepted) == 1
    # The default tolerance (5 minutes), against a receiver's clock 301 s later.
    later = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC) + timedelta(seconds=301)
    with pytest.raises(InvalidInput, match=r"^webhook-timestamp: .* more than the 300 s allowed"):
        verify_delivery(receiver.secret, headers, body, now=later)


def test_a_changed_body_a_moved_timestamp_or_another_secret_is_refused(
    db: Any, event_log: SqlEventLog, receiver: VerifyingReceiver
) -> None:
    headers, body = delivered(db, event_log, receiver)
    changed = body.replace(b"ship it", b"roll back")
    with pytest.raises(InvalidInput, match=r"^webhook-signature: does not match the id"):
        verify_delivery(receiver.secret, headers, changed)
    answer = httpx.post(receiver.url, content=changed, headers=signed(headers), timeout=5)
    assert answer.status_code == 400 and answer.text.startswith("webhook-signature:")
    # A fresh timestamp on the old signature: the time is signed, so it does not match.
    moved = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)}
    with pytest.raises(InvalidInput, match=r"^webhook-signature: does not match"):
        verify_delivery(receiver.secret, moved, body)
    with pytest.raises(InvalidInput, match=r"^webhook-signature: does not match"):
        verify_delivery(new_secret(), headers, body)
    now = int(time.time())
    future = {**headers, "webhook-timestamp": str(now + 3600)}
    with pytest.raises(InvalidInput, match=r"^webhook-timestamp: .* 3600 s in the future"):
        verify_delivery(receiver.secret, future, body, now=datetime.fromtimestamp(now, UTC))
    unsigned = {k: v for k, v in headers.items() if k.lower() != "webhook-signature"}
    with pytest.raises(InvalidInput, match=r"^webhook-signature: is missing"):
        verify_delivery(receiver.secret, unsigned, body)
    assert len(receiver.accepted) == 1


def test_an_alert_webhook_with_a_signing_secret_is_signed_and_never_sent_unsigned(
    receiver: VerifyingReceiver,
) -> None:
    receiver.secret = new_secret()
    alert = AlertMessage("a1", "churn", "critical", "data", "PSI 0.4", [], [], "r1")
    hook = AlertChannel(
        name="ops",
        kind="webhook",
        url=receiver.url,
        signing_secret_env="OPS_HOOK_SECRET",
        signing_secret=receiver.secret,
    )
    assert notifier_for(hook).send(alert) == "HTTP 204"
    [(headers, body)] = receiver.accepted
    assert json.loads(body)["alert_id"] == "a1"
    assert headers["webhook-id"].startswith("msg_")
    # The secret's variable unset: the alert is not sent at all, rather than sent unsigned.
    unset = hook.model_copy(update={"signing_secret": None})
    with pytest.raises(NotDelivered, match=r"^signing_secret_env: .* OPS_HOOK_SECRET "):
        notifier_for(unset).send(alert)
    assert len(receiver.accepted) == 1 and receiver.refused == []
    assert receiver.secret not in repr(hook) and receiver.secret not in repr(notifier_for(hook))
