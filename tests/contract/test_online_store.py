"""One online-store suite, run on SQLite and on the real Redis at 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from lucid.errors import StorageUnavailable
from lucid.ports.online import MATERIALISED
from lucid.storage.online_store import (
    OnlineStore,
    RedisOnlineStore,
    SqliteOnlineStore,
)
from tests.conftest import REDIS_URL

WORKER = Path(__file__).with_name("online_write_worker.py")


def test_written_values_read_back_with_their_types(online_store: OnlineStore) -> None:
    written = online_store.write(
        "f@1.0.0", [("a", 0.25, 100.0, 99.0), ("b", 3, 101.5, None), ("c", None, 102.0, 90.0)]
    )
    assert written == 3
    online_store.write("g@2.0.0", [("a", "gold", 100.0, 50.0), ("b", True, 99.0, 1.0)])
    found = online_store.read(["a", "b", "c", "zed"], ["f@1.0.0", "g@2.0.0"])
    assert found[("a", "f@1.0.0")] == (0.25, 100.0, 99.0)
    assert found[("b", "f@1.0.0")] == (3, 101.5, None)
    assert found[("a", "g@2.0.0")] == ("gold", 100.0, 50.0)
    assert found[("c", "f@1.0.0")] == (None, 102.0, 90.0)  # a stored missing value is not absent
    assert found[("b", "g@2.0.0")][0] in (True, 1)
    assert ("zed", "f@1.0.0") not in found and ("c", "g@2.0.0") not in found


def test_a_new_write_replaces_the_old_value(online_store: OnlineStore) -> None:
    online_store.write("f@1.0.0", [("a", 1.0, 10.0, 9.0)])
    online_store.write("f@1.0.0", [("a", 2.0, 20.0, 15.0)])
    assert online_store.read(["a"], ["f@1.0.0"]) == {("a", "f@1.0.0"): (2.0, 20.0, 15.0)}


def test_versions_are_kept_apart(online_store: OnlineStore) -> None:
    online_store.write("f@1.0.0", [("a", 1.0, 10.0, None)])
    online_store.write("f@2.0.0", [("a", 9.0, 10.0, None)])
    assert online_store.read(["a"], ["f@2.0.0"]) == {("a", "f@2.0.0"): (9.0, 10.0, None)}


def test_many_rows_in_one_write(online_store: OnlineStore) -> None:
    rows = [(f"e{n}", float(n), 1.0, 0.5) for n in range(25_000)]
    assert online_store.write("f@1.0.0", rows) == 25_000
    found = online_store.read(["e0", "e12345", "e24999"], ["f@1.0.0"])
    assert [found[(e, "f@1.0.0")][0] for e in ("e0", "e12345", "e24999")] == [0.0, 12345.0, 24999.0]


def test_async_reads_answer_as_the_blocking_read(online_store: OnlineStore) -> None:
    online_store.write("f@1.0.0", [("a", 0.25, 100.0, 99.0), ("b", None, 101.0, None)])
    online_store.write("g@2.0.0", [("a", "gold", 100.0, 98.0)])
    features = ["f@1.0.0", "g@2.0.0"]
    expected_one = online_store.read(["a"], features)
    expected_many = online_store.read(["a", "b", "zed"], features)

    async def read() -> tuple[object, list[object]]:
        try:
            one = await online_store.read_async(["a"], features)
            # Many reads at once on one event loop: each gets its own answers.
            many = await asyncio.gather(
                *(online_store.read_async(["a", "b", "zed"], features) for _ in range(25))
            )
            return one, many
        finally:
            if isinstance(online_store, RedisOnlineStore):
                online_store.close()  # on the loop its connection belongs to

    one, many = asyncio.run(read())
    assert (
        one
        == expected_one
        == {("a", "f@1.0.0"): (0.25, 100.0, 99.0), ("a", "g@2.0.0"): ("gold", 100.0, 98.0)}
    )
    assert all(answer == expected_many for answer in many)
    assert expected_many[("b", "f@1.0.0")] == (None, 101.0, None)
    # Only a store across the network makes a serving loop await its reads.
    assert online_store.reads_wait is isinstance(online_store, RedisOnlineStore)


def test_an_older_materialisation_never_replaces_a_newer_value(online_store: OnlineStore) -> None:
    assert online_store.write("f@1.0.0", [("a", 2.0, 20.0, 19.0), ("b", 2.0, 20.0, None)]) == 2
    # Computed for an earlier time (10 < 20): refused, and not counted as written.
    assert online_store.write("f@1.0.0", [("a", 1.0, 10.0, 9.5), ("b", 1.0, 10.0, 9.0)]) == 0
    assert online_store.read(["a", "b"], ["f@1.0.0"]) == {
        ("a", "f@1.0.0"): (2.0, 20.0, 19.0),
        ("b", "f@1.0.0"): (2.0, 20.0, None),
    }
    # The same time again replaces (a rerun); a later one too, its data time with it.
    assert online_store.write("f@1.0.0", [("a", 3.0, 20.0, None), ("b", 4.0, 30.0, 29.0)]) == 2
    assert online_store.read(["a", "b"], ["f@1.0.0"]) == {
        ("a", "f@1.0.0"): (3.0, 20.0, None),
        ("b", "f@1.0.0"): (4.0, 30.0, 29.0),
    }


def _url_and_namespace(store: OnlineStore) -> tuple[str, str]:
    if isinstance(store, SqliteOnlineStore):
        return f"sqlite:///{store.path}", "unused"
    assert isinstance(store, RedisOnlineStore)
    return store._url, store._prefix.removeprefix("lucid:").removesuffix(":")


@pytest.mark.parametrize("later_first", [True, False])
def test_two_processes_materialising_at_once_leave_the_newest_values(
    online_store: OnlineStore, later_first: bool
) -> None:
    url, namespace = _url_and_namespace(online_store)
    count = 2_000
    # Opposite orders: each entity is written by both, in either order.
    plans = [("200.0", "ascending"), ("100.0", "descending")]
    if not later_first:
        plans.reverse()
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), url, namespace, as_of, str(count), order],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for as_of, order in plans
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    for worker in workers:
        worker.communicate(timeout=240)
        assert worker.returncode == 0
    entities = [f"e{number}" for number in range(count)]
    found = online_store.read([*entities, MATERIALISED], ["f@1.0.0"])
    assert {found[(entity, "f@1.0.0")] for entity in entities} == {(200.0, 200.0, 199.0)}
    assert found[(MATERIALISED, "f@1.0.0")] == (None, 200.0, None)


def test_a_store_written_before_data_times_reads_without_one(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:  # the table as stores created it without data times
        old.execute(
            "CREATE TABLE online_values (entity TEXT NOT NULL, feature TEXT NOT NULL, value, "
            "as_of REAL NOT NULL, PRIMARY KEY (entity, feature)) WITHOUT ROWID"
        )
        old.execute("INSERT INTO online_values VALUES ('a', 'f@1.0.0', 1.5, 20.0)")
    old.close()
    store = SqliteOnlineStore(path)
    try:
        assert store.read(["a"], ["f@1.0.0"]) == {("a", "f@1.0.0"): (1.5, 20.0, None)}
        assert store.write("f@1.0.0", [("a", 9.0, 10.0, 9.0)]) == 0  # older: refused
        assert store.write("f@1.0.0", [("a", 2.5, 30.0, 29.0), ("b", 1.0, 30.0, None)]) == 2
        assert store.read(["a", "b"], ["f@1.0.0"]) == {
            ("a", "f@1.0.0"): (2.5, 30.0, 29.0),
            ("b", "f@1.0.0"): (1.0, 30.0, None),
        }
    finally:
        store.close()
    SqliteOnlineStore(path).close()  # opened again: the column is there, nothing to add


def test_a_redis_hash_written_before_data_times_reads_without_one() -> None:
    try:
        store = RedisOnlineStore(REDIS_URL, f"test_{uuid.uuid4().hex[:12]}")
    except StorageUnavailable as error:
        pytest.skip(error.sentence)
    try:
        # The fields a store wrote without data times: the JSON value and its as_of.
        store._client.hset(store._prefix + "a", mapping={"f@1.0.0": "1.5", "f@1.0.0#t": "20.0"})
        assert store.read(["a"], ["f@1.0.0"]) == {("a", "f@1.0.0"): (1.5, 20.0, None)}
        assert store.write("f@1.0.0", [("a", 9.0, 10.0, 9.0)]) == 0  # older: refused
        assert store.write("f@1.0.0", [("a", 2.5, 30.0, 29.0)]) == 1
        assert store.read(["a"], ["f@1.0.0"]) == {("a", "f@1.0.0"): (2.5, 30.0, 29.0)}
    finally:
        store.clear()
        store.close()
