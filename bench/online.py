"""Online serving latency: `FeatureServer.get_online_features` for one entity and five features.

Prints p50/p99/mean (µs, `perf_counter_ns` around each call, random entities, after a warm-up)
in-process on SQLite and on Redis, beside baselines measured in the same run on the same data:
a bare keyed `sqlite3` read of one row, the bare `sqlite3` read of the five rows (the store's
query shape), the online store's own `read` (the server's call without the server), and a bare
redis-py HMGET of the entity's hash. Five approved definitions (variants of
customer_activity_30d, TTL 2d) are resolved once and cached by the server; every store holds
`--entities` entities x 5 features. Goal (issue 26): Lucid's read on SQLite within 2x the
bare `sqlite3` read of the five rows at p99. A last pair of lines times the two interleaved,
call by call on the same entities, so a stall of the machine falls on both alike; the
verdict is read there (Feast's SDK measures 0.24-0.37 ms here).

    uv run python bench/online.py [--calls 20000] [--warmup 2000] [--entities 100000]
        [--redis-url redis://127.0.0.1:6379/0] [--log-calls 2000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import random
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from lucid.contracts.semantic import (
    Approval,
    Duration,
    FeatureDefinition,
    FeatureRef,
    Governed,
    Status,
)
from lucid.features.definition_files import load_definitions
from lucid.features.serving import FeatureServer
from lucid.ports.online import MATERIALISED
from lucid.storage import schema
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.online_store import (
    OnlineStore,
    RedisOnlineStore,
    SqliteOnlineStore,
)
from lucid.storage.unit_of_work import SqlUnitsOfWork

EXAMPLE = Path(__file__).parents[1] / "src/lucid/scenarios/churn/customer_activity.yaml"
NAMES = ("activity_30d", "activity_7d", "activity_90d", "purchases_30d", "logins_30d")
GOAL_RATIO = 2.0
"""Lucid's p99 on SQLite within this multiple of the bare five-row read's."""


def definitions() -> list[FeatureDefinition]:
    [base] = load_definitions(EXAMPLE).features
    return [
        dataclasses.replace(base, name=name, concept=name, ttl=Duration.parse("2d", "ttl"))
        for name in NAMES
    ]


def resolver(features: list[FeatureDefinition]) -> Callable[[FeatureRef], Governed]:
    approvals = tuple(Approval(team, "bench") for team in features[0].required_approvals)
    governed = {
        str(feature.ref): Governed(feature, Status.APPROVED, "bench", approvals)
        for feature in features
    }
    return lambda ref: governed[str(ref)]


def fill(store: OnlineStore, refs: list[str], entities: list[str], as_of: float) -> None:
    for number, ref in enumerate(refs):
        rows = ((e, (i % 97) / 97 + number, as_of, as_of) for i, e in enumerate(entities))
        store.write(ref, rows)
        store.write(ref, [(MATERIALISED, None, as_of, None)])


def timed(calls: list[str], warmup: int, action: Callable[[str], Any]) -> list[int]:
    for entity in calls[:warmup]:
        action(entity)
    samples = []
    clock = time.perf_counter_ns
    for entity in calls[warmup:]:
        started = clock()
        action(entity)
        samples.append(clock() - started)
    return samples


def interleaved(
    calls: list[str], warmup: int, first: Callable[[str], Any], second: Callable[[str], Any]
) -> tuple[list[int], list[int]]:
    """`timed` of both actions, one call of each per entity in turn."""
    for entity in calls[:warmup]:
        first(entity)
        second(entity)
    clock = time.perf_counter_ns
    samples: tuple[list[int], list[int]] = ([], [])
    for entity in calls[warmup:]:
        for action, kept in ((first, samples[0]), (second, samples[1])):
            started = clock()
            action(entity)
            kept.append(clock() - started)
    return samples


def summary(samples: list[int]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    count = len(ordered)
    p50 = ordered[count // 2] / 1000
    p99 = ordered[min(count - 1, int(count * 0.99))] / 1000
    return p50, p99, sum(ordered) / count / 1000


def report(name: str, samples: list[int], base: tuple[float, float, float] | None) -> None:
    p50, p99, mean = summary(samples)
    line = f"{name:44} p50 {p50:7.1f} µs   p99 {p99:7.1f} µs   mean {mean:7.1f} µs"
    if base is not None:
        line += f"   ({p50 / base[0]:.1f}x / {p99 / base[1]:.1f}x the bare one-row read)"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="timed calls per line")
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--log-calls", type=int, default=2_000, help="calls with log=True")
    parser.add_argument("--profile", action="store_true", help="cProfile the SQLite server")
    args = parser.parse_args()

    features = definitions()
    refs = [str(feature.ref) for feature in features]
    entities = [f"c{number:06d}" for number in range(args.entities)]
    rng = random.Random(42)
    calls = [rng.choice(entities) for _ in range(args.warmup + args.calls)]
    as_of = time.time() - 3600

    with tempfile.TemporaryDirectory(prefix="lucid-bench-") as name:
        folder = Path(name)
        db = Database(f"sqlite:///{folder / 'metadata.db'}")
        schema.upgrade(db)
        sqlite_store = SqliteOnlineStore(folder / "online.db")
        namespace = f"bench_{uuid.uuid4().hex[:8]}"
        redis_store = RedisOnlineStore(args.redis_url, namespace=namespace)
        try:
            started = time.perf_counter()
            fill(sqlite_store, refs, entities, as_of)
            fill(redis_store, refs, entities, as_of)
            print(
                f"data: {args.entities:,} entities x {len(refs)} features in SQLite (WAL) and "
                f"Redis, filled in {time.perf_counter() - started:.1f} s; {args.calls:,} timed "
                f"calls per line after {args.warmup:,} warm-up calls, one entity, five features"
            )
            resolve = resolver(features)
            uows = SqlUnitsOfWork(db, SqlEventLog(db))
            on_sqlite = FeatureServer(sqlite_store, resolve, uows)
            on_redis = FeatureServer(redis_store, resolve, uows)
            served = on_sqlite.get_online_features([entities[1]], refs)[0]
            assert all(value.status == "fresh" for value in served.values()), served
            assert on_redis.get_online_features([entities[1]], refs) == [served]

            # Baselines: the bare drivers on the same data.
            bare = sqlite3.connect(folder / "online.db", isolation_level=None)
            one_row = (
                "SELECT value, as_of, data_time FROM online_values WHERE entity = ? AND feature = ?"
            )
            five_rows = (
                "SELECT entity, feature, value, as_of, data_time FROM online_values "
                "WHERE entity IN (?) "
                f"AND feature IN ({', '.join('?' * len(refs))})"
            )
            client = redis.Redis.from_url(args.redis_url)
            fields = [field for ref in refs for field in (ref, f"{ref}#t")]
            prefix = f"lucid:{namespace}:"
            assert len(bare.execute(five_rows, (entities[1], *refs)).fetchall()) == len(refs)
            assert None not in client.hmget(prefix + entities[1], fields)

            lines: list[tuple[str, Callable[[str], Any]]] = [
                (
                    "bare sqlite3, keyed read of one row",
                    lambda e: bare.execute(one_row, (e, refs[0])).fetchone(),
                ),
                (
                    "bare sqlite3, the five rows (IN, IN)",
                    lambda e: bare.execute(five_rows, (e, *refs)).fetchall(),
                ),
                (
                    "SqliteOnlineStore.read (entity + marker)",
                    lambda e: sqlite_store.read([e, MATERIALISED], refs),
                ),
                (
                    "Lucid get_online_features, SQLite",
                    lambda e: on_sqlite.get_online_features([e], refs),
                ),
                ("bare redis-py HMGET, one hash", lambda e: client.hmget(prefix + e, fields)),
                (
                    "RedisOnlineStore.read (entity + marker)",
                    lambda e: redis_store.read([e, MATERIALISED], refs),
                ),
                (
                    "Lucid get_online_features, Redis",
                    lambda e: on_redis.get_online_features([e], refs),
                ),
            ]
            results: dict[str, tuple[float, float, float]] = {}
            for label, action in lines:
                samples = timed(calls, args.warmup, action)
                results[label] = summary(samples)
                report(label, samples, results[lines[0][0]])
            logged = calls[: args.warmup + args.log_calls]
            report(
                "Lucid get_online_features, SQLite, log=True",
                timed(
                    logged,
                    args.warmup,
                    lambda e: on_sqlite.get_online_features([e], refs, log=True),
                ),
                results[lines[0][0]],
            )
            bare_reads, lucid_reads = interleaved(calls, args.warmup, lines[1][1], lines[3][1])
            report("interleaved: bare sqlite3, the five rows", bare_reads, results[lines[0][0]])
            report("interleaved: Lucid get_online_features", lucid_reads, results[lines[0][0]])
            floor, lucid = summary(bare_reads), summary(lucid_reads)
            ratio = lucid[1] / floor[1]
            print(
                f"goal: Lucid's read on SQLite within {GOAL_RATIO:g}x bare sqlite3 at p99: "
                f"{'met' if ratio <= GOAL_RATIO else 'MISSED'} ({lucid[1]:.1f} µs vs "
                f"{floor[1]:.1f} µs, {ratio:.2f}x; p50 {lucid[0] / floor[0]:.2f}x)"
            )
            if args.profile:
                profile = cProfile.Profile()
                profile.enable()
                for entity in calls:
                    on_sqlite.get_online_features([entity], refs)
                profile.disable()
                pstats.Stats(profile).sort_stats("tottime").print_stats(15)
            bare.close()
            client.close()
        finally:
            redis_store.clear()
            redis_store.close()
            sqlite_store.close()
            db.dispose()


if __name__ == "__main__":
    main()
