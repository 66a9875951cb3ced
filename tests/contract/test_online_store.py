"""One online-store suite, run on SQLite and on the real Redis at 127.0.0.1:6379."""

from __future__ import annotations

from lucid.storage.online_store import OnlineStore


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
