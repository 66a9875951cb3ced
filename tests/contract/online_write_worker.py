"""A separate process that materialises one feature into an online store, in small writes.

Usage: python online_write_worker.py STORE_URL NAMESPACE AS_OF ENTITIES ORDER
Writes the value AS_OF (data time AS_OF - 1) for entities e0 … e{ENTITIES-1}, twenty per write,
in ascending or descending ORDER, three times over (so that two workers overlap in time), then
the materialisation marker; prints "ready" once the store is open and starts when a line
arrives on stdin.
"""

from __future__ import annotations

import sys

from lucid.ports.online import MATERIALISED
from lucid.storage.online_store import open_online_store

FEATURE = "f@1.0.0"


def main() -> None:
    url, namespace, as_of, count, order = sys.argv[1:6]
    moment = float(as_of)
    entities = [f"e{number}" for number in range(int(count))]
    if order == "descending":
        entities.reverse()
    store = open_online_store(url, namespace)
    print("ready", flush=True)
    sys.stdin.readline()  # start together with the other worker
    for _ in range(3):
        for start in range(0, len(entities), 20):
            batch = entities[start : start + 20]
            store.write(FEATURE, [(entity, moment, moment, moment - 1) for entity in batch])
    store.write(FEATURE, [(MATERIALISED, None, moment, None)])
    store.close()


if __name__ == "__main__":
    main()
