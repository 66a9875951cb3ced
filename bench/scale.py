"""Growth: training-set and drift times from 1 M to 10 M to 50 M rows, DuckDB and Spark.

For each size N (events), the same data as `bench/training_set.py` (N events, N/10 labels,
N/100 customers) gives two training sets on each engine: `training`, a windowed count as known
at (event and ingestion time: a range join), and `snapshot`, the latest plan within 90 days (a
source without ingestion time: DuckDB's ASOF JOIN, Spark's UNION ALL + `last`); and a drift run
(reference profile built, then every data-drift statistic of a shifted window: PSI, KS,
Jensen-Shannon, Wasserstein, chi-square) runs over N reference and N current rows of 5 numeric
and 1 categorical column. Each (task, engine, size)
runs in its own process; its peak memory is the process's max RSS plus, for Spark, the JVM's
(a child process); its CPU time (user + system, the same two processes) is printed beside the
wall-clock time, with the machine's 1-minute load average after it, because on a shared
machine the wall clock mostly measures the neighbours. DuckDB runs with a memory limit and a
spill folder, so it spills instead of crashing. A drift run on both engines ends with a verdict
line: Spark's CPU seconds over DuckDB's, against the goal of at most 3x at 50 M rows.

    uv run python bench/scale.py [--sizes 1000000,10000000,50000000] [--engines duckdb,spark]
        [--tasks training,snapshot,drift] [--duckdb-memory 4GB]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).parent))

from training_set import definition, generate, sources

from lucid.engines.duckdb import DuckDBEngine
from lucid.monitoring.drift import measure_data_drift
from lucid.monitoring.profiles import build_profile


def drift_data(folder: Path, rows: int) -> None:
    connection = duckdb.connect()
    for name, shift in (("reference", 0.0), ("current", 0.1)):
        columns = ", ".join(
            f"(CAST(hash(i, '{name}{c}') % 1000000 AS DOUBLE) / 1000000 + {shift}) AS x{c}"
            for c in range(5)
        )
        connection.execute(
            f"COPY (SELECT {columns}, ['basic','pro','team'][CAST(1 + hash(i, 'p') % 3 AS "
            f"BIGINT)] AS plan FROM range({rows}) r(i)) TO '{folder / name}.parquet' "
            "(FORMAT parquet)"
        )
    connection.close()


def engine_for(name: str, folder: Path, memory: str) -> Any:
    if name == "duckdb":
        return DuckDBEngine(folder, memory_limit=memory, spill_directory=folder / "spill")
    from lucid.engines.spark import SparkEngine, spark_session

    return SparkEngine(folder, spark_session("local[2]"))


def cpu_seconds(engine_name: str, engine: Any) -> float:
    """CPU time (user + system) of this process and, for Spark, of its JVM: on a shared
    machine a steadier measure of the work than the wall clock."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    seconds = own.ru_utime + own.ru_stime
    if engine_name == "spark":
        pid = engine.session.sparkContext._gateway.proc.pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        seconds += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


class SpillWatcher(threading.Thread):
    """The largest size the spill folder reached (DuckDB deletes its files after a query)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(daemon=True)
        self.folder, self.peak, self.stop = folder, 0, False

    def run(self) -> None:
        while not self.stop:
            try:
                size = sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file())
            except OSError:  # a file deleted while summed
                continue
            self.peak = max(self.peak, size)
            time.sleep(0.2)


def child(task: str, engine_name: str, folder: Path, memory: str) -> None:
    engine = engine_for(engine_name, folder, memory)
    cpu_before = cpu_seconds(engine_name, engine)
    watcher = SpillWatcher(folder / "spill")
    watcher.start()
    started = time.perf_counter()
    if task in ("training", "snapshot"):
        result = engine.training_set(
            folder / "labels.parquet",
            [definition("windowed" if task == "training" else "snapshot")],
            sources(folder),
            entity_column="customer_id",
            time_column="label_time",
        )
        rows = result.to_parquet(folder / f"{task}-{engine_name}.parquet")
    else:
        engine.register("reference", folder / "reference.parquet")
        engine.register("current", folder / "current.parquet")
        profile = build_profile(engine, "reference")
        rows = len(measure_data_drift(engine, "current", profile))  # PSI, KS, JS, W1 ...
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(engine_name, engine) - cpu_before
    watcher.stop = True
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    jvm = 0
    if engine_name == "spark":  # the JVM is py4j's child process: read its high-water mark
        pid = engine.session.sparkContext._gateway.proc.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                jvm = int(line.split()[1])
    peak = (own + jvm) / 1024
    figures = {"seconds": elapsed, "cpu": cpu, "rows": rows, "peak_mib": peak}
    print(json.dumps(figures | {"spill_mib": watcher.peak / 2**20}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000,50000000")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--tasks", default="training,snapshot,drift")
    parser.add_argument("--duckdb-memory", default="4GB")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task, engine_name = args.child.split(":")
        child(task, engine_name, Path(args.folder), args.duckdb_memory)
        return
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix="lucid-scale-") as name:
            folder = Path(name)
            started = time.perf_counter()
            if "training" in args.tasks or "snapshot" in args.tasks:
                generate(folder, size, max(size // 10, 1), max(size // 100, 1))
            if "drift" in args.tasks:
                drift_data(folder, size)
            print(
                f"{size:>11,} rows: data generated in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            for task in args.tasks.split(","):
                cpu: dict[str, float] = {}
                for engine_name in args.engines.split(","):
                    done = subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--child",
                            f"{task}:{engine_name}",
                            "--folder",
                            str(folder),
                            "--duckdb-memory",
                            args.duckdb_memory,
                        ],
                        capture_output=True,
                        text=True,
                    )
                    if done.returncode != 0:
                        tail = done.stderr.strip().splitlines()[-1:] or ["?"]
                        print(f"{size:>11,}  {task:8} {engine_name:6}  FAILED: {tail[0]}")
                        continue
                    figures = json.loads(done.stdout.strip().splitlines()[-1])
                    cpu[engine_name] = figures["cpu"]
                    print(
                        f"{size:>11,}  {task:8} {engine_name:6} {figures['seconds']:8.1f} s  "
                        f"cpu {figures['cpu']:8.1f} s  peak {figures['peak_mib']:8,.0f} MiB  "
                        f"spilled {figures['spill_mib']:6,.0f} MiB  "
                        f"({figures['rows']:,} rows out)  load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
                if task == "drift" and {"duckdb", "spark"} <= cpu.keys():
                    print(verdict(size, cpu["spark"], cpu["duckdb"]), flush=True)


def verdict(size: int, spark: float, duckdb: float) -> str:
    """Issue 26's goal for Spark drift: at 50 M rows a side, at most 3x DuckDB's CPU seconds
    (same data, same run). Below 50 M the ratio is printed, not judged: Spark's fixed cost
    per query weighs more there."""
    ratio = spark / duckdb
    judged = ("met" if ratio <= 3 else "NOT met") if size >= 50_000_000 else "not judged"
    return (
        f"{size:>11,}  verdict: Spark drift {spark:.1f} CPU-s = {ratio:.2f}x DuckDB's "
        f"{duckdb:.1f} CPU-s (goal at 50 M rows: <= 3x): {judged}"
    )


if __name__ == "__main__":
    main()
