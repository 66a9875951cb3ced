"""The reference scenario over several seeds: each figure's mean and spread per arm.

    PYTHONPATH=src python bench/demo_seeds.py --seeds 7 8 9 10 11 [--customers 4000 --days 365]

Runs `lucid demo`'s comparison once per seed (each in its own temporary folder, one after the
other) and prints, per arm, the mean, the standard deviation and the range of the scorecard's
figures, retention and revenue kept, value against no model, and the negentropic-minus-entropic
difference of retention and revenue kept on each seed. Slow: a default world takes minutes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from lucid.scenarios.churn.comparison import run_comparison
from lucid.scenarios.churn.world import WorldConfig

FIGURES = (
    "contradictory_definitions",
    "training_serving_skew_pct",
    "models_without_impact_pct",
    "tech_business_correlation",
    "correlation_pairs",
    "detection_delay_days",
    "time_to_recovery_days",
    "critical_incidents_undetected",
    "failures_documented_pct",
    "repeated_errors",
    "overrides",
    "false_alarm_incidents",
    "retention_rate",
    "revenue_kept",
    "revenue_kept_vs_no_model",
    "value_per_model",
)


def figure(arm: dict[str, Any], key: str) -> float | None:
    value = (
        arm["value"].get(key)
        if key in ("revenue_kept_vs_no_model", "value_per_model")
        else arm.get(key)
    )
    return None if value is None else float(value)


def spread(values: list[float | None]) -> str:
    """mean ± sd [min, max] (n) over the measured values; — when none."""
    known = [v for v in values if v is not None]
    if not known:
        return "—"
    sd = statistics.stdev(known) if len(known) > 1 else 0.0
    missing = f", {len(values) - len(known)} unmeasured" if len(known) < len(values) else ""
    mean, low, high = statistics.fmean(known), min(known), max(known)
    return f"{mean:,.4g} ± {sd:,.3g} [{low:,.4g}, {high:,.4g}]{missing}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9, 10, 11])
    parser.add_argument("--customers", type=int, default=4_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--json", type=Path, help="Also write every seed's summary here.")
    args = parser.parse_args()
    runs = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory(prefix="lucid-seeds-") as folder:
            config = WorldConfig(customers=args.customers, days=args.days, seed=seed)
            summary = run_comparison(config, Path(folder)).to_dict()
        runs.append(summary)
        print(f"seed {seed}: {summary['wall_seconds']} s", flush=True)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2, default=str), encoding="utf-8")
    print(f"\n{len(runs)} seeds, {args.customers:,} customers x {args.days} days")
    print(f"{'figure':34} {'entropic':44} negentropic")
    for key in FIGURES:
        cells = [
            spread([figure(run[arm], key) for run in runs]) for arm in ("entropic", "negentropic")
        ]
        print(f"{key:34} {cells[0]:44} {cells[1]}")
    for key in ("retention_rate", "revenue_kept"):
        gaps = [run["negentropic"][key] - run["entropic"][key] for run in runs]
        better = sum(gap > 0 for gap in gaps)
        print(f"negentropic - entropic {key}: {spread(list(gaps))}; better on {better}/{len(gaps)}")
    for arm in ("entropic", "negentropic"):
        delays: dict[str, list[float | None]] = {}
        recoveries: dict[str, list[float | None]] = {}
        for run in runs:
            for shock in run[arm]["shocks"]:
                delays.setdefault(shock["kind"], []).append(shock["detection_delay_days"])
                recoveries.setdefault(shock["kind"], []).append(shock["recovery_days"])
        print(f"\n{arm}: per shock, detection delay | recovery (days)")
        floors = {s["kind"]: s["floor_days"] for s in runs[0]["world"]["shocks"]}
        for kind in delays:
            floor = floors.get(kind)
            print(f"  {kind:14} floor {floor!s:>3}  {spread(delays[kind]):40}", end=" | ")
            print(spread(recoveries[kind]))


if __name__ == "__main__":
    main()
