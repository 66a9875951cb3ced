"""The unit of work on every metadata backend: rows and events commit together or not at all."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from lucid.contracts.events import DecisionRecorded, NewEvent, RecordedEvent, Subject
from lucid.ports import UnitOfWork
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.tables import feature_sources
from lucid.storage.unit_of_work import SqlUnitsOfWork


def decision(title: str) -> NewEvent:
    return NewEvent.of(
        DecisionRecorded(title=title, decision="ship"),
        actor="ana",
        subject=Subject.parse("model:churn@1"),
        rationale=f"reason for {title}",
    )


def add_row(uow: UnitOfWork, name: str) -> None:
    connection = uow.connection  # type: ignore[attr-defined]
    connection.execute(
        insert(feature_sources).values(name=name, spec="{}", registered_by="ana", registered_at="t")
    )


def stored_rows(db: Database) -> int:
    with db.transaction() as connection:
        return int(connection.execute(select(func.count()).select_from(feature_sources)).scalar())


@pytest.fixture
def uows(db: Database, event_log: SqlEventLog) -> SqlUnitsOfWork:
    return SqlUnitsOfWork(db, event_log)


def test_rows_and_events_commit_together(uows: SqlUnitsOfWork, db: Database) -> None:
    with uows() as uow:
        add_row(uow, "a")
        recorded = uow.record(decision("a"))
    assert stored_rows(db) == 1
    assert [e.id for e in uows.events.read()] == [recorded.id]


def test_an_error_undoes_rows_events_and_after_commit_actions(
    uows: SqlUnitsOfWork, db: Database
) -> None:
    ran: list[str] = []
    with pytest.raises(ValueError, match="refused"), uows() as uow:
        add_row(uow, "a")
        uow.record(decision("a"))
        uow.after_commit(lambda: ran.append("after"))
        raise ValueError("refused")
    assert stored_rows(db) == 0
    assert uows.events.count() == 0
    assert ran == []


def test_a_nested_unit_joins_the_outer_one(uows: SqlUnitsOfWork, db: Database) -> None:
    ran: list[str] = []
    with pytest.raises(ValueError), uows() as outer:
        with uows() as inner:
            add_row(inner, "inner")
            inner.record(decision("inner"))
            inner.after_commit(lambda: ran.append("inner"))
        assert ran == []  # the inner unit did not commit on its own
        raise ValueError("the outer unit fails")
    assert stored_rows(db) == 0 and uows.events.count() == 0 and ran == []
    with uows() as outer:
        with uows() as inner:
            inner.record(decision("inner"))
            inner.after_commit(lambda: ran.append("inner"))
        outer.record(decision("outer"))
    assert [e.seq for e in uows.events.read()] == [1, 2]
    assert ran == ["inner"]


def test_handlers_run_in_the_recording_transaction(uows: SqlUnitsOfWork, db: Database) -> None:
    seen: list[int] = []

    def follow(uow: UnitOfWork, event: RecordedEvent) -> None:
        seen.append(event.seq)
        if event.payload["title"] == "bad":
            raise ValueError("the handler refuses")

    uows.subscribe("DecisionRecorded", follow)
    with uows() as uow:
        uow.record(decision("good"))
    with pytest.raises(ValueError), uows() as uow:
        add_row(uow, "bad")
        uow.record(decision("bad"))
    assert seen == [1, 2]
    assert uows.events.count() == 1 and stored_rows(db) == 0


def test_a_read_unit_cannot_record(uows: SqlUnitsOfWork) -> None:
    with pytest.raises(RuntimeError, match="read-only"), uows.read() as uow:
        uow.record(decision("a"))
    assert uows.events.count() == 0


def test_a_read_inside_a_write_sees_its_rows(uows: SqlUnitsOfWork) -> None:
    with uows() as uow:
        add_row(uow, "a")
        with uows.read() as reading:
            connection = reading.connection  # type: ignore[attr-defined]
            count = connection.execute(select(func.count()).select_from(feature_sources)).scalar()
    assert count == 1


def test_a_locked_transaction_inside_another_joins_it(db: Database) -> None:
    with db.locked_transaction("events") as outer, db.locked_transaction("other") as inner:
        assert inner is outer
    with pytest.raises(ValueError), db.locked_transaction("events") as outer:
        with db.locked_transaction("events") as inner:
            inner.execute(
                insert(feature_sources).values(
                    name="a", spec="{}", registered_by="ana", registered_at="t"
                )
            )
        raise ValueError("the outer block fails")
    assert stored_rows(db) == 0
