"""Event log throughput: appends (one per transaction, batched) and chain verification.

Prints events/s on SQLite (WAL) and PostgreSQL beside a baseline measured in the same run:
the bare driver inserting pre-built rows one per transaction (no sealing, no hashing), and
the bare driver reading every row back (no hashing). Goals: >= 5,000 single appends/s on
SQLite and verification of 1,000,000 events in under 10 s.

    uv run python bench/event_log.py [--verify-events 1000000] [--singles 5000]
        [--backends sqlite,postgresql] [--postgres-url postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from lucid.contracts.events import DecisionRecorded, NewEvent, Subject
from lucid.storage import schema
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.tables import events

EVENT = NewEvent.of(
    DecisionRecorded(title="Routine review", decision="keep the current model"),
    actor="bench",
    subject=Subject("model", "churn@1"),
    rationale="weekly review found no drift",
)


@contextmanager
def database(backend: str, postgres_url: str) -> Iterator[Database]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite:///{Path(folder) / 'metadata.db'}")
            schema.upgrade(db)
            yield db
            db.dispose()
        return
    name = f"lucid_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
    try:
        db = Database(f"{postgres_url}?options=-csearch_path%3D{name}")
        schema.upgrade(db)
        yield db
        db.dispose()
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{name}" CASCADE')


def rate(count: int, action: Callable[[], object]) -> tuple[float, float]:
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    return count / elapsed, elapsed


def bare_single_inserts(db: Database, count: int) -> None:
    """Baseline: the driver alone, one pre-built row per locked transaction, no hashing."""
    log = SqlEventLog(db)
    template = log.read(limit=1)[0]
    start = log.count()
    names = [column.name for column in events.columns]
    placeholder = ":{}" if db.is_sqlite else "%({})s"
    sql = (
        f"INSERT INTO events_baseline ({', '.join(names)}) "
        f"VALUES ({', '.join(placeholder.format(name) for name in names)})"
    )
    for offset in range(1, count + 1):
        with db.raw_transaction("bench") as cursor:
            cursor.execute(
                sql,
                {
                    "seq": start + offset,
                    "id": str(uuid.uuid4()),
                    "type": template.type,
                    "occurred_at": template.occurred_at,
                    "recorded_at": template.recorded_at,
                    "actor": template.actor,
                    "subject": template.subject,
                    "payload": template.payload_json,
                    "rationale": template.rationale,
                    "prev_hash": uuid.uuid4().hex,
                    "hash": uuid.uuid4().hex,
                },
            )


def bare_read(db: Database) -> int:
    """Baseline: the driver alone reading every event row, no hashing."""
    rows = 0
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT * FROM events ORDER BY seq")
        while batch := cursor.fetchmany(10_000):
            rows += len(batch)
    finally:
        connection.close()
    return rows


def run(backend: str, args: argparse.Namespace) -> None:
    with database(backend, args.postgres_url) as db:
        log = SqlEventLog(db)
        log.append(EVENT)
        with db.transaction() as connection:
            connection.exec_driver_sql("CREATE TABLE events_baseline AS SELECT * FROM events")
        singles = args.singles
        single, _ = rate(singles, lambda: [log.append(EVENT) for _ in range(singles)])
        baseline, _ = rate(singles, lambda: bare_single_inserts(db, singles))
        print(
            f"{backend:10} single appends    {single:10,.0f} events/s   (bare driver insert, "
            f"no hashing: {baseline:,.0f}/s; ratio {baseline / single:.2f}x)"
        )

        batch_size, total = 1_000, args.verify_events
        remaining = total - log.count()
        started = time.perf_counter()
        while remaining > 0:
            size = min(batch_size, remaining)
            log.append_many([EVENT] * size)
            remaining -= size
        appended = total - singles - 1
        elapsed = time.perf_counter() - started
        print(
            f"{backend:10} batched appends   {appended / elapsed:10,.0f} events/s   "
            f"(batches of {batch_size}, {appended:,} events in {elapsed:.1f} s)"
        )

        verify_rate, verify_time = rate(total, lambda: _check(log.verify(), total))
        _, read_time = rate(total, lambda: bare_read(db))
        print(
            f"{backend:10} verification      {verify_rate:10,.0f} events/s   "
            f"({total:,} events in {verify_time:.2f} s; bare driver read {read_time:.2f} s, "
            f"ratio {verify_time / read_time:.2f}x)"
        )


def _check(verdict: object, expected: int) -> None:
    assert getattr(verdict, "ok", False), verdict
    assert getattr(verdict, "events", 0) == expected, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    parser.add_argument("--singles", type=int, default=5_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        run(backend, args)


if __name__ == "__main__":
    main()
