"""The churn world's cost: seconds per simulated day at 4,000 and 20,000 customers.

Each (code, size) runs in its own process: `World(WorldConfig(customers=N))` lives its 365
default days (and the 30 days of history before day 0) a week at a time, its rows taken after
each week as the demo's data files take them. Printed per run: wall and CPU seconds (whole
run and per simulated day), rows per source per simulated day, peak memory, and the world's
monthly churn before its first shock (when its code reports it). The baseline
is the main branch's code (`--baseline-src`, default /work/main/src) measured in the same
invocation, when that folder exists.

    uv run python bench/world_speed.py [--sizes 4000,20000] [--days 365]
        [--baseline-src /work/main/src]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, resource, sys, time
from lucid.scenarios.churn.world import HISTORY_DAYS, World, WorldConfig
customers, days = int(sys.argv[1]), int(sys.argv[2])
wall, cpu = time.perf_counter(), time.process_time()
world = World(WorldConfig(customers=customers, days=days))
rows = {}
while not world.finished:
    world.step(min(7, days - world.day))
    for source, columns in world.take_rows().items():
        rows[source] = rows.get(source, 0) + len(columns["owner"])
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
lived = days + HISTORY_DAYS
print(json.dumps({
    "seconds": wall, "cpu_seconds": cpu, "seconds_per_day": wall / lived,
    "rows_per_day": {source: count / lived for source, count in rows.items()},
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "monthly_churn_pct": world.ground_truth().get("monthly_churn_pct"),
}))
"""


def measure(src: Path, customers: int, days: int) -> dict[str, object]:
    """One run of the world whose code is under `src`, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(customers), str(days)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4000,20000")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--baseline-src", type=Path, default=Path("/work/main/src"))
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent / "src"
    codes = {"this branch": here}
    if args.baseline_src.resolve() != here and (args.baseline_src / "lucid").is_dir():
        codes = {"baseline": args.baseline_src, **codes}
    load = os.getloadavg()[0]
    print(f"churn world, {args.days} days (+ 30 of history), rows taken weekly; load {load:.1f}")
    for customers in (int(size) for size in args.sizes.split(",")):
        for name, src in codes.items():
            result = measure(src, customers, args.days)
            per_day = result["rows_per_day"]
            assert isinstance(per_day, dict)
            rows = ", ".join(f"{source} {count:,.0f}" for source, count in per_day.items())
            lived = args.days + 30
            wall, cpu = float(str(result["seconds"])), float(str(result["cpu_seconds"]))
            print(
                f"{customers:>6,} customers, {name:<11}: wall {wall:6.2f} s "
                f"({1000 * wall / lived:5.1f} ms/day), cpu {cpu:6.2f} s "
                f"({1000 * cpu / lived:5.1f} ms/day), peak {result['peak_mb']:.0f} MB; "
                f"rows per day: {rows}; monthly churn before the first shock: "
                f"{result.get('monthly_churn_pct') or '-'} %"
            )


if __name__ == "__main__":
    main()
