"""Drift through the public path: predictions logged, then the policy run over them, beside
the floors measured in the same run.

Writes a reference file (20 numeric + 5 categorical columns and `score`) and a current file
(the same columns, some shifted, with `entity` and `served_at` over one day), makes a project,
then runs each phase in a fresh process so that its peak memory (VmHWM: Python, NumPy, Arrow
and DuckDB together) is its own:

- log: `lucid monitor predictions FILE`'s use case (`Monitoring.log_predictions_file`);
- log_floor: the file read with PyArrow and written back as one Parquet file;
- profile: the reference profile from the reference file and the seed's churn policy stored
  (once per model version, not part of a run);
- run: `lucid monitor run`'s use case over the logged day (`Monitoring.run`): the window read
  from the log, every statistic the policy asks for, every threshold graded, the run stored;
- duckdb: the floor — both files read by DuckDB, reference deciles (`quantile_cont`), both
  sides' bin and category counts in one `histogram` pass a side, PSI;
- numpy: a second floor — PyArrow reads per column, `np.quantile`, `searchsorted` +
  `bincount`, PSI.

Before them, the daily case (`--daily-rows`, 10,000 by default; 0 skips it): a day of
reference predictions and two current days logged with `lucid.monitoring.log_predictions`
(rows as an SDK caller gives them), the profile built from the reference day and a daily
policy stored (PSI and every health check), then `Monitoring.run` over one day, timed beside
the bare read of that day's segments with DuckDB and a DuckDB query of the same counts.

    uv run python bench/drift.py [--rows 1000000] [--daily-rows 10000] [--memory-limit 512MB]
                                 [--keep DIR]

Goals: 1 M predictions logged in <= 5 s under 1 GiB; the run within 1.5x the DuckDB floor
under 1 GiB (10 M: 1.2x, 2 GiB); the daily run under 1 s.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from phases import run_phase

NUMERIC = 20
CATEGORICAL = 5
CATEGORIES = [f"c{i:02d}" for i in range(12)]
CHUNK = 500_000


def generate(path: Path, rows: int, seed: int, shifted: bool) -> None:
    """Write `rows` rows in chunks so that 10,000,000 rows never sit in memory: the features
    and `score`, and for the current side (`shifted`) the `entity` and `served_at` (over
    `RUN_DAY`) a logged prediction has."""
    rng = np.random.default_rng(seed)
    writer: pq.ParquetWriter | None = None
    weights = np.linspace(1, 3, len(CATEGORIES))
    day_start = int(RUN_DAY.timestamp() * 1_000_000)
    for start in range(0, rows, CHUNK):
        size = min(CHUNK, rows - start)
        columns: dict[str, Any] = {}
        if shifted:
            columns["entity"] = pa.array([f"e{i}" for i in range(start, start + size)])
            micros = day_start + np.sort(rng.integers(0, DAY * 1_000_000, size))
            columns["served_at"] = pa.array(micros, pa.timestamp("us", tz="UTC"))
        columns["score"] = rng.uniform(0.01, 0.99, size)
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


RUN_DAY = datetime(2026, 11, 3, tzinfo=UTC)
"""The day the current file's predictions are served over."""


def _project(workdir: Path) -> Any:
    from lucid.bootstrap import open_project

    lucid = open_project(workdir / "project", environ={})
    lucid.clock = lambda: RUN_DAY + timedelta(days=1, minutes=5)
    return lucid


def phase_log(workdir: Path, memory_limit: str) -> dict[str, Any]:
    """`lucid monitor predictions FILE`'s use case: the current file logged as predictions."""
    with _project(workdir) as lucid:
        started = time.perf_counter()
        ids = lucid.monitoring.log_predictions_file("churn", 1, workdir / "current.parquet")
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mib": peak_mib(), "rows": len(ids)}


def phase_log_floor(workdir: Path, memory_limit: str) -> dict[str, Any]:
    """The floor of logging the file as columns: read it with PyArrow, write it back as
    one Parquet file (no validation, no id, no registration)."""
    started = time.perf_counter()
    table = pq.read_table(workdir / "current.parquet")
    pq.write_table(table, workdir / "floor.parquet", compression="lz4")
    seconds = time.perf_counter() - started
    (workdir / "floor.parquet").unlink()
    return {"seconds": seconds, "peak_mib": peak_mib()}


def phase_profile(workdir: Path, memory_limit: str) -> dict[str, Any]:
    """The reference profile from the reference file and the seed's policy stored (once per
    version, not part of a run)."""
    from lucid.contracts.validity import MonitoringPolicy

    with _project(workdir) as lucid:
        started = time.perf_counter()
        lucid.monitoring.build_profile("churn", 1, reference=workdir / "reference.parquet")
        seconds = time.perf_counter() - started
        policy = MonitoringPolicy.churn_default("churn")
        lucid.monitoring.set_policy(policy, actor="bench", rationale="the drift bench")
    return {"seconds": seconds, "peak_mib": peak_mib()}


def phase_run(workdir: Path, memory_limit: str) -> dict[str, Any]:
    """`lucid monitor run`'s use case over the logged day: read the window from the log,
    measure, grade, store the run and its checks."""
    with _project(workdir) as lucid:
        # What a scheduler's process has loaded already: the modules and the engine of a run.
        for module in ("lucid.monitoring.runs", "lucid.monitoring.drift", "scipy.stats"):
            importlib.import_module(module)
        lucid.engine, lucid.registry  # noqa: B018
        started = time.perf_counter()
        report = lucid.monitoring.run(
            "churn", start=RUN_DAY, end=RUN_DAY + timedelta(days=1), version=1
        )
        seconds = time.perf_counter() - started
    record = report.record
    psi = [c for c in record.checks if c["metric"] == "psi"]
    return {
        "seconds": seconds,
        "peak_mib": peak_mib(),
        "checks": len(record.checks),
        "psi_checks": len(psi),
        "level": record.level,
        "psi_levels": {
            level: sum(1 for c in psi if c["level"] == level)
            for level in ("ok", "warning", "critical", "insufficient_data")
        },
        "psi_values": {c["feature"]: c["value"] for c in psi},
    }


def phase_duckdb(workdir: Path, memory_limit: str) -> dict[str, Any]:
    """The DuckDB floor: reference deciles and category counts, the current file's bin and
    category counts against them, PSI — both files read, in two queries a side."""
    import duckdb

    reference = str(workdir / "reference.parquet")
    current = str(workdir / "current.parquet")
    started = time.perf_counter()
    # DuckDB's own memory limit (80 % of RAM): the floor is DuckDB as a user runs it; 10 M
    # rows' deciles need about 2 GB.
    with duckdb.connect() as connection:
        names = [n for n in pq.read_schema(reference).names if n.startswith(("num_", "cat_"))]
        numeric = [n for n in names if n.startswith("num_")]
        categorical = [n for n in names if n.startswith("cat_")]
        deciles = [i / 10 for i in range(1, 10)]
        [row] = connection.execute(
            "SELECT "
            + ", ".join(f"quantile_cont({n}, {deciles})" for n in numeric)
            + f" FROM read_parquet('{reference}')"
        ).fetchall()
        edges = {n: sorted(set(row[i])) for i, n in enumerate(numeric)}

        def counts(path: str) -> tuple[dict[str, np.ndarray], dict[str, dict[str, int]]]:
            """One pass over a file: each numeric column's bin counts (DuckDB's
            `histogram` with the reference deciles as boundaries) and each categorical
            column's category counts."""
            parts = [f"histogram({n}, {edges[n]})" for n in numeric]
            parts += [f"histogram({n}::VARCHAR)" for n in categorical]
            [row] = connection.execute(
                f"SELECT {', '.join(parts)} FROM read_parquet('{path}')"
            ).fetchall()
            bins = {
                n: np.array([row[i].get(e, 0) for e in [*edges[n], float("inf")]], dtype=float)
                for i, n in enumerate(numeric)
            }
            cats = {n: dict(row[len(numeric) + j]) for j, n in enumerate(categorical)}
            return bins, cats

        ref_bins, ref_cats = counts(reference)
        cur_bins, cur_cats = counts(current)
    values = {n: numpy_psi(ref_bins[n], cur_bins[n]) for n in numeric}
    for n in categorical:
        keys = sorted(set(ref_cats[n]) | set(cur_cats[n]))
        values[n] = numpy_psi(
            np.array([ref_cats[n].get(k, 0) for k in keys], dtype=float),
            np.array([cur_cats[n].get(k, 0) for k in keys], dtype=float),
        )
    return {"seconds": time.perf_counter() - started, "peak_mib": peak_mib(), "psi_values": values}


DAY = 86_400


def daily_rows(count: int, seed: int, day: datetime, shifted: bool) -> list[dict[str, Any]]:
    """`count` logged predictions served over `day`, 20 numeric + 5 categorical features."""
    rng = np.random.default_rng(seed)
    numeric = {
        f"num_{i:02d}": rng.normal(0.4 * (i % 4 == 0) * shifted, 1.0 + 0.1 * (i % 3), count)
        for i in range(NUMERIC)
    }
    weights = np.linspace(1, 3, len(CATEGORIES))
    categorical = {
        f"cat_{j}": rng.choice(
            CATEGORIES, count, p=(w := weights[::-1] if shifted and j == 0 else weights) / w.sum()
        )
        for j in range(CATEGORICAL)
    }
    seconds = np.sort(rng.uniform(0, DAY, count))
    scores = rng.uniform(0.01, 0.99, count)
    return [
        {
            "entity": f"e{seed}-{row}",
            "served_at": day + timedelta(seconds=float(seconds[row])),
            "features": {
                **{name: float(values[row]) for name, values in numeric.items()},
                **{name: str(values[row]) for name, values in categorical.items()},
            },
            "score": float(scores[row]),
        }
        for row in range(count)
    ]


def daily_project(workdir: Path, rows: int) -> None:
    """A project with a reference day and two current days logged, the reference profile
    built from the first and a daily policy stored."""
    from lucid.contracts.validity.generic_policy import generic_policy
    from lucid.contracts.validity.health import default_health_thresholds
    from lucid.project import init_project

    day0 = datetime(2026, 11, 2, tzinfo=UTC)
    with init_project(workdir / "daily", actor="bench", environ={}) as lucid:
        monitoring = lucid.monitoring
        monitoring.log_predictions("churn", 1, daily_rows(rows, 1, day0, shifted=False))
        for day in (1, 2):
            current = daily_rows(rows, 1 + day, day0 + timedelta(day), shifted=True)
            monitoring.log_predictions("churn", 1, current)
        monitoring.build_profile("churn", 1, start=day0, end=day0 + timedelta(1))
        generic = generic_policy("churn", "data_team")
        volume = [t for t in default_health_thresholds(None) if t.metric == "volume_ratio"]
        policy = generic.with_thresholds([*generic.thresholds, *volume])
        monitoring.set_policy(policy, actor="bench", rationale="the daily bench")


def phase_daily(workdir: Path) -> dict[str, Any]:
    """Two daily runs through `Monitoring.run` in this fresh process — the first pays the
    imports of what a run uses (a cron job's case), the second does not (a scheduler's) —
    then the bare floors of the second day's read and counts."""
    import sqlite3

    from lucid.bootstrap import open_project

    seconds = []
    now = [datetime(2026, 11, 5, tzinfo=UTC)]
    with open_project(workdir / "daily", environ={}) as lucid:
        lucid.clock = lambda: now[0]
        for day in (3, 4):
            start = datetime(2026, 11, day, tzinfo=UTC)
            now[0] = start + timedelta(days=1, minutes=5)
            started = time.perf_counter()
            report = lucid.monitoring.run("churn", start=start, end=start + timedelta(1))
            seconds.append(time.perf_counter() - started)
            assert report.created
        record = report.record
        profile = lucid.monitoring.store.load_profile("churn", "1")
    import duckdb

    started = time.perf_counter()
    day = record.window.split("/")[0][:10]
    with sqlite3.connect(workdir / "daily" / "metadata.db") as connection:
        files = [
            str(workdir / "daily" / "data" / "prediction_log" / path)
            for (path,) in connection.execute(
                "SELECT path FROM prediction_segments WHERE model = ? AND day = ?",
                ["churn", day],
            )
        ]
    with duckdb.connect() as connection:
        table = connection.sql(f"SELECT * FROM read_parquet({files!r})").to_arrow_table()
    table = table.rename_columns([name.removeprefix("feature.") for name in table.column_names])
    read_seconds = time.perf_counter() - started
    edges = {
        name: column.edges
        for name, column in profile.overall.columns.items()
        if column.kind == "numeric"
    }
    parts = [
        f"count(*) FILTER (WHERE {name} > {edge!r})"
        for name, cuts in edges.items()
        for edge in cuts
    ]
    categorical = [name for name in table.column_names if name.startswith("cat_")]
    started = time.perf_counter()
    with duckdb.connect() as connection:
        connection.register("day", table)
        connection.execute(f"SELECT {', '.join(parts)} FROM day").fetchall()
        for name in categorical:
            connection.execute(f"SELECT {name}, count(*) FROM day GROUP BY 1").fetchall()
    count_seconds = time.perf_counter() - started
    return {
        "first_seconds": seconds[0],
        "seconds": seconds[1],
        "rows": table.num_rows,
        "checks": len(record.checks),
        "level": record.level,
        "read_seconds": read_seconds,
        "count_seconds": count_seconds,
        "peak_mib": peak_mib(),
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
    names = [
        n for n in pq.read_schema(workdir / "reference.parquet").names if n[:4] in ("num_", "cat_")
    ]

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


def daily(rows: int) -> None:
    """The daily case in its own folder: the project built once, the run timed in a fresh
    process."""
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        started = time.perf_counter()
        daily_project(workdir, rows)
        print(
            f"daily case: {rows:,} predictions a day, {NUMERIC} numeric + {CATEGORICAL} "
            f"categorical features (project ready in {time.perf_counter() - started:.1f} s)"
        )
        run = child("daily", workdir, "")
        print(
            f"Lucid daily run (Monitoring.run): {run['seconds']:.3f} s, peak "
            f"{run['peak_mib']:.0f} MiB; {run['checks']} checks, level {run['level']} "
            f"(the first run of the process, imports included: {run['first_seconds']:.3f} s)"
        )
        print(
            f"bare floor: read the day's segments with DuckDB {run['read_seconds']:.3f} s "
            f"+ DuckDB bin and category counts {run['count_seconds']:.3f} s = "
            f"{run['read_seconds'] + run['count_seconds']:.3f} s; ratio run / floor "
            f"{run['seconds'] / (run['read_seconds'] + run['count_seconds']):.2f}x"
        )


def child(phase: str, workdir: Path, memory_limit: str) -> dict[str, Any]:
    return run_phase(__file__, phase, workdir, "--memory-limit", memory_limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--daily-rows", type=int, default=10_000, help="0 skips the daily case")
    parser.add_argument("--memory-limit", default="512MB", help="DuckDB buffer pool cap")
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep the files.")
    parser.add_argument(
        "--phase",
        choices=["log", "log_floor", "profile", "run", "duckdb", "numpy", "daily"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        phases = {
            "profile": lambda: phase_profile(args.workdir, args.memory_limit),
            "log": lambda: phase_log(args.workdir, args.memory_limit),
            "log_floor": lambda: phase_log_floor(args.workdir, args.memory_limit),
            "run": lambda: phase_run(args.workdir, args.memory_limit),
            "duckdb": lambda: phase_duckdb(args.workdir, args.memory_limit),
            "numpy": lambda: phase_numpy(args.workdir),
            "daily": lambda: phase_daily(args.workdir),
        }
        print(json.dumps(phases[args.phase]()))
        return
    if args.daily_rows:
        daily(args.daily_rows)
    if not args.rows:
        return
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        if not (workdir / "current.parquet").exists():
            generate(workdir / "reference.parquet", args.rows, 1, shifted=False)
            generate(workdir / "current.parquet", args.rows, 2, shifted=True)
        print(
            f"{args.rows:,} rows a side, {NUMERIC} numeric + {CATEGORICAL} categorical columns "
            f"(data ready in {time.perf_counter() - started:.1f} s)"
        )
        if (workdir / "project").exists():
            shutil.rmtree(workdir / "project")
        from lucid.project import init_project

        init_project(workdir / "project", actor="bench", environ={}).close()
        logged = child("log", workdir, args.memory_limit)
        log_floor = child("log_floor", workdir, args.memory_limit)
        profile = child("profile", workdir, args.memory_limit)
        run = child("run", workdir, args.memory_limit)
        duck = child("duckdb", workdir, args.memory_limit)
        floor = child("numpy", workdir, args.memory_limit)
        worst = max(
            abs(run["psi_values"][name] - duck["psi_values"][name]) for name in duck["psi_values"]
        )
        print(
            f"reference profile (once per version): {profile['seconds']:.2f} s, "
            f"peak {profile['peak_mib']:.0f} MiB"
        )
        print(
            f"Lucid log (monitor predictions FILE): {logged['seconds']:.2f} s, "
            f"peak {logged['peak_mib']:.0f} MiB, {logged['rows']:,} predictions"
        )
        print(
            f"log floor (read the file, write it as Parquet): {log_floor['seconds']:.2f} s, "
            f"peak {log_floor['peak_mib']:.0f} MiB; ratio "
            f"{logged['seconds'] / log_floor['seconds']:.2f}x"
        )
        print(
            f"Lucid run (monitor run, the day):     {run['seconds']:.2f} s, "
            f"peak {run['peak_mib']:.0f} MiB; {run['checks']} checks "
            f"({run['psi_checks']} PSI: {run['psi_levels']}), level {run['level']}"
        )
        print(
            f"DuckDB floor (both files, PSI):       {duck['seconds']:.2f} s, "
            f"peak {duck['peak_mib']:.0f} MiB"
        )
        print(
            f"NumPy floor:                          {floor['seconds']:.2f} s "
            f"(read {floor['read_seconds']:.2f} s + compute {floor['compute_seconds']:.2f} s), "
            f"peak {floor['peak_mib']:.0f} MiB"
        )
        ratio = run["seconds"] / duck["seconds"]
        print(
            f"ratio run / DuckDB floor {ratio:.2f}x; largest PSI difference from DuckDB's "
            f"{worst:.2e}"
        )
        if args.rows < 1_000_000:
            print("verdict: quick mode (the goals are for 1,000,000 and 10,000,000 rows)")
            return
        limit = 1.5 if args.rows <= 1_000_000 else 1.2
        memory = 1024 if args.rows <= 1_000_000 else 2048
        per_million = logged["seconds"] / (args.rows / 1_000_000)
        met = (
            per_million <= 5
            and logged["peak_mib"] < 1024
            and ratio <= limit
            and run["peak_mib"] < memory
        )
        print(
            f"verdict: {'MET' if met else 'NOT MET'} (goal: logging <= 5 s per million rows "
            f"< 1 GiB, got {per_million:.2f} s and {logged['peak_mib']:.0f} MiB; run within "
            f"{limit}x the DuckDB floor < {memory} MiB, got {ratio:.2f}x and "
            f"{run['peak_mib']:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
