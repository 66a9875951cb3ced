"""Data-drift run time and memory beside a plain single-pass NumPy PSI of the same columns.

Writes a reference and a current Parquet file (20 numeric + 5 categorical columns, some of
them shifted), then runs three phases, each in a fresh process so that its peak memory
(VmHWM: Python, NumPy, Arrow and DuckDB together) is its own:

- profile: build the reference profile with DuckDB and store it (done once per model version,
  not part of a run);
- run: the whole Lucid run — read the profile from the metadata database, measure every
  statistic the default (seed churn) policy asks for on the current Parquet file, grade every
  threshold, store the run and every check;
- numpy: the floor — for each column read it from both files with PyArrow, reference deciles
  with `np.quantile`, both histograms with `searchsorted` + `bincount` (categoricals: counts
  of the dictionary codes), PSI. Read and compute times are reported apart, and so is the
  current side alone (its read and histogram with known edges), the floor of a run that,
  like Lucid's, reads only the current window.

    uv run python bench/drift.py [--rows 1000000] [--memory-limit 512MB] [--keep DIR]

Goal: run within 1.5x of the NumPy floor, under 1 GiB peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

NUMERIC = 20
CATEGORICAL = 5
CATEGORIES = [f"c{i:02d}" for i in range(12)]
CHUNK = 500_000


def generate(path: Path, rows: int, seed: int, shifted: bool) -> None:
    """Write `rows` rows in chunks so that 10,000,000 rows never sit in memory."""
    rng = np.random.default_rng(seed)
    writer: pq.ParquetWriter | None = None
    weights = np.linspace(1, 3, len(CATEGORIES))
    for start in range(0, rows, CHUNK):
        size = min(CHUNK, rows - start)
        columns: dict[str, Any] = {}
        for i in range(NUMERIC):
            shift = 0.4 * (i % 4 == 0) if shifted else 0.0
            columns[f"num_{i:02d}"] = rng.normal(shift, 1.0 + 0.1 * (i % 3), size)
        for j in range(CATEGORICAL):
            p = weights[::-1] if shifted and j == 0 else weights
            codes = rng.choice(len(CATEGORIES), size, p=p / p.sum()).astype(np.int32)
            columns[f"cat_{j}"] = pa.DictionaryArray.from_arrays(codes, pa.array(CATEGORIES))
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def peak_mib() -> float:
    """Peak resident memory of this process (VmHWM: reset at exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_profile(workdir: Path, memory_limit: str) -> dict[str, Any]:
    from lucid.engines.duckdb import DuckDBEngine
    from lucid.monitoring.profiles import build_profile
    from lucid.storage import schema
    from lucid.storage.database import Database
    from lucid.storage.monitoring import SqlMonitoringStore

    db = Database(f"sqlite:///{workdir / 'metadata.db'}")
    schema.upgrade(db)
    started = time.perf_counter()
    with DuckDBEngine(memory_limit=memory_limit) as engine:
        engine.register("reference", workdir / "reference.parquet")
        profile = build_profile(engine, "reference")
    SqlMonitoringStore(db).save_profile("churn", "1", profile, created_at=datetime.now(UTC))
    return {"seconds": time.perf_counter() - started, "peak_mib": peak_mib()}


def phase_run(workdir: Path, memory_limit: str) -> dict[str, Any]:
    from lucid.contracts.validity import MonitoringPolicy
    from lucid.engines.duckdb import DuckDBEngine
    from lucid.monitoring.runs import run_checks
    from lucid.storage.database import Database
    from lucid.storage.event_log import SqlEventLog
    from lucid.storage.unit_of_work import SqlUnitsOfWork

    db = Database(f"sqlite:///{workdir / 'metadata.db'}")
    uows = SqlUnitsOfWork(db, SqlEventLog(db))
    policy = MonitoringPolicy.churn_default("churn")
    started = time.perf_counter()
    with DuckDBEngine(memory_limit=memory_limit) as engine:
        engine.register("current", workdir / "current.parquet")
        outcome = run_checks(
            engine,
            uows,
            policy,
            version="1",
            table="current",
            window=f"w{time.time_ns()}",
            now=datetime.now(UTC),
        )
    seconds = time.perf_counter() - started
    assert outcome.evaluation is not None
    psi = [c for c in outcome.evaluation.checks if c.threshold.metric == "psi"]
    return {
        "seconds": seconds,
        "peak_mib": peak_mib(),
        "checks": len(outcome.evaluation.checks),
        "psi_checks": len(psi),
        "level": outcome.evaluation.level.value,
        "psi_levels": {
            level: sum(1 for c in psi if c.level.value == level)
            for level in ("ok", "warning", "critical", "insufficient_data")
        },
        "psi_values": {c.measurement.feature: c.measurement.value for c in psi},
    }


def numpy_psi(reference: np.ndarray, current: np.ndarray, epsilon: float = 1e-4) -> float:
    r = np.maximum(reference / reference.sum(), epsilon)
    c = np.maximum(current / current.sum(), epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


def _read(path: Path, name: str) -> Any:
    return pq.read_table(path, columns=[name], read_dictionary=[name]).column(name).combine_chunks()


def phase_numpy(workdir: Path) -> dict[str, Any]:
    """Both sides per column; the current side's share (its read, its histogram with the
    edges already known) is timed apart: the floor of a run that reads only the window."""
    timer = {"read": 0.0, "compute": 0.0, "current": 0.0}
    values: dict[str, float] = {}
    names = pq.read_schema(workdir / "reference.parquet").names

    def lap(part: str, started: float, current: bool = False) -> None:
        elapsed = time.perf_counter() - started
        timer[part] += elapsed
        if current:
            timer["current"] += elapsed

    def category_counts(side: Any, keys: list[str]) -> np.ndarray:
        raw = np.bincount(side.indices.to_numpy(), minlength=len(side.dictionary))
        index = {k: i for i, k in enumerate(side.dictionary.to_pylist())}
        return np.array([raw[index[k]] if k in index else 0 for k in keys])

    for name in names:
        started = time.perf_counter()
        ref = _read(workdir / "reference.parquet", name)
        lap("read", started)
        started = time.perf_counter()
        cur = _read(workdir / "current.parquet", name)
        lap("read", started, current=True)
        if name.startswith("num_"):
            started = time.perf_counter()
            ref_x = ref.to_numpy()
            edges = np.unique(np.quantile(ref_x, np.arange(1, 10) / 10))
            ref_counts = np.bincount(np.searchsorted(edges, ref_x), minlength=len(edges) + 1)
            lap("compute", started)
            started = time.perf_counter()
            cur_x = cur.to_numpy()
            cur_counts = np.bincount(np.searchsorted(edges, cur_x), minlength=len(edges) + 1)
            lap("compute", started, current=True)
        else:
            keys = sorted(set(ref.dictionary.to_pylist()) | set(cur.dictionary.to_pylist()))
            started = time.perf_counter()
            ref_counts = category_counts(ref, keys)
            lap("compute", started)
            started = time.perf_counter()
            cur_counts = category_counts(cur, keys)
            lap("compute", started, current=True)
        values[name] = numpy_psi(ref_counts.astype(float), cur_counts.astype(float))
    return {
        "seconds": timer["read"] + timer["compute"],
        "read_seconds": timer["read"],
        "compute_seconds": timer["compute"],
        "current_seconds": timer["current"],
        "peak_mib": peak_mib(),
        "psi_values": values,
    }


def child(phase: str, workdir: Path, memory_limit: str) -> dict[str, Any]:
    completed = subprocess.run(
        [
            sys.executable,
            __file__,
            "--phase",
            phase,
            "--workdir",
            str(workdir),
            "--memory-limit",
            memory_limit,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"phase {phase} failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-limit", default="512MB", help="DuckDB buffer pool cap")
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep the files.")
    parser.add_argument("--phase", choices=["profile", "run", "numpy"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        phases = {
            "profile": lambda: phase_profile(args.workdir, args.memory_limit),
            "run": lambda: phase_run(args.workdir, args.memory_limit),
            "numpy": lambda: phase_numpy(args.workdir),
        }
        print(json.dumps(phases[args.phase]()))
        return
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        if not (workdir / "current.parquet").exists():
            generate(workdir / "reference.parquet", args.rows, 1, shifted=False)
            generate(workdir / "current.parquet", args.rows, 2, shifted=True)
            (workdir / "metadata.db").unlink(missing_ok=True)
        print(
            f"{args.rows:,} rows a side, {NUMERIC} numeric + {CATEGORICAL} categorical columns "
            f"(data ready in {time.perf_counter() - started:.1f} s)"
        )
        if not (workdir / "metadata.db").exists():
            profile = child("profile", workdir, args.memory_limit)
            print(
                f"reference profile (once per version): {profile['seconds']:.2f} s, "
                f"peak {profile['peak_mib']:.0f} MiB"
            )
        floor = child("numpy", workdir, args.memory_limit)
        run = child("run", workdir, args.memory_limit)
        worst = max(
            abs(run["psi_values"][name] - floor["psi_values"][name]) for name in floor["psi_values"]
        )
        print(
            f"NumPy PSI floor: {floor['seconds']:.2f} s (read {floor['read_seconds']:.2f} s + "
            f"compute {floor['compute_seconds']:.2f} s), peak {floor['peak_mib']:.0f} MiB"
        )
        print(
            f"Lucid run:       {run['seconds']:.2f} s, peak {run['peak_mib']:.0f} MiB; "
            f"{run['checks']} checks ({run['psi_checks']} PSI: {run['psi_levels']}), "
            f"level {run['level']}"
        )
        print(f"NumPy current side only (edges known, as a run): {floor['current_seconds']:.2f} s")
        print(
            f"ratio run / NumPy floor: {run['seconds'] / floor['seconds']:.2f}x "
            f"(vs its compute only: {run['seconds'] / floor['compute_seconds']:.2f}x, vs its "
            f"current side only: {run['seconds'] / floor['current_seconds']:.2f}x); "
            f"largest PSI difference from NumPy: {worst:.2e}"
        )


if __name__ == "__main__":
    main()
