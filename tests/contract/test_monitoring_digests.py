"""Stakeholder digests on SQLite and PostgreSQL: delivered to a real HTTP receiver and a
real SMTP server, retried and recorded like alerts, once per period — also when two
processes race — and finished by the next call when a sender died."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from lucid.contracts.digests import DigestRecord
from lucid.errors import InvalidInput
from lucid.monitoring.monitor import Monitoring
from lucid.notifications.digests import DigestMessage, digest_channels
from lucid.registry.model_registry import ModelRegistry
from lucid.settings import AlertChannel
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from tests.contract.test_monitoring_actions import monitoring, profiled
from tests.monitoring_world import (
    DAY2,
    DAY3,
    Clock,
    HttpReceiver,
    adopt_churn_policy,
    smtp_receiver,
)

KOLKATA = timezone(timedelta(hours=5, minutes=30))


def with_policy(service: Monitoring) -> None:
    adopt_churn_policy(service)


def test_the_digest_reaches_every_stakeholder_channel_once_per_period(
    db: Database,
    event_log: SqlEventLog,
    registry: ModelRegistry,
    engine: Any,
    clock: Clock,
    receiver: HttpReceiver,
) -> None:
    with smtp_receiver() as smtp:
        channels = (
            AlertChannel(name="hook", kind="webhook", url=receiver.url + "/hook"),
            AlertChannel(
                name="chat", kind="slack", url=receiver.url + "/chat", targets=("business_team",)
            ),
            AlertChannel(
                name="ops-only", kind="slack", url=receiver.url + "/ops", targets=("ops",)
            ),
            AlertChannel(name="broken", kind="webhook", url=receiver.url + "/fail"),
            AlertChannel(
                name="mail",
                kind="email",
                smtp_host=smtp.host,
                smtp_port=smtp.port,
                smtp_security="none",  # a loopback relay without TLS or login
                sender="lucid@example.com",
                recipients=("fallback@example.com",),
            ),
            AlertChannel(name="pager", kind="pagerduty", url=receiver.url + "/pd", routing_key="k"),
        )
        service = monitoring(db, event_log, registry, engine, clock, channels)
        with_policy(service)
        profiled(service, tenure_shift_sd=0.38)
        run = service.run("churn")
        assert run.record.level == "warning"
        receiver.received.clear()
        smtp.messages.clear()  # the run's alert went there too
        clock.sleeps.clear()

        [report] = service.send_digests()

        assert (
            report.digest.period
            == f"{DAY2:%Y-%m-%d}T00:00:00.000000Z/{DAY3:%Y-%m-%d}T00:00:00.000000Z"
        )
        delivered = {d.channel: (d.delivered, d.attempts) for d in report.deliveries}
        assert delivered == {
            "hook": (True, 1),
            "chat": (True, 1),
            "broken": (False, 3),
            "mail": (True, 1),
        }  # not pagerduty, not a channel for another team
        [mail] = smtp.messages
        assert mail["To"] == (
            "data_team@company.com, product_team@company.com, business_team@company.com"
        )
        assert "daily digest churn" in mail["Subject"] and "warning" in mail["Subject"]
    [(_, hook)] = [item for item in receiver.received if item[0] == "/hook"]
    assert hook["kind"] == "digest" and hook["worst_level"] == "warning"
    [digest_run] = hook["runs"]
    assert digest_run["id"] == run.record.id
    levels = {(c["threshold"], c["feature"]): c["level"] for c in digest_run["checks"]}
    assert levels[("psi", "tenure")] == "warning" and levels[("psi", "activity")] == "ok"
    assert [i["status"] for i in hook["open_incidents"]] == ["open"]
    assert [a["target"] for a in hook["unacknowledged_alerts"]] == ["data_team"]
    [(_, chat)] = [item for item in receiver.received if item[0] == "/chat"]
    assert "psi tenure" in chat["text"] and "(warning)" in chat["text"]
    assert not [p for p, _ in receiver.received if p in ("/pd", "/ops")]
    assert clock.sleeps == [0.5, 1.0]
    [sent] = event_log.read(type="DigestSent")
    assert sent.payload["failed"] == ["broken"] and sent.payload["runs"] == 1
    assert len(event_log.read(type="DigestDeliveryAttempted", limit=100)) == 6
    assert len(service.digest_store.deliveries(report.digest.id)) == 6

    # The same period again: nothing. The next day: a digest saying no run was made.
    assert service.send_digests() == []
    clock.now += timedelta(days=1)
    receiver.received.clear()
    [next_day] = service.send_digests()
    assert next_day.digest.content["runs"] == [] and next_day.digest.content["worst_level"] is None
    [(_, body)] = [item for item in receiver.received if item[0] == "/hook"]
    assert body["runs"] == [] and len(body["open_incidents"]) == 1
    assert len(event_log.read(type="DigestSent")) == 2


def test_two_senders_racing_send_one_digest(
    db: Database,
    event_log: SqlEventLog,
    registry: ModelRegistry,
    engine: Any,
    clock: Clock,
    receiver: HttpReceiver,
) -> None:
    channels = (AlertChannel(name="hook", kind="webhook", url=receiver.url + "/hook"),)
    first = monitoring(db, event_log, registry, engine, clock, channels)
    with_policy(first)
    second = monitoring(db, SqlEventLog(db), registry, engine, clock, channels)
    start = threading.Barrier(2)
    found: list[Any] = []

    def send(service: Monitoring) -> None:
        start.wait()
        found.append(service.send_digests())

    threads = [threading.Thread(target=send, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(len(reports) for reports in found) == [0, 1]
    assert len(receiver.received) == 1
    assert len(event_log.read(type="DigestSent")) == 1
    assert len(first.digests("churn")) == 1
    assert event_log.verify().ok


def test_a_digest_left_pending_by_a_dead_sender_is_delivered_by_the_next_call(
    db: Database,
    event_log: SqlEventLog,
    registry: ModelRegistry,
    engine: Any,
    clock: Clock,
    receiver: HttpReceiver,
) -> None:
    channels = (
        AlertChannel(name="hook", kind="webhook", url=receiver.url + "/hook"),
        AlertChannel(name="chat", kind="slack", url=receiver.url + "/chat"),
    )
    service = monitoring(db, event_log, registry, engine, clock, channels)
    with_policy(service)
    policy = service.policy("churn")
    # What a sender that died after storing the digest and delivering to one channel leaves.
    from lucid.notifications.digests import Digests

    digests = Digests(
        db.session_lock,
        service.digest_store,
        service.store,
        service.alert_store,
        service.alert_settings,
        clock=clock,
        sleep=clock.sleep,
    )
    period = f"{DAY2:%Y-%m-%d}T00:00:00.000000Z/{DAY3:%Y-%m-%d}T00:00:00.000000Z"
    content = digests.content(policy, *period.split("/"))
    stored = service.digest_store.create(
        DigestRecord("d-1", "churn", period, "2026-11-03T00:05:00.000000Z", content, None)
    )
    from lucid.contracts.events import NewEvent
    from lucid.contracts.monitoring_events import DigestDeliveryAttempted
    from lucid.contracts.registry_events import model_subject

    service.digest_store.record_attempt(
        {
            "digest_id": stored.id,
            "channel": "hook",
            "attempt": 1,
            "attempted_at": "2026-11-03T00:05:01.000000Z",
            "delivered": True,
            "detail": "HTTP 202",
        },
        NewEvent.of(
            DigestDeliveryAttempted("churn", stored.id, "hook", 1, True, "HTTP 202"),
            actor="monitoring",
            subject=model_subject("churn"),
            rationale="delivered before the sender died",
        ),
    )

    [report] = service.send_digests()

    assert report.resumed and report.digest.id == "d-1" and report.digest.sent_at is not None
    assert [p for p, _ in receiver.received] == ["/chat"]  # the webhook had it already
    assert len(event_log.read(type="DigestSent")) == 1
    assert service.send_digests() == []


def test_bad_input_to_send_digests_is_refused_and_sends_nothing(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    with_policy(service)
    before = event_log.count()
    with pytest.raises(InvalidInput, match="name"):
        service.send_digests(model="Not A Name")
    with pytest.raises(InvalidInput, match=r"now: 'Tuesday' \(text\) is not a time"):
        service.send_digests("Tuesday")  # type: ignore[arg-type]
    assert event_log.count() == before and service.digests() == []
    # A naive `now` means UTC: the same period as the aware time, sent once.
    [sent] = service.send_digests(datetime(2026, 11, 3, 1))
    assert sent.digest.sent_at
    assert service.send_digests(datetime(2026, 11, 3, 6, 30, tzinfo=KOLKATA)) == []


def test_digest_channels_skip_paging_and_other_teams() -> None:
    channels = (
        AlertChannel(name="pager", kind="pagerduty", url="http://x", routing_key="k"),
        AlertChannel(name="ops", kind="slack", url="http://x", targets=("ops",)),
        AlertChannel(name="data", kind="slack", url="http://x", targets=("data_team",)),
        AlertChannel(name="mail", kind="email", smtp_host="h", sender="s@x", recipients=("r@x",)),
    )
    chosen = digest_channels(channels, ("data_team@company.com",))
    assert [c.name for c in chosen] == ["data", "mail"]
    assert chosen[1].recipients == ("data_team@company.com",)
    assert digest_channels(channels, ("data_team",))[1].recipients == ("r@x",)
    message = DigestMessage(
        "d",
        {
            "model": "m",
            "period": "p",
            "frequency": "daily",
            "worst_level": None,
            "runs": [],
            "open_incidents": [],
            "unacknowledged_alerts": [],
        },
    )
    assert message.text.splitlines()[1] == "No monitoring run over this period."
