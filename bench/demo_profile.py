"""The demo loop's cost per simulated day, split by step, from one cProfile run per arm.

Each arm of `lucid.scenarios.churn.comparison` (entropic, negentropic) lives the same world
under cProfile, then every profiled function's *own* time (tottime: time spent in the function
itself, not in what it calls) is attributed to a step through the call stack: a function counts
for the step of the nearest frame, walking from it towards the root, that belongs to a step's
module (`STEPS`, first match wins from the innermost frame). cProfile keeps no full stacks, so
the walk follows each function's callers weighted by how much of its time each caller caused
(`_attribute`); third-party code (numpy, pyarrow, duckdb, sqlite3, sklearn...) lands on the
Lucid step that called it. Time no Lucid frame claims is `other`.

A baseline runs in the same invocation: the same arms on a world of half as many customers
(`--baseline-customers`, 0 to skip), so the per-step cost per customer shows how each step
scales.

    PYTHONPATH=src python bench/demo_profile.py [--customers 4000] [--days 365]
        [--baseline-customers 2000] [--arms entropic,negentropic] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from lucid.scenarios.churn.architecture import ArchitectureArm
from lucid.scenarios.churn.comparison import ARMS
from lucid.scenarios.churn.world import WorldConfig

STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("training (sklearn)", ("scenarios/churn/training", "lucid/engines/training", "/sklearn/")),
    ("shadow/back-test", ("lucid/experiments/shadow", "backtest", "lucid/storage/shadow")),
    ("experiments", ("lucid/experiments/", "lucid/storage/experiments")),
    (
        "monitoring",
        (
            "lucid/monitoring/",
            "lucid/contracts/validity",
            "lucid/memory/incident",
            "lucid/storage/monitoring",
            "lucid/storage/incidents",
        ),
    ),
    (
        "serving/prediction logs",
        ("lucid/service/", "lucid/storage/prediction_log", "lucid/features/serving"),
    ),
    ("registry", ("lucid/registry/", "lucid/storage/models")),
    (
        "features",
        (
            "lucid/features/",
            "lucid/storage/online_store",
            "feature_registry",
            "lucid/engines/duckdb_training_set",
        ),
    ),
    ("data files", ("scenarios/churn/world_files",)),
    (
        "simulation",
        (
            "scenarios/churn/world.py",
            "scenarios/churn/activity",
            "scenarios/churn/population",
            "scenarios/churn/churn_hazard",
            "scenarios/churn/shocks",
            "scenarios/churn/retention",
        ),
    ),
    ("event log", ("lucid/memory/", "lucid/storage/event_log")),
    ("arm logic", ("scenarios/churn/",)),
)
"""(step, path fragments of its modules). The innermost matching frame wins; when one file
matches two steps, the step listed first takes it. The storage adapters go to the step that
uses them (the online store and the served-values log to features, the prediction log to
serving). The engines (DuckDB, its SQL builders) and the metadata database's plumbing (unit
of work, connections) belong to no step: their time goes to the step that called them, so the
monitor's DuckDB scans count for monitoring and a materialisation's for features."""

Func = tuple[str, int, str]


def step_of(func: Func) -> str | None:
    """The step whose modules hold `func`'s file, or None (third-party or unlisted)."""
    path = func[0].replace("\\", "/")
    for step, fragments in STEPS:
        if any(fragment in path for fragment in fragments):
            return step
    return None


def _attribute(stats: pstats.Stats) -> dict[str, float]:
    """Own time of every function, handed to the step of its nearest Lucid frame (itself, or
    up its callers in proportion of the cumulative time each caller accounts for)."""
    table: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    memo: dict[Func, dict[str, float]] = {}
    walking: set[Func] = set()

    def share(func: Func) -> dict[str, float]:
        """Where a second of `func`'s time goes, by step (weights summing to 1). A caller
        already on the walk (recursion) is left out and the other callers share its part."""
        own = step_of(func)
        if own is not None:
            return {own: 1.0}
        if func in memo:
            return memo[func]
        callers = {
            caller: entry[3]
            for caller, entry in table.get(func, (0, 0, 0, 0, {}))[4].items()
            if caller not in walking and entry[3] > 0
        }
        total = sum(callers.values())
        if not total:
            return {"other": 1.0}
        walking.add(func)
        out: dict[str, float] = defaultdict(float)
        for caller, cumulative in callers.items():
            for step, weight in share(caller).items():
                out[step] += weight * cumulative / total
        walking.discard(func)
        memo[func] = dict(out)
        return memo[func]

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    seconds: dict[str, float] = defaultdict(float)
    for func, (_, _, tottime, _, _) in table.items():
        for step, weight in share(func).items():
            seconds[step] += tottime * weight
    return dict(seconds)


def live(arm: ArchitectureArm, days: int) -> None:
    """`run_comparison`'s loop for one arm."""
    while not arm.world.finished:
        if arm.world.day + arm.cadence_days <= days:
            arm.cycle()
        else:
            arm.world.step(days - arm.world.day)


def profile_arm(name: str, customers: int, days: int, folder: Path) -> tuple[float, pstats.Stats]:
    """Wall seconds and the profile of one arm living `customers` × `days`."""
    config = WorldConfig(customers=customers, days=days)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    arm = ARMS[name](name, folder / name, config)
    try:
        live(arm, days)
    finally:
        arm.close()
        profiler.disable()
    return time.perf_counter() - started, pstats.Stats(profiler)


def report(
    label: str, customers: int, days: int, arms: list[str], top: int, dump: str | None = None
) -> dict[str, Any]:
    """Profile each arm, print its steps in seconds per simulated day, return the figures."""
    out: dict[str, Any] = {}
    for name in arms:
        with tempfile.TemporaryDirectory(prefix="lucid-profile-") as tmp:
            wall, stats = profile_arm(name, customers, days, Path(tmp))
        steps = _attribute(stats)
        if dump is not None:
            stats.dump_stats(f"{dump}.{label}.{name}.prof")
        profiled = sum(steps.values())
        print(f"\n== {label}: {name}, {customers:,} customers × {days} days ==")
        print(f"wall {wall:.1f} s (profiled {profiled:.1f} s) = {wall / days * 1000:.1f} ms/day")
        print(f"{'step':<26}{'s':>9}{'ms/day':>10}{'share':>8}")
        for step, seconds in sorted(steps.items(), key=lambda kv: -kv[1]):
            print(
                f"{step:<26}{seconds:>9.1f}{seconds / days * 1000:>10.1f}{seconds / profiled:>8.1%}"
            )
        if top:
            print(f"-- top {top} functions by own time --")
            stats.sort_stats("tottime").print_stats(top)
        out[name] = {"wall": wall, "steps": steps}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=4000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--baseline-customers", type=int, default=2000)
    parser.add_argument("--arms", default="entropic,negentropic")
    parser.add_argument("--top", type=int, default=0, help="also print the top N functions")
    parser.add_argument("--dump", help="write each profile to DUMP.<run>.<arm>.prof")
    parser.add_argument("--read", nargs="+", help="attribute saved profiles (with --days)")
    args = parser.parse_args()
    if args.read:
        for path in args.read:
            steps = _attribute(pstats.Stats(path))
            print(f"\n== {path} ({args.days} days) ==")
            for step, seconds in sorted(steps.items(), key=lambda kv: -kv[1]):
                print(f"{step:<26}{seconds:>9.1f}{seconds / args.days * 1000:>10.1f}")
        return
    arms = [a for a in args.arms.split(",") if a]
    for arm in arms:
        if arm not in ARMS:
            sys.exit(f"--arms: unknown arm {arm!r} (known: {', '.join(ARMS)})")
    main_run = report("run", args.customers, args.days, arms, args.top, args.dump)
    if args.baseline_customers:
        base = report("baseline", args.baseline_customers, args.days, arms, 0)
        print("\n== scaling: ms per simulated day per 1,000 customers, by step ==")
        print(f"{'arm':<12}{'step':<26}{args.baseline_customers:>10,}{args.customers:>10,}")
        for name in arms:
            steps = set(main_run[name]["steps"]) | set(base[name]["steps"])
            for step in sorted(steps, key=lambda s: -main_run[name]["steps"].get(s, 0)):
                per = [
                    run[name]["steps"].get(step, 0) / args.days * 1000 / (n / 1000)
                    for run, n in ((base, args.baseline_customers), (main_run, args.customers))
                ]
                print(f"{name:<12}{step:<26}{per[0]:>10.2f}{per[1]:>10.2f}")


if __name__ == "__main__":
    main()
