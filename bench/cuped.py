"""CUPED on the churn world: how much of a retention metric's variance a pre-period activity
covariate removes, and the minimum sample before and after, for the contract's target effect.

The world is built as the demo builds it (`WorldConfig(customers=4000)`), without shocks so
that the measurement days are comparable; it is lived day by day and each day's recorded rows
(`World.take_rows`, bots and bot traffic excluded) are counted per customer, as a warehouse
would see them. At each snapshot day d, for the customers active at d:

- metrics: weekly retention (still active at d + 7, 0/1, the demo contract's metric), 30-day
  retention (0/1), and a numeric engagement metric (logins during d..d+7);
- covariates: each customer's recorded logins, purchases, app interactions or tickets over
  the 30 days before d (and log1p of logins).

Variance reduction is measured by `difference_test` (the real CUPED path) on 20 random A/A
splits of the active customers (mean of 1 - var_adj / var_raw), beside rho². The minimum
sample per arm (share 0.5) is `minimum_sample_size` for the demo contract's target effect
(+0.005 on weekly retention, 0.03 below for non-inferiority), then × (1 - rho²).

    PYTHONPATH=src python bench/cuped.py [--customers 4000] [--seed 7]

Goal (issue 22): variance reduction ≥ 30 % with a pre-period activity covariate.
"""

from __future__ import annotations

import argparse
import time
from collections import deque

import numpy as np

from lucid.contracts.experiments import ArmStats, difference_test, minimum_sample_size, shrink
from lucid.scenarios.churn.world import World, WorldConfig

WINDOW = 30
SNAPSHOTS = (40, 70, 100)
SOURCES = {"logins": "logins", "purchases": "purchases", "app": "app_interactions"}
SOURCES_TICKETS = {"tickets": "support_tickets"}


def arm(y: np.ndarray, x: np.ndarray) -> ArmStats:
    n = len(y)
    return ArmStats(
        n, n, float(y.sum()), float((y * y).sum()), n, float(x.sum()), float((x * x).sum()),
        float((x * y).sum()),
    )  # fmt: skip


def reduction(y: np.ndarray, x: np.ndarray, rng: np.random.Generator, splits: int = 20) -> float:
    """Mean CUPED variance reduction of the A/A difference over random halves."""
    found = []
    for _ in range(splits):
        half = rng.random(len(y)) < 0.5
        test = difference_test(arm(y[~half], x[~half]), arm(y[half], x[half]))
        found.append(test.variance_reduction)
    return float(np.mean(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    days = max(SNAPSHOTS) + WINDOW + 1
    world = World(
        WorldConfig(customers=args.customers, days=days, seed=args.seed, shocks=(), seasons=())
    )
    owners = len(world.owner_ids)
    sources = {**SOURCES, **SOURCES_TICKETS}
    window: dict[str, deque[np.ndarray]] = {name: deque(maxlen=WINDOW) for name in sources}
    covariates: dict[int, dict[str, np.ndarray]] = {}
    logins_by_day: dict[int, np.ndarray] = {}
    active: dict[int, list[str]] = {}
    world.take_rows()  # the history days' rows
    while not world.finished:
        day = world.day
        if day in SNAPSHOTS:
            active[day] = world.active_customers()
            covariates[day] = {name: np.sum(window[name], axis=0) for name in sources}
        world.step(1)
        rows = world.take_rows()
        for name, source in sources.items():
            columns = rows[source]
            keep = (
                ~columns["is_bot"] if "is_bot" in columns else np.ones(len(columns["owner"]), bool)
            )
            counts = np.bincount(columns["owner"][keep], minlength=owners)
            window[name].append(counts)
            if name == "logins":
                logins_by_day[day] = counts
    churned_at = world.customers().column("churned_at").to_pylist()
    start = world.config.start
    churn_day = np.array(
        [np.inf if c is None else (c - start).total_seconds() / 86400 for c in churned_at]
    )
    index = {c: i for i, c in enumerate(world.owner_ids)}
    rng = np.random.default_rng(args.seed)
    print(f"churn world: {args.customers} customers, seed {args.seed}, no shocks")
    header = (
        f"{'day':>4} {'metric':<16} {'mean':>6} {'covariate':<13} {'rho':>6} {'rho²':>6} "
        f"{'VR (A/A)':>9} {'n/arm before':>13} {'after':>8}"
    )
    print(header)
    print("-" * len(header))
    for day in SNAPSHOTS:
        rows = np.array([index[c] for c in active[day]])
        metrics = {
            "weekly retention": (churn_day[rows] > day + 7).astype(float),
            "30-day retention": (churn_day[rows] > day + 30).astype(float),
            "logins next 7d": np.sum([logins_by_day[d][rows] for d in range(day, day + 7)], 0),
        }
        for metric, y in metrics.items():
            y = y.astype(float)
            baseline = float(y.mean())
            binary = metric.endswith("retention")
            candidates = {name: covariates[day][name][rows].astype(float) for name in sources}
            candidates["log1p logins"] = np.log1p(candidates["logins"])
            for name, x in candidates.items():
                rho = float(np.corrcoef(y, x)[0, 1]) if x.std() > 0 and y.std() > 0 else 0.0
                vr = reduction(y, x, rng)
                if binary and 0 < baseline + 0.005 < 1:
                    need = minimum_sample_size(baseline, 0.005, challenger_share=0.5).challenger
                    after = shrink(
                        minimum_sample_size(baseline, 0.005, challenger_share=0.5), rho
                    ).challenger
                    sizes = f"{need:>13,} {after:>8,}"
                else:
                    sizes = f"{'-':>13} {'-':>8}"
                print(
                    f"{day:>4} {metric:<16} {baseline:>6.3f} {name:<13} {rho:>6.3f} "
                    f"{rho * rho:>6.3f} {vr:>9.1%} {sizes}"
                )
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
