"""The serving path's commit: what one group commit of a worker costs on SQLite.

Each commit stores what `lucid serve` stores for a few predictions of one model pinning five
features (`--per-commit`, 3 by default): five served feature values and one prediction row
each, through `SqlPredictionJournal.write` on a database at Lucid's schema. Beside it, in the
same run and on the same rows, the floor: bare `sqlite3` writing the same rows into tables
of the same columns without any secondary index. Both run the same number of commits, in
alternating rounds, and the figures are the CPU time of this process (`process_time`, which
the machine's other load does not add to) and the wall time, per commit, median over rounds.
The tables grow as serving makes them grow: `--rows` predictions already logged first.

    uv run python bench/journal.py [--commits 3000] [--rounds 5] [--per-commit 3]
        [--rows 200000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lucid.contracts.semantic import ServedValue
from lucid.monitoring.predictions import prediction_rows
from lucid.storage import schema
from lucid.storage.database import Database
from lucid.storage.feature_registry import served_value_rows
from lucid.storage.prediction_journal import SqlPredictionJournal

FEATURES = tuple(f"customer_feature_{i}@1" for i in range(5))
START = datetime(2026, 12, 1, tzinfo=UTC)
Work = list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]
"""Each commit's served values and predictions."""


def batches(count: int, per_commit: int, first: int) -> Work:
    """Each commit's served values and predictions, as the serving path builds them."""
    out = []
    for n in range(first, first + count):
        at = START + timedelta(milliseconds=n)
        entities = [f"cust-{(n * per_commit + k) % 100_000:06d}" for k in range(per_commit)]
        served = served_value_rows(
            [
                ServedValue(entity, feature, 0.5 + k, at.timestamp() - 3600, "fresh")
                for entity in entities
                for k, feature in enumerate(FEATURES)
            ],
            at,
        )
        predictions = prediction_rows(
            "churn",
            1,
            [
                {
                    "entity": entity,
                    "served_at": at,
                    "features": {f"f{k}": 0.5 + k for k in range(5)},
                    "score": 0.25,
                    "arm": None,
                }
                for entity in entities
            ],
        )
        out.append((served, predictions))
    return out


def floor_writer(path: Path, served: list[str], logged: list[str]) -> Callable[..., None]:
    """Bare sqlite3 writes of the same rows into unindexed tables of the same columns."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        f"CREATE TABLE served_features (id INTEGER PRIMARY KEY, {', '.join(served)})"
    )
    connection.execute(f"CREATE TABLE prediction_log ({', '.join(logged)})")

    def write(served_rows: list[dict[str, Any]], predictions: list[dict[str, Any]]) -> None:
        connection.execute("BEGIN IMMEDIATE")
        for table, rows in (("served_features", served_rows), ("prediction_log", predictions)):
            columns = list(rows[0])
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                [tuple(row[c] for c in columns) for row in rows],
            )
        connection.execute("COMMIT")

    return write


def timed(write: Callable[..., None], work: Work) -> tuple[float, float]:
    """CPU and wall µs per commit."""
    cpu, wall = time.process_time(), time.perf_counter()
    for served, predictions in work:
        write(served, predictions)
    return (
        (time.process_time() - cpu) / len(work) * 1e6,
        (time.perf_counter() - wall) / len(work) * 1e6,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-commit", type=int, default=3)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lucid-journal-"))
    db = Database(f"sqlite:///{folder / 'lucid.db'}")
    schema.upgrade(db)
    journal = SqlPredictionJournal(db, ("ModelPromoted",))
    sample_served, sample_logged = batches(1, 1, 0)[0]
    floor = floor_writer(folder / "floor.db", list(sample_served[0]), list(sample_logged[0]))
    ahead = max(1, args.rows // args.per_commit)
    print(f"{args.rows:,} predictions logged first, {args.per_commit} a commit; ", end="")
    for start in range(0, ahead, 5000):
        work = batches(min(5000, ahead - start), args.per_commit, start)
        timed(journal.write, work)
        timed(floor, work)
    print(f"then {args.rounds} rounds of {args.commits:,} commits each, alternated")
    figures: dict[str, list[tuple[float, float]]] = {"floor": [], "lucid": []}
    first = ahead
    for _ in range(args.rounds):
        work = batches(args.commits, args.per_commit, first)
        first += args.commits
        figures["floor"].append(timed(floor, work))
        figures["lucid"].append(timed(journal.write, work))
    medians = {
        name: (statistics.median(c for c, _ in runs), statistics.median(w for _, w in runs))
        for name, runs in figures.items()
    }
    for name, label in (("floor", "bare sqlite3, no index"), ("lucid", "SqlPredictionJournal")):
        cpu, wall = medians[name]
        print(f"  {label:<24} {cpu:8.1f} µs CPU  {wall:8.1f} µs wall per commit")
    ratio = medians["lucid"][0] / medians["floor"][0]
    walls = medians["lucid"][1] / medians["floor"][1]
    print(f"  Lucid / floor: {ratio:.2f}x CPU, {walls:.2f}x wall")
    print(json.dumps({"cpu_ratio": round(ratio, 3)}))


if __name__ == "__main__":
    main()
