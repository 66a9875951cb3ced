"""A daily source-health check over a one-year source, beside plain DuckDB counts of the same
file in the same run.

Writes one Parquet file of a year of events (default 10,000,000 rows, sorted by event time as
an appending warehouse writes them, 122,880 rows a row group as DuckDB writes them; columns:
customer id, event time, amount, device, ingestion time), then times, each the median of
`--repeat` runs on a fresh engine:

- check: `measure_source` for one day on the run's engine — the schema read (`describe`), the
  one scan of the day and its four trailing weeks (volume, NULL shares, newest event,
  ingestion lag) and the measurements: what a daily run adds per watched source;
- day count: `SELECT count(*)` of the same day, filtered on the event time (the floor of any
  daily scan);
- same counts: plain DuckDB counts of the same columns over the same five days (the floor of
  this check: the rows and columns it must read);
- year count: `SELECT count(*)` of the whole file (metadata only);
- year scan: the check's aggregates over the whole year, without the time filter (what the
  check would cost without row-group pruning).

    uv run python bench/source_health.py [--rows 10000000] [--repeat 5] [--keep DIR]

Goal: the daily check well under a second, near the plain counts of the same rows and
columns, far below the year scan.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lucid.contracts.semantic.sources import ColumnType, Source, SourceKind
from lucid.contracts.validity.source_health import trailing_windows
from lucid.engines.duckdb import DuckDBEngine
from lucid.monitoring.source_health import measure_source

START = datetime(2025, 1, 1)
DAYS = 365
CHUNK_DAYS = 10
ROW_GROUP = 122_880
SCHEMA = {
    "customer_id": ColumnType.STRING,
    "event_time": ColumnType.TIMESTAMP,
    "amount": ColumnType.DOUBLE,
    "device": ColumnType.STRING,
    "loaded_at": ColumnType.TIMESTAMP,
}


def generate(path: Path, rows: int) -> None:
    """A year of events, `rows` in all, written ten days at a time (never all in memory)."""
    rng = np.random.default_rng(7)
    per_day = rows // DAYS
    devices = pa.array(["ios", "android", "web"])
    with pq.ParquetWriter(path, _schema()) as writer:
        for first in range(0, DAYS, CHUNK_DAYS):
            days = min(CHUNK_DAYS, DAYS - first)
            n = per_day * days
            offsets = np.sort(rng.uniform(first * 86_400, (first + days) * 86_400, n))
            times = np.datetime64(START, "us") + (offsets * 1e6).astype("timedelta64[us]")
            device = devices.take(pa.array(rng.integers(0, 3, n)))
            table = pa.table(
                {
                    "customer_id": pa.array(rng.integers(0, 200_000, n).astype(str)),
                    "event_time": pa.array(times, pa.timestamp("us")),
                    "amount": pa.array(rng.normal(30, 8, n)),
                    "device": device,
                    "loaded_at": pa.array(times + np.timedelta64(2, "h"), pa.timestamp("us")),
                },
                schema=_schema(),
            )
            writer.write_table(table, row_group_size=ROW_GROUP)


def _schema() -> pa.Schema:
    return pa.schema(
        [
            ("customer_id", pa.string()),
            ("event_time", pa.timestamp("us")),
            ("amount", pa.float64()),
            ("device", pa.string()),
            ("loaded_at", pa.timestamp("us")),
        ]
    )


def timed(step: Callable[[], object], repeat: int) -> float:
    """The median seconds of `repeat` calls of `step`."""
    seconds = []
    for _ in range(repeat):
        began = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="lucid-source-health-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "events.parquet"
    if not path.exists():
        began = time.perf_counter()
        generate(path, args.rows)
        print(f"wrote {args.rows:,} rows in {time.perf_counter() - began:.1f} s: {path}")
    source = Source(
        "events",
        SourceKind.PARQUET,
        str(path),
        "customer",
        "customer_id",
        "event_time",
        SCHEMA,
        ingestion_time="loaded_at",
    )
    day = datetime(2025, 10, 15, tzinfo=UTC)
    window = (day, day + timedelta(days=1))

    shared = DuckDBEngine(folder)  # a run's engine, shared with its drift checks

    def check() -> None:
        measure_source(shared, source, window, minimum_rows=500)

    with DuckDBEngine(folder) as engine:
        found = measure_source(engine, source, window, minimum_rows=500)
        relation = engine.relation(source)
        trailing = trailing_windows(*window)
        columns = [
            ("customer_id", False),
            ("amount", True),
            ("device", False),
            ("loaded_at", False),
        ]
        counts = engine.source_queries.counts(
            relation, "event_time", window, trailing, columns, "loaded_at"
        )
        unfiltered = counts.rsplit(" WHERE ", 1)[0] + ") AS spans"
    volume = next(m for m in found if m.metric == "source_volume_ratio")
    print(
        f"day {day.date()}: {volume.details['window_rows']:,} rows, volume ratio "
        f"{volume.value:.3f} against {volume.details['expected_rows']:,.0f} expected "
        f"({volume.details['weeks_used']} weeks)"
    )

    literal = str(path).replace("'", "''")
    day_count = (
        f"SELECT count(*) FROM read_parquet('{literal}') WHERE event_time >= "
        f"TIMESTAMP '{window[0]:%Y-%m-%d}' AND event_time < TIMESTAMP '{window[1]:%Y-%m-%d}'"
    )
    five_days = " OR ".join(
        f"(event_time >= TIMESTAMP '{a:%Y-%m-%d}' AND event_time < TIMESTAMP '{b:%Y-%m-%d}')"
        for a, b in [window, *trailing]
    )
    same_columns = (
        "SELECT count(*), count(customer_id), count(amount), count(device), count(loaded_at), "
        f"min(event_time), max(event_time) FROM read_parquet('{literal}') WHERE {five_days}"
    )

    def plain(sql: str) -> Callable[[], object]:
        def run() -> object:
            connection = duckdb.connect()
            try:
                return connection.execute(sql).fetchall()
            finally:
                connection.close()

        return run

    def year_scan() -> None:
        with DuckDBEngine(folder) as engine:
            engine.relation(source)
            engine.query(unfiltered)

    figures = {
        "check (describe + one scan, 1 day + 4 trailing weeks)": timed(check, args.repeat),
        "baseline: DuckDB count(*) of the day": timed(plain(day_count), args.repeat),
        "baseline: DuckDB counts of the same columns and 5 days": timed(
            plain(same_columns), args.repeat
        ),
        "baseline: DuckDB count(*) of the year": timed(
            plain(f"SELECT count(*) FROM read_parquet('{literal}')"), args.repeat
        ),
        "the check's aggregates over the whole year": timed(year_scan, args.repeat),
    }
    print(f"{args.rows:,} rows over {DAYS} days, median of {args.repeat}:")
    for name, seconds in figures.items():
        print(f"  {name:<56} {seconds * 1000:8.1f} ms")
    shared.close()


if __name__ == "__main__":
    main()
