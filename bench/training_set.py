"""Point-in-time training sets through Lucid's public path, beside hand-written DuckDB SQL.

Builds a scratch project whose data folder holds a Parquet event source of 10,000,000 events
for 100,000 customers (integer ids) over 365 days, 3 % of them ingested late, and 1,000,000
label rows (0.1 % exact duplicates), registers two sources over the events and six proposed
definitions through the SDK (`lucid.features.apply`), then, per case, writes the training set
the way a user does — `open_project(...).features.get_training_set(labels, pins)
.to_parquet(out)`, the same call `lucid features training-set` makes — beside its floor:

  snapshot  five `last` features over 30 days (plan, balance, seats, region, active; a source
            without an ingestion time), beside one hand-written ASOF LEFT JOIN of the labels
            with the events carrying the five columns (the floor of issue 26);
  windowed  a count of events over 30 days as known at (event and ingestion time), beside
            the hand-written range join of the labels with the events, grouped per label row.

Both sides return every label row in the label file's order (duplicates kept), written the
same way (`COPY ... TO parquet`), with DuckDB's default memory limit and threads; the two
results are checked equal row by row. Each run is a process of its own, which reports its
time (wall and CPU seconds) and peak RSS. The two methods take turns (Lucid, floor, Lucid,
floor, ...; `--repeat` rounds, the data just written and so in the page cache), so that a
change of load on a shared machine falls on both; every round is printed. Time is the best
round's, peak the highest. Goal (issue 26): the snapshot set within 1.2x the floor's wall
time, under 2 GB, every label row kept.

    uv run python bench/training_set.py [--events 10000000] [--labels 1000000]
        [--entities 100000] [--repeat 3] [--cases snapshot,windowed] [--show-sql]
    uv run python bench/training_set.py --quick     # 1,000,000 events x 100,000 labels
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from lucid.bootstrap import open_project
from lucid.contracts.semantic import (
    Aggregate,
    ColumnType,
    Duration,
    FeatureDefinition,
    Source,
    SourceKind,
    Term,
    ValueType,
    Version,
    WindowedAggregation,
)
from lucid.engines.duckdb import DuckDBEngine
from lucid.features.definition_files import DefinitionSet
from lucid.project import init_project

START = "2025-01-01 00:00:00"
DAYS = 365
LATE_PERCENT = 3
GOAL, GOAL_GB = 1.2, 2.0
SCHEMA = {
    "customer_id": ColumnType.INTEGER,
    "event_time": ColumnType.TIMESTAMP,
    "ingested_at": ColumnType.TIMESTAMP,
    "plan": ColumnType.STRING,
    "balance": ColumnType.DOUBLE,
    "seats": ColumnType.INTEGER,
    "region": ColumnType.STRING,
    "active": ColumnType.BOOLEAN,
}
SNAPSHOTS = {
    "plan": ValueType.STRING,
    "balance": ValueType.FLOAT,
    "seats": ValueType.INTEGER,
    "region": ValueType.STRING,
    "active": ValueType.BOOLEAN,
}
WINDOWED = "events_30d"
EVENTS = "data/events.parquet"
LABELS = "labels.parquet"


def generate(data: Path, events: int, labels: int, entities: int) -> None:
    """Events: each customer gets one event per time slot (so event times never tie for one
    customer), at a pseudo-random second of the slot; a few are ingested up to 7 days late.
    Labels: a pseudo-random customer at a pseudo-random second after the first 30 days."""
    per_entity = -(-events // entities)
    slot = DAYS * 86_400 // per_entity
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(
        f"""
        COPY (
          SELECT customer_id, event_time,
            CASE WHEN hash(i, 'late') % 100 < {LATE_PERCENT}
              THEN event_time + to_seconds(CAST(1 + hash(i, 'delay') % 604800 AS BIGINT))
              ELSE event_time END AS ingested_at,
            ['free', 'basic', 'pro', 'team', 'enterprise'][CAST(1 + hash(i, 'plan') % 5 AS BIGINT)]
              AS plan,
            CAST(hash(i, 'balance') % 100000 AS DOUBLE) / 100 AS balance,
            CAST(hash(i, 'seats') % 50 AS BIGINT) AS seats,
            ['eu', 'us', 'apac'][CAST(1 + hash(i, 'region') % 3 AS BIGINT)] AS region,
            hash(i, 'active') % 2 = 0 AS active
          FROM (
            SELECT i, CAST(i % {entities} AS BIGINT) AS customer_id,
              TIMESTAMP '{START}' + to_seconds(
                CAST((i // {entities}) * {slot} + hash(i, 'time') % {slot} AS BIGINT)
              ) AS event_time
            FROM range({events}) r(i)
          )
        ) TO '{data / Path(EVENTS).name}' (FORMAT parquet)
        """
    )
    # Every 1000th label row repeats the one before it: duplicates must be kept.
    connection.execute(
        f"""
        COPY (
          SELECT CAST(hash(k, 'entity') % {entities} AS BIGINT) AS customer_id,
            TIMESTAMP '{START}' + INTERVAL 30 DAY
              + to_seconds(CAST(hash(k, 'at') % {(DAYS - 30) * 86_400} AS BIGINT)) AS label_time,
            hash(k, 'label') % 10 = 0 AS churned
          FROM (SELECT CASE WHEN i % 1000 = 999 THEN i - 1 ELSE i END AS k FROM range({labels})
                r(i))
        ) TO '{data.parent / LABELS}' (FORMAT parquet)
        """
    )
    connection.close()


def sources() -> list[Source]:
    common: dict[str, Any] = {
        "kind": SourceKind.PARQUET,
        "location": EVENTS,
        "entity": "customer",
        "entity_key": "customer_id",
        "event_time": "event_time",
        "schema": SCHEMA,
    }
    return [
        # As known at: events count only once ingested.
        Source(name="events", ingestion_time="ingested_at", **common),
        # No ingestion time: `last` is a snapshot as of the event time (an ASOF JOIN).
        Source(name="accounts", **common),
    ]


def definitions() -> list[FeatureDefinition]:
    found = [
        _definition(f"{column}_last", kind, Term("accounts", Aggregate.LAST, column=column))
        for column, kind in SNAPSHOTS.items()
    ]
    found.append(_definition(WINDOWED, ValueType.INTEGER, Term("events", Aggregate.COUNT)))
    return found


def _definition(name: str, kind: ValueType, term: Term) -> FeatureDefinition:
    return FeatureDefinition(
        name=name,
        version=Version(1, 0, 0),
        concept=name,
        description=f"bench: {name}",
        owner="bench",
        entity="customer",
        value_type=kind,
        window=Duration.parse("30d", "window"),
        computation=WindowedAggregation(terms=(term,)),
        required_approvals=("data-science",),  # proposed, never approved: trainable
    )


def features(case: str) -> list[str]:
    names = [f"{column}_last" for column in SNAPSHOTS] if case == "snapshot" else [WINDOWED]
    return [f"{name}@1.0.0" for name in names]


def hand_written(case: str, project: Path) -> str:
    """The plain DuckDB query for the same result: label rows in file order."""
    labels = f"read_parquet('{project / LABELS}', file_row_number = true)"
    events = f"read_parquet('{project / EVENTS}')"
    if case == "windowed":
        return f"""
            SELECT any_value(l.customer_id) AS customer_id,
              any_value(l.label_time) AS label_time, any_value(l.churned) AS churned,
              COUNT(e.customer_id) AS {WINDOWED}
            FROM {labels} l
            LEFT JOIN {events} e
              ON e.customer_id = l.customer_id
              AND e.event_time > l.label_time - INTERVAL 30 DAY
              AND e.event_time <= l.label_time
              AND e.ingested_at <= l.label_time
            GROUP BY l.file_row_number
            ORDER BY l.file_row_number
        """
    inside = "e.event_time > l.label_time - INTERVAL 30 DAY"
    values = ", ".join(f"CASE WHEN {inside} THEN e.{c} END AS {c}_last" for c in SNAPSHOTS)
    return f"""
        SELECT l.customer_id, l.label_time, l.churned, {values}
        FROM {labels} l
        ASOF LEFT JOIN (SELECT customer_id, event_time, {", ".join(SNAPSHOTS)} FROM {events}) e
          ON e.customer_id = l.customer_id AND e.event_time <= l.label_time
        ORDER BY l.file_row_number
    """


def child(case: str, method: str, project: Path) -> None:
    """One run of (case, method) in this process: its time, rows and peak RSS."""
    target = project / f"{case}_{method}.parquet"
    sql = ""
    started, used = time.perf_counter(), _cpu()
    if method == "lucid":
        with open_project(project, environ={}) as lucid:
            training = lucid.features.get_training_set(
                project / LABELS,
                features(case),
                entity_column="customer_id",
                time_column="label_time",
            )
            rows = training.to_parquet(target)
            sql = training.sql
    else:
        with DuckDBEngine(project) as engine:  # the same session settings (UTC)
            engine.connection.execute(
                f"COPY ({hand_written(case, project)}) TO '{target}' (FORMAT parquet)"
            )
            [(rows,)] = engine.connection.execute(
                f"SELECT COUNT(*) FROM read_parquet('{target}')"
            ).fetchall()
    run = (time.perf_counter() - started, _cpu() - used)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"run": run, "rows": rows, "peak": peak, "sql": sql}))


def _load() -> str:
    """The 1, 5 and 15 minute load averages (Linux)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(case: str, method: str, project: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", f"{case},{method}", "--folder", str(project)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{case}/{method} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def alternate(case: str, project: Path, repeat: int) -> dict[str, dict[str, Any]]:
    """Both methods, one process per run, taking turns for `repeat` rounds. Per method:
    every run's (wall, CPU seconds), the rows, the highest peak RSS."""
    found: dict[str, dict[str, Any]] = {}
    for _ in range(repeat):
        for method in ("lucid", "hand"):
            result = measure(case, method, project)
            seen = found.setdefault(method, {"runs": [], "peak": 0, "sql": result["sql"]})
            seen["runs"].append(result["run"])
            seen["peak"] = max(seen["peak"], result["peak"])
            seen["rows"] = result["rows"]
    return found


def check_equal(case: str, project: Path) -> tuple[int, str]:
    """Rows that differ between the two results, compared position by position, and what
    Lucid's first feature looks like (so that an all-empty result cannot pass unseen)."""
    connection = duckdb.connect()

    def read(method: str) -> str:
        return f"read_parquet('{project / f'{case}_{method}.parquet'}', file_row_number = true)"

    [(total, differing)] = connection.execute(
        f"""
        SELECT COUNT(*), COUNT(*) FILTER (WHERE a IS DISTINCT FROM b)
        FROM (SELECT file_row_number, COLUMNS(* EXCLUDE (file_row_number)) FROM {read("lucid")})
          AS a
        FULL JOIN (SELECT file_row_number, COLUMNS(* EXCLUDE (file_row_number))
          FROM {read("hand")}) AS b USING (file_row_number)
        """
    ).fetchall()
    assert total > 0
    feature = features(case)[0].split("@")[0]
    [(present,)] = connection.execute(
        f"SELECT AVG(CASE WHEN {feature} IS NULL OR TRY_CAST({feature} AS DOUBLE) = 0 "
        f"THEN 0 ELSE 1 END) FROM {read('lucid')}"
    ).fetchall()
    connection.close()
    return int(differing), f"{feature} {present:.0%} non-empty"


def setup(project: Path, events: int, labels: int, entities: int) -> None:
    """The scratch project: data generated, sources and definitions applied through the SDK."""
    with init_project(project, actor="bench", environ={}) as lucid:
        generate(project / "data", events, labels, entities)
        lucid.features.apply(
            DefinitionSet(sources=sources(), features=definitions()),
            actor="bench",
            rationale="bench/training_set.py",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="1 M events x 100 k labels")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds; best is kept")
    parser.add_argument("--cases", default="snapshot,windowed")
    parser.add_argument("--show-sql", action="store_true", help="print Lucid's generated SQL")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, method = args.child.split(",")
        child(case, method, Path(args.folder))
        return
    if args.quick:
        args.events, args.labels, args.entities = 1_000_000, 100_000, 10_000

    with tempfile.TemporaryDirectory(prefix="lucid-bench-") as name:
        project = Path(name) / "project"
        started = time.perf_counter()
        setup(project, args.events, args.labels, args.entities)
        print(
            f"data: {args.events:,} events ({args.entities:,} customers, {DAYS} days, "
            f"{LATE_PERCENT}% ingested late), {args.labels:,} label rows; set up in "
            f"{time.perf_counter() - started:.1f} s; DuckDB {duckdb.__version__}; time = best "
            f"of {args.repeat} alternating runs, one process each (wall, CPU), peak = the "
            f"highest max RSS; load average {_load()}"
        )
        verdicts = []
        for case in args.cases.split(","):
            measured = alternate(case, project, args.repeat)
            lucid, hand = measured["lucid"], measured["hand"]
            differing, shown = check_equal(case, project)
            kept = lucid["rows"] == hand["rows"] == args.labels
            assert differing == 0, f"{case}: {differing} rows differ"
            (wall, cpu), (floor_wall, floor_cpu) = min(lucid["runs"]), min(hand["runs"])
            ratio, gb = wall / floor_wall, lucid["peak"] / 2**30
            baseline = "range join" if case == "windowed" else "ASOF LEFT JOIN"
            print(
                f"{case:9} Lucid {wall:6.2f} s ({cpu:.2f} CPU-s), peak {gb:5.2f} GB   "
                f"(hand-written {baseline}: {floor_wall:.2f} s ({floor_cpu:.2f} CPU-s), peak "
                f"{hand['peak'] / 2**30:.2f} GB; ratio {ratio:.2f}x, CPU {cpu / floor_cpu:.2f}x;"
                f" {lucid['rows']:,} of {args.labels:,} label rows, equal; {shown}; load "
                f"average {_load()})"
            )
            rounds = ", ".join(
                f"{w:.2f}/{fw:.2f} s ({c:.2f}/{fc:.2f} CPU-s)"
                for (w, c), (fw, fc) in zip(lucid["runs"], hand["runs"], strict=True)
            )
            print(f"{'':9} each round, Lucid/floor: {rounds}")
            if args.show_sql:
                print(lucid["sql"])
            if case == "snapshot":
                met = ratio <= GOAL and gb < GOAL_GB and kept
                verdicts.append(
                    f"verdict: training set {args.events:,} x {args.labels:,}, five `last` "
                    f"features: {ratio:.2f}x the DuckDB ASOF floor (goal <= {GOAL}x), "
                    f"{gb:.2f} GB (goal < {GOAL_GB:g} GB), every label row "
                    f"{'kept' if kept else 'NOT kept'}: {'met' if met else 'NOT met'}"
                )
        for verdict in verdicts:
            print(verdict)


if __name__ == "__main__":
    main()
