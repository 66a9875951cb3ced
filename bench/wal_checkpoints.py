"""Serving workers' commits on SQLite: WAL checkpoints in the commits, or on a thread.

Two processes commit what `lucid serve` commits for a few predictions (`--per-commit`
predictions of five served features each, through `SqlPredictionJournal.write`), each at
`--rate` commits a second, as two serving workers do. In one mode every process checkpoints in
the commit that makes its WAL reach 200 pages (SQLite's automatic checkpoint, the baseline);
in the other a thread of each process checkpoints (`Database.checkpoint_in_background`, what
a serving worker runs). The modes alternate for `--rounds` rounds, each on a new database.
Printed per mode, over both processes and all rounds: the wall time of a commit (what a
worker's event loop waits for) at p50, p99 and its maximum, the commits' total time, and the
largest WAL file at the end of a round.

    uv run python bench/wal_checkpoints.py [--commits 3000] [--rate 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from journal import batches

from lucid.storage import schema
from lucid.storage.database import Database
from lucid.storage.prediction_journal import SqlPredictionJournal

IN_COMMIT_PAGES = 200
MODES = {"in-commit": "checkpoint in the commit (200 pages)", "thread": "checkpoint on a thread"}


def worker(url: str, mode: str, seed: int, args: Any, out: Any) -> None:
    db = Database(url)
    if mode == "thread":
        db.checkpoint_in_background()
    else:
        db._pragmas.append(f"PRAGMA wal_autocheckpoint={IN_COMMIT_PAGES}")
        db.engine.dispose()
    journal = SqlPredictionJournal(db, ("ModelPromoted",))
    work = batches(args.commits, args.per_commit, seed * 1_000_000)
    walls = []
    start = time.perf_counter()
    for number, (served, predictions) in enumerate(work):
        ahead = start + number / args.rate - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
        began = time.perf_counter()
        journal.write(served, predictions)
        walls.append((time.perf_counter() - began) * 1e3)
    db.dispose()
    out.put(walls)


def one_round(mode: str, args: Any) -> tuple[list[float], int]:
    folder = Path(tempfile.mkdtemp(prefix="lucid-wal-"))
    url = f"sqlite:///{folder / 'lucid.db'}"
    schema.upgrade(Database(url))
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    processes = [spawn.Process(target=worker, args=(url, mode, k, args, out)) for k in range(2)]
    for process in processes:
        process.start()
    walls = out.get() + out.get()
    for process in processes:
        process.join()
    wal = folder / "lucid.db-wal"
    return walls, wal.stat().st_size if wal.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=3000, help="commits per process a round")
    parser.add_argument("--rate", type=float, default=300, help="commits per second a process")
    parser.add_argument("--per-commit", type=int, default=3, help="predictions per commit")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(
        f"2 processes, {args.rate:g} commits/s each, {args.per_commit} predictions a commit, "
        f"{args.commits:,} commits each a round, {args.rounds} rounds, modes alternated"
    )
    walls: dict[str, list[float]] = {mode: [] for mode in MODES}
    largest: dict[str, int] = dict.fromkeys(MODES, 0)
    for _ in range(args.rounds):
        for mode in MODES:
            found, wal = one_round(mode, args)
            walls[mode] += found
            largest[mode] = max(largest[mode], wal)
    p99 = {}
    for mode, label in MODES.items():
        ordered = sorted(walls[mode])
        p99[mode] = ordered[int(len(ordered) * 0.99)]
        print(
            f"  {label:<38} p50 {statistics.median(ordered):6.3f} ms  p99 {p99[mode]:7.3f} ms  "
            f"max {ordered[-1]:6.1f} ms  commits' total {sum(ordered) / 1e3:6.2f} s  "
            f"WAL at most {largest[mode] / 1e6:5.1f} MB"
        )
    ratio = p99["thread"] / p99["in-commit"]
    verdict = "MET" if ratio < 1 and largest["thread"] < 8e6 else "MISSED"
    print(
        f"goal (a commit's p99 below the in-commit baseline's, the WAL under 8 MB): "
        f"{ratio:.2f}x, WAL {largest['thread'] / 1e6:.1f} MB: {verdict}"
    )


if __name__ == "__main__":
    main()
