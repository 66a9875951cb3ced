"""One online-store suite, run on SQLite and on the real Redis at 127.0.0.1:6379."""

from __future__ import annotations

import asyncio

from lucid.storage.online_store import OnlineStore, RedisOnlineStore


def test_written_values_read_back_with_their_types(online_store: OnlineStore) -> None:
    written = online_store.write(
        "f@1.0.0", [("a", 0.25, 100.0), ("b", 3, 101.5), ("c", None, 102.0)]
    )
    assert written == 3
    online_store.write("g@2.0.0", [("a", "gold", 100.0), ("b", True, 99.0)])
    found = online_store.read(["a", "b", "c", "zed"], ["f@1.0.0", "g@2.0.0"])
    assert found[("a", "f@1.0.0")] == (0.25, 100.0)
    assert found[("b", "f@1.0.0")] == (3, 101.5)
    assert found[("a", "g@2.0.0")] == ("gold", 100.0)
    assert found[("c", "f@1.0.0")] == (None, 102.0)  # a stored missing value is not absent
    assert found[("b", "g@2.0.0")][0] in (True, 1)
    assert ("zed", "f@1.0.0") not in found and ("c", "g@2.0.0") not in found


def test_a_new_write_replaces_the_old_value(online_store: OnlineStore) -> None:
    online_store.write("f@1.0.0", [("a", 1.0, 10.0)])
    online_store.write("f@1.0.0", [("a", 2.0, 20.0)])
    assert online_store.read(["a"], ["f@1.0.0"]) == {("a", "f@1.0.0"): (2.0, 20.0)}


def test_versions_are_kept_apart(online_store: OnlineStore) -> None:
    online_store.write("f@1.0.0", [("a", 1.0, 10.0)])
    online_store.write("f@2.0.0", [("a", 9.0, 10.0)])
    assert online_store.read(["a"], ["f@2.0.0"]) == {("a", "f@2.0.0"): (9.0, 10.0)}


def test_many_rows_in_one_write(online_store: OnlineStore) -> None:
    rows = [(f"e{n}", float(n), 1.0) for n in range(25_000)]
    assert online_store.write("f@1.0.0", rows) == 25_000
    found = online_store.read(["e0", "e12345", "e24999"], ["f@1.0.0"])
    assert [found[(e, "f@1.0.0")][0] for e in ("e0", "e12345", "e24999")] == [0.0, 12345.0, 24999.0]


def test_async_reads_answer_as_the_blocking_read(online_store: OnlineStore) -> None:
    online_store.write("f@1.0.0", [("a", 0.25, 100.0), ("b", None, 101.0)])
    online_store.write("g@2.0.0", [("a", "gold", 100.0)])
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
        one == expected_one == {("a", "f@1.0.0"): (0.25, 100.0), ("a", "g@2.0.0"): ("gold", 100.0)}
    )
    assert all(answer == expected_many for answer in many)
    assert expected_many[("b", "f@1.0.0")] == (None, 101.0)
