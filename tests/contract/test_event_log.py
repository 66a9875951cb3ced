"""The event log on every metadata backend: SQLite (WAL) and the real PostgreSQL server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lucid.contracts.events import DecisionRecorded, NewEvent, Subject
from lucid.errors import InvalidInput
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog

WORKER = Path(__file__).with_name("append_worker.py")


def decision(title: str, subject: str = "model:churn@1", actor: str = "ana") -> NewEvent:
    return NewEvent.of(
        DecisionRecorded(title=title, decision="ship"),
        actor=actor,
        subject=Subject.parse(subject),
        rationale=f"reason for {title}",
    )


def test_appended_events_read_back_in_order(event_log: SqlEventLog) -> None:
    first = event_log.append(decision("a"))
    rest = event_log.append_many([decision("b"), decision("c", subject="model:churn@2")])
    stored = event_log.read()
    assert [e.id for e in stored] == [first.id, *(e.id for e in rest)]
    assert [e.seq for e in stored] == [1, 2, 3]
    assert stored == [first, *rest]
    assert stored[1].prev_hash == stored[0].hash
    assert stored[0].payload == {"title": "a", "decision": "ship"}
    assert event_log.count() == 3
    assert event_log.verify().to_dict() == {
        "ok": True,
        "events": 3,
        "first_bad": None,
        "reason": None,
    }


def test_read_pages_with_a_cursor_and_filters(event_log: SqlEventLog) -> None:
    event_log.append_many([decision(f"e{n}", subject=f"model:m@{n % 2}") for n in range(7)])
    first_page = event_log.read(limit=3)
    second_page = event_log.read(after=first_page[-1].seq, limit=3)
    assert [e.payload["title"] for e in first_page + second_page] == [f"e{n}" for n in range(6)]
    odd = event_log.read(subject="model:m@1")
    assert [e.payload["title"] for e in odd] == ["e1", "e3", "e5"]
    assert event_log.read(type="ProjectInitialised") == []


@pytest.mark.parametrize(("kwargs", "message"), [({"limit": 0}, "limit"), ({"after": -1}, "after")])
def test_bad_read_arguments_are_named(event_log: SqlEventLog, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        event_log.read(**kwargs)


def test_a_bad_event_in_a_batch_stores_nothing(event_log: SqlEventLog) -> None:
    event_log.append(decision("kept"))
    bad = NewEvent("DecisionRecorded", "ana", Subject("x", "y"), {"v": float("nan")}, "why")
    with pytest.raises(InvalidInput, match="must be a finite number"):
        event_log.append_many([decision("lost"), bad])
    assert [e.payload["title"] for e in event_log.read()] == ["kept"]
    assert event_log.verify().ok


@pytest.mark.parametrize("statement", ["UPDATE events SET actor = 'mallory'", "DELETE FROM events"])
def test_the_database_refuses_updates_and_deletes(
    db: Database, event_log: SqlEventLog, statement: str
) -> None:
    event_log.append(decision("a"))
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as connection:
        connection.execute(text(statement))
    assert event_log.read()[0].actor == "ana"


def tamper(db: Database, seq: int) -> None:
    """Rewrite one stored event as an administrator who first disables the protection."""
    with db.transaction() as connection:
        if db.is_sqlite:
            connection.execute(text("DROP TRIGGER events_append_only_update"))
        else:
            connection.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        connection.execute(
            text("UPDATE events SET rationale = 'nobody objected' WHERE seq = :seq"), {"seq": seq}
        )


def test_a_tampered_event_is_named_by_verify(db: Database, event_log: SqlEventLog) -> None:
    events = event_log.append_many([decision(f"e{n}") for n in range(5)])
    tamper(db, seq=3)
    verdict = event_log.verify()
    assert not verdict.ok
    assert verdict.first_bad == events[2].id
    assert verdict.events == 3
    assert "content was changed after it was recorded" in (verdict.reason or "")


def _start_workers(url: str, count: int, labels: list[str]) -> list[subprocess.Popen[str]]:
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), url, str(count), label],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for label in labels
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    return workers


@pytest.mark.slow
def test_two_processes_appending_at_once_leave_one_valid_chain(
    database_url: str, event_log: SqlEventLog
) -> None:
    workers = _start_workers(database_url, 2_000, ["left", "right"])
    returned: list[str] = []
    for worker in workers:
        out, _ = worker.communicate(timeout=240)
        assert worker.returncode == 0
        returned.extend(out.split())
    assert len(returned) == 4_000
    verdict = event_log.verify()
    assert verdict.ok, verdict.reason
    assert verdict.events == 4_000
    stored = [e.id for e in event_log.scan()]
    assert sorted(stored) == sorted(returned)
    actors = [e.actor for e in event_log.scan()]
    assert actors.count("left") == actors.count("right") == 2_000


@pytest.mark.slow
def test_a_killed_writer_loses_no_returned_event(database_url: str, event_log: SqlEventLog) -> None:
    [worker] = _start_workers(database_url, 1_000_000, ["doomed"])
    assert worker.stdout is not None
    returned = []
    while len(returned) < 300:
        returned.append(worker.stdout.readline().strip())
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    returned.extend(line.strip() for line in worker.stdout if line.strip())
    worker.stdout.close()
    assert worker.stdin is not None
    worker.stdin.close()
    stored = {e.id for e in event_log.scan()}
    assert set(returned) <= stored
    verdict = event_log.verify()
    assert verdict.ok, verdict.reason
    # After the crash the log still takes appends and the chain continues.
    event_log.append(decision("after the crash"))
    assert event_log.verify().events == len(stored) + 1
