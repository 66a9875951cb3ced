"""Multivariate drift: how often each multivariate check raises evidence of drift when nothing
drifted and when something did, and the time and peak memory of a large window.

Rates: for every size (rows a side) and repetition, a fresh reference and fresh current windows
are drawn from a world of 6 numeric features (two pairs correlated by 0.6 and 0.5, a skewed
one, an independent one) and one category. The reference is profiled (the multivariate part by
`lucid.monitoring.multivariate.profile_multivariate`, through DuckDB; its per-column means,
standard deviations and categories, which that part reads, with NumPy), then each current
window is measured by `measure_multivariate` (the code a run calls). Scenarios: no shift;
the first feature's mean shifted by 0.25 sd; the first pair's correlation weakened from 0.6 to
0.3; and its sign flipped (0.6 to -0.6). Every marginal stays the same in the last two. A
check counts as raising evidence when its p-value is below α (1 % and 5 %).

Memory: a window of N rows is written to Parquet; each phase runs in a fresh process so its
peak (VmHWM) is its own: `idle` imports what a measurement imports and stops (the floor of any
Python process here); `lucid` measures both metrics on the file, read in record batches;
`numpy` loads the numeric columns whole with PyArrow and computes the same mean error in one
go (the baseline that holds the window in memory).

    uv run python bench/multivariate.py [--repetitions 200] [--sizes 200,500,1000,2000,10000]
        [--rows 1000000,4000000] [--skip-rates] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from phases import run_phase

SCENARIOS = ("none", "shift 0.25 sd", "correlation 0.6 -> 0.3", "correlation 0.6 -> -0.6")
METRICS = ("reconstruction_error_rise", "domain_classifier_auc")
CATEGORIES = ("basic", "pro", "team")
CHUNK = 500_000


def world(rng: np.random.Generator, rows: int, scenario: str = "none") -> pa.Table:
    """One window of the bench's world under `scenario`."""
    rho = {"correlation 0.6 -> 0.3": 0.3, "correlation 0.6 -> -0.6": -0.6}.get(scenario, 0.6)
    z = rng.standard_normal((rows, 6))
    columns = {
        "x0": z[:, 0] + (0.25 if scenario == "shift 0.25 sd" else 0.0),
        "x1": rho * z[:, 0] + math.sqrt(1 - rho**2) * z[:, 1],
        "x2": 10 + 3 * z[:, 2],
        "x3": 10 + 3 * (0.5 * z[:, 2] + math.sqrt(0.75) * z[:, 3]),
        "x4": np.exp(0.5 * z[:, 4]),
        "x5": z[:, 5],
    }
    codes = rng.choice(len(CATEGORIES), rows, p=[0.5, 0.3, 0.2])
    return pa.table({**columns, "plan": np.asarray(CATEGORIES)[codes]})


def column_profiles(table: pa.Table) -> dict[str, Any]:
    """The per-column summaries the multivariate part reads (means, standard deviations,
    categories), computed with NumPy; the rest of a column profile is left empty."""
    from lucid.contracts.validity.profiles import CategoricalProfile, NumericProfile

    found: dict[str, Any] = {}
    for name in table.column_names:
        values = table.column(name).to_numpy()
        if name == "plan":
            kept, counts = np.unique(values, return_counts=True)
            categories = {str(k): int(c) for k, c in zip(kept, counts, strict=True)}
            found[name] = CategoricalProfile(len(values), len(values), categories, 0)
            continue
        found[name] = NumericProfile(
            len(values),
            len(values),
            float(values.min()),
            float(values.max()),
            float(values.mean()),
            float(values.std()),
            (),
            (),
            (),
            True,
        )
    return found


def rates(repetitions: int, sizes: list[int]) -> None:
    from lucid.contracts.validity.profiles import ReferenceProfile, SegmentProfile
    from lucid.engines.duckdb import DuckDBEngine
    from lucid.monitoring.multivariate import measure_multivariate, profile_multivariate

    pvalues: dict[tuple[str, int, str], list[float]] = {}
    values: dict[tuple[str, int, str], list[float]] = {}
    started = time.perf_counter()
    with DuckDBEngine() as engine:
        for size in sizes:
            for repetition in range(repetitions):
                rng = np.random.default_rng([size, repetition])
                reference = world(rng, size)
                columns = column_profiles(reference)
                engine.register("reference", reference)
                part = profile_multivariate(engine, "reference", columns)
                profile = ReferenceProfile({None: SegmentProfile(columns)}, multivariate=part)
                for scenario in SCENARIOS:
                    engine.register("current", world(rng, size, scenario))
                    measured = measure_multivariate(
                        engine, "current", profile, minimum_rows=size, explain=False
                    )
                    for m in measured:
                        assert m.pvalue is not None and m.value is not None, m
                        pvalues.setdefault((scenario, size, m.metric), []).append(m.pvalue)
                        values.setdefault((scenario, size, m.metric), []).append(m.value)
            elapsed = time.perf_counter() - started
            print(f"  {size:,} rows a side done ({elapsed:.0f} s)", flush=True)
    print(
        f"\nShare of {repetitions} repetitions whose p-value is below α = 1 % (5 %), and the "
        "mean value (rise: relative; AUC):"
    )
    header = f"{'scenario':<26}{'metric':<27}" + "".join(f"{s:>23,}" for s in sizes)
    print(header)
    for scenario in SCENARIOS:
        for metric in METRICS:
            cells = []
            for size in sizes:
                p = np.asarray(pvalues[scenario, size, metric])
                mean = float(np.mean(values[scenario, size, metric]))
                cells.append(f"{(p < 0.01).mean():.1%} ({(p < 0.05).mean():.1%}) {mean:.3f}")
            print(f"{scenario:<26}{metric:<27}" + "".join(f"{c:>23}" for c in cells))


def peak_mib() -> float:
    """Peak resident memory of this process (VmHWM: reset at exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_window(path: Path, rows: int, seed: int, scenario: str = "none") -> None:
    rng = np.random.default_rng(seed)
    writer: pq.ParquetWriter | None = None
    for start in range(0, rows, CHUNK):
        table = world(rng, min(CHUNK, rows - start), scenario)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def phase_idle(workdir: Path) -> dict[str, Any]:
    import sklearn.ensemble
    import sklearn.metrics
    import sklearn.model_selection  # noqa: F401
    import threadpoolctl

    threadpoolctl.threadpool_info()  # finds the BLAS and OpenMP libraries once

    from lucid.engines.duckdb import DuckDBEngine
    from lucid.monitoring import multivariate  # noqa: F401

    with DuckDBEngine():
        pass
    return {"seconds": 0.0, "peak_mib": peak_mib()}


def phase_lucid(workdir: Path) -> dict[str, Any]:
    from lucid.contracts.validity.profiles import ReferenceProfile
    from lucid.engines.duckdb import DuckDBEngine
    from lucid.monitoring.multivariate import measure_multivariate

    phase_idle(workdir)  # imports outside the timing, like the NumPy baseline's
    profile = ReferenceProfile.from_dict(json.loads((workdir / "profile.json").read_text()))
    started = time.perf_counter()
    with DuckDBEngine(memory_limit="256MB") as engine:
        engine.register("current", workdir / "current.parquet")
        measured = {m.metric: m for m in measure_multivariate(engine, "current", profile)}
    rise = measured["reconstruction_error_rise"]
    return {
        "seconds": time.perf_counter() - started,
        "peak_mib": peak_mib(),
        "rows": rise.current_rows,
        "mean_error": rise.details["current_error_mean"],
        "chunks": rise.details["chunks"],
        "rise": rise.value,
        "auc": measured["domain_classifier_auc"].value,
    }


def phase_numpy(workdir: Path) -> dict[str, Any]:
    from threadpoolctl import threadpool_limits

    from lucid.contracts.validity.profiles import ReferenceProfile
    from lucid.monitoring.multivariate import reconstruction_errors

    profile = ReferenceProfile.from_dict(json.loads((workdir / "profile.json").read_text()))
    assert profile.multivariate is not None and profile.multivariate.reconstruction is not None
    pca = profile.multivariate.reconstruction
    started = time.perf_counter()
    with threadpool_limits(1):  # as Lucid's: BLAS threads only wait for each other here
        table = pq.read_table(workdir / "current.parquet", columns=list(pca.columns))
        matrix = np.column_stack([table.column(c).to_numpy() for c in pca.columns])
        z = (matrix - np.asarray(pca.means)) / np.asarray(pca.scales)
        errors = reconstruction_errors(z, np.asarray(pca.components))
    return {
        "seconds": time.perf_counter() - started,
        "peak_mib": peak_mib(),
        "mean_error": float(errors.mean()),
    }


PHASES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "idle": phase_idle,
    "lucid": phase_lucid,
    "numpy": phase_numpy,
}


def child(phase: str, workdir: Path) -> dict[str, Any]:
    return run_phase(__file__, phase, workdir)


def memory(rows_list: list[int]) -> None:
    from lucid.engines.duckdb import DuckDBEngine
    from lucid.monitoring.profiles import build_profile

    print("\nA large window measured (both metrics), each phase in a fresh process:")
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        write_window(workdir / "reference.parquet", 200_000, 1)
        with DuckDBEngine() as engine:
            engine.register("reference", workdir / "reference.parquet")
            started = time.perf_counter()
            plain = build_profile(engine, "reference", multivariate=False)
            without = time.perf_counter() - started
            started = time.perf_counter()
            profile = build_profile(engine, "reference")
            built = time.perf_counter() - started
        text = json.dumps(profile.to_dict())
        (workdir / "profile.json").write_text(text)
        plain_kib = len(json.dumps(plain.to_dict())) / 1024
        print(
            f"  reference profile of 200,000 rows x 7 columns: {built:.2f} s, "
            f"{len(text) / 1024:.0f} KiB as JSON | without the multivariate part: "
            f"{without:.2f} s, {plain_kib:.0f} KiB"
        )
        idle = child("idle", workdir)
        print(f"  imports only (the floor of a process here): peak {idle['peak_mib']:.0f} MiB")
        for rows in rows_list:
            write_window(workdir / "current.parquet", rows, 2, "correlation 0.6 -> -0.6")
            lucid = child("lucid", workdir)
            floor = child("numpy", workdir)
            assert lucid["rows"] == rows
            gap = abs(lucid["mean_error"] - floor["mean_error"]) / floor["mean_error"]
            print(
                f"  {rows:>10,} rows: Lucid {lucid['seconds']:.2f} s, peak "
                f"{lucid['peak_mib']:.0f} MiB ({lucid['chunks']} batches; rise "
                f"{lucid['rise']:.3f}, AUC {lucid['auc']:.3f}) | NumPy, whole window in "
                f"memory, reconstruction only: {floor['seconds']:.2f} s, peak "
                f"{floor['peak_mib']:.0f} MiB | mean errors differ by {gap:.1e} (relative)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repetitions", type=int, default=200)
    parser.add_argument("--sizes", default="200,500,1000,2000,10000")
    parser.add_argument("--rows", default="1000000,4000000")
    parser.add_argument("--skip-rates", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.workdir)))
        return
    if not args.skip_rates:
        sizes = [int(s) for s in args.sizes.split(",")]
        print(f"Rates: {args.repetitions} repetitions at {', '.join(f'{s:,}' for s in sizes)}")
        rates(args.repetitions, sizes)
    if not args.skip_memory:
        memory([int(r) for r in args.rows.split(",")])


if __name__ == "__main__":
    main()
