"""`PredictionJournal`: a request being predicted joins the commit of one that logged first;
one that will not log holds no commit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lucid.bootstrap import Lucid, open_project
from lucid.errors import StorageUnavailable
from lucid.monitoring.predictions import prediction_rows
from lucid.project import init_project
from lucid.service.group_commit import Entry, PredictionJournal
from lucid.storage import database
from lucid.storage.tables import prediction_log
from tests.writer_turns import release, turn_held_elsewhere


@pytest.fixture
def lucid(tmp_path: Path) -> Iterator[Lucid]:
    """An open project on its SQLite file."""
    init_project(tmp_path, name="journal", actor="test", environ={}).close()
    with open_project(tmp_path, environ={}) as opened:
        yield opened


@pytest.fixture
def journal(lucid: Lucid) -> PredictionJournal:
    return PredictionJournal(lucid)


def entry(entity: str) -> Entry:
    row = {"entity": entity, "served_at": datetime.now(UTC), "features": {"x": 1.0}}
    return Entry(predictions=prediction_rows("churn", 1, [row | {"score": 0.5}]))


def logged(lucid: Lucid) -> list[str]:
    with lucid.db.transaction() as connection:
        return list(connection.execute(select(prediction_log.c.entity)).scalars())


def counted_writes(journal: PredictionJournal) -> list[int]:
    """How many predictions each commit of `journal` stored, in order."""
    commits: list[int] = []
    rows = journal._store_rows
    write = rows.write

    def counting(*args: Any) -> None:
        write(*args)
        commits.append(len(args[1]))

    rows.write = counting  # type: ignore[method-assign]
    return commits


def test_a_request_being_predicted_joins_the_commit_of_one_that_logged_first(
    lucid: Lucid, journal: PredictionJournal
) -> None:
    commits = counted_writes(journal)

    async def main() -> None:
        first, second = journal.expect(), journal.expect()

        async def later() -> None:
            await asyncio.sleep(0)  # its prediction takes a turn of the loop longer
            await asyncio.sleep(0)
            await journal.log(entry("c2"), second)

        await asyncio.gather(journal.log(entry("c1"), first), later())
        await journal.log(entry("c3"), journal.expect())  # alone: no one to wait for

    asyncio.run(main())
    assert commits == [2, 1]
    assert sorted(logged(lucid)) == ["c1", "c2", "c3"]


def test_a_request_that_will_not_log_holds_no_commit(
    lucid: Lucid, journal: PredictionJournal
) -> None:
    commits = counted_writes(journal)

    async def main() -> None:
        refused, forgotten = journal.expect(), journal.expect()
        logging = asyncio.ensure_future(journal.log(entry("c1"), journal.expect()))
        await asyncio.sleep(0)
        journal.settle(refused)  # refused before its log: the commit goes on without it
        await asyncio.wait_for(asyncio.shield(logging), timeout=5)
        assert forgotten.coming  # never settled: the commit waited its time, no more

    asyncio.run(main())
    assert commits == [1]
    assert logged(lucid) == ["c1"]


def test_the_loop_runs_while_another_process_holds_the_writers_turn_and_all_join(
    lucid: Lucid, journal: PredictionJournal
) -> None:
    commits = counted_writes(journal)
    ticks = 0

    async def main() -> None:
        nonlocal ticks
        first = asyncio.ensure_future(journal.log(entry("c1"), journal.expect()))
        for _ in range(20):  # the loop is free: this coroutine runs while c1 waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert not first.done()
        second = asyncio.ensure_future(journal.log(entry("c2"), journal.expect()))
        await asyncio.sleep(0.01)
        release(holder)
        await asyncio.wait_for(asyncio.gather(first, second), timeout=10)

    with turn_held_elsewhere(lucid.db.url) as holder:
        asyncio.run(main())
    assert ticks == 20
    assert commits == [2]  # handed in during the wait: one commit
    assert sorted(logged(lucid)) == ["c1", "c2"]


def test_a_writers_turn_that_never_comes_fails_every_waiting_request_with_its_sentence(
    lucid: Lucid, journal: PredictionJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 300)

    async def main() -> list[Any]:
        logs = [journal.log(entry(f"c{n}"), journal.expect()) for n in range(3)]
        return await asyncio.wait_for(asyncio.gather(*logs, return_exceptions=True), timeout=10)

    with turn_held_elsewhere(lucid.db.url):
        failures = asyncio.run(main())
    assert all(isinstance(failure, StorageUnavailable) for failure in failures)
    assert "held the SQLite database" in str(failures[0])
    assert logged(lucid) == []
    asyncio.run(journal.log(entry("c9")))  # the turn is free again
    assert logged(lucid) == ["c9"]
