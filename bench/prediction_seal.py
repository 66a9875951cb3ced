"""The prediction log's seal: a closed day of rows moved into a segment, beside a floor
measured in the same run.

Logs `--rows` predictions of one ended UTC day as rows (SQLite, as the serving path and small
batches leave them; 10 features: 8 numbers, 2 texts), then times
`lucid.monitoring.prediction_seal.seal_predictions` (rows read, typed, written as segments,
registered and deleted by id in one transaction per 100,000 rows). The floor, on a copy of the
same database: the rows read with sqlite3, their JSON features parsed, one Parquet file
written with PyArrow, and the rows deleted by model in one statement.

    uv run python bench/prediction_seal.py [--rows 100000]

Goal: the seal within 3x the floor.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

GOAL_RATIO = 3.0
DAY = datetime(2026, 11, 2, tzinfo=UTC)


def _rows(count: int) -> list[dict[str, object]]:
    step = 86_400_000_000 // count
    return [
        {
            "entity": f"c{i % 50_000}",
            "served_at": DAY + timedelta(microseconds=i * step),
            "features": {
                **{f"x{j}": (i * (j + 1)) % 997 / 7 for j in range(8)},
                "plan": ("basic", "pro", "team")[i % 3],
                "region": f"r{i % 11}",
            },
            "score": (i % 100) / 100,
        }
        for i in range(count)
    ]


def _floor(path: Path, folder: Path) -> float:
    import pyarrow as pa
    import pyarrow.parquet as pq

    started = time.perf_counter()
    connection = sqlite3.connect(path)
    rows = connection.execute(
        "SELECT id, version, entity, served_at, features, score, arm FROM prediction_log "
        "WHERE model = 'churn' ORDER BY served_at, id"
    ).fetchall()
    features = [json.loads(row[4]) for row in rows]
    columns = {
        name: pa.array([row[index] for row in rows])
        for index, name in enumerate(["id", "version", "entity", "served_at"])
    }
    columns["score"] = pa.array([row[5] for row in rows], pa.float64())
    columns["arm"] = pa.array([row[6] for row in rows], pa.string())
    for name in features[0]:
        columns[f"feature.{name}"] = pa.array([values[name] for values in features])
    pq.write_table(pa.table(columns), folder / "floor.parquet", compression="lz4")
    connection.execute("DELETE FROM prediction_log WHERE model = 'churn'")
    connection.commit()
    connection.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    arguments = parser.parse_args()

    from lucid.monitoring import predictions
    from lucid.monitoring.prediction_seal import seal_predictions
    from lucid.storage import schema
    from lucid.storage.database import Database
    from lucid.storage.prediction_log import SqlPredictionLog

    folder = Path(tempfile.mkdtemp(prefix="lucid-seal-"))
    try:
        path = folder / "metadata.db"
        db = Database(f"sqlite:///{path}")
        schema.upgrade(db)
        log = SqlPredictionLog(db, folder / "log", segment_rows=10**9)  # every batch: rows
        batch = _rows(arguments.rows)
        for start in range(0, len(batch), 50_000):
            predictions.log_predictions(log, "churn", 1, batch[start : start + 50_000])
        db.dispose()
        shutil.copy(path, folder / "copy.db")
        floor = _floor(folder / "copy.db", folder)

        db = Database(f"sqlite:///{path}")
        log = SqlPredictionLog(db, folder / "log")
        started = time.perf_counter()
        report = seal_predictions(log, now=DAY + timedelta(days=1))
        seconds = time.perf_counter() - started
        assert report.rows == arguments.rows and log.counts("churn") == (arguments.rows, 0)
        db.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ratio = seconds / floor
    print(f"rows {arguments.rows:,}: seal {seconds:.2f} s ({report.segments} segments)")
    print(f"floor (sqlite3 read + JSON + one Parquet write + one DELETE): {floor:.2f} s")
    verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"seal / floor = {ratio:.2f} (goal <= {GOAL_RATIO:g}): {verdict}")


if __name__ == "__main__":
    main()
