"""False-alarm and detection rates of every drift and health check, graded on effect and
evidence, beside the old rule (value against the threshold alone) measured on the same runs.

The real path: a reference and a current table on DuckDB, a `ReferenceProfile` built by
`lucid.monitoring.profiles.build_profile`, measured by `measure_data_drift` and
`measure_health`, graded by `MonitoringPolicy.evaluate` with the default thresholds
(`evidence.drift_threshold` for each statistic, `default_health_thresholds` for health),
`minimum_rows` 200 so that every size is graded. One repetition is one run over one numeric
column N(0, 1) and one categorical column (8 categories, shares 1:3); repetitions are columns
of one table, so one profile and one measurement pass serve all of them.

The old rule grades the same measurements on value alone: PSI 0.1, Jensen-Shannon 0.1, KS D
0.1, Wasserstein 0.1, p-values 0.05 (the former `StatisticSpec.default_warning`s) and the
health warnings of `DEFAULT_HEALTH_BOUNDS`.

The family-wise row: runs of a 100-column policy (70 numeric, 30 categorical, every
statistic and health share) on no drift; a run is flagged when any of its checks is.

    PYTHONPATH=src python bench/drift_power.py [--reps 200] [--quick] [--seed 7]

Goals: no drift flagged ≤ 1 % per check and per run at every size; a 0.25 sd shift at 2,000
rows flagged ≥ 95 %; the 100-column run flagged ≤ 1 %.

Another check (e.g. a multivariate one) is a `CheckRow` in `CHECKS`: a name, which
scenarios it reads, and which of a run's checks are its own.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from lucid.contracts.validity.actions import Action, ActionKind
from lucid.contracts.validity.evaluation import Check, PolicyEvaluation
from lucid.contracts.validity.evidence import drift_threshold
from lucid.contracts.validity.grades import Level
from lucid.contracts.validity.health import DEFAULT_HEALTH_BOUNDS, default_health_thresholds
from lucid.contracts.validity.metrics import Measurement, metric_spec
from lucid.contracts.validity.policy import MonitoringPolicy, Reporting
from lucid.engines.duckdb import DuckDBEngine
from lucid.monitoring.drift import measure_data_drift
from lucid.monitoring.health import measure_health
from lucid.monitoring.profiles import build_profile

SIZES = (200, 500, 1_000, 2_000, 10_000)
MINIMUM_ROWS = 200
STATISTICS = ("psi", "jensen_shannon", "ks", "ks_pvalue", "wasserstein", "chi_square_pvalue")
HEALTH = ("null_share_rise", "out_of_range_share", "new_category_share", "vanished_category_share")
CATEGORIES = [f"k{i}" for i in range(8)]
SHARES = np.linspace(1, 3, len(CATEGORIES)) / np.linspace(1, 3, len(CATEGORIES)).sum()
OLD_WARNING = {
    "psi": 0.1,
    "jensen_shannon": 0.1,
    "ks": 0.1,
    "wasserstein": 0.1,
    "ks_pvalue": 0.05,
    "chi_square_pvalue": 0.05,
    **{metric: bounds[0] for metric, bounds in DEFAULT_HEALTH_BOUNDS.items()},
}
"""The old rule: a value at or past these flags, whatever the window's size."""


@dataclass(frozen=True)
class Scenario:
    """How the current window differs from the reference: numeric mean shift (sd), numeric
    variance factor, share of rows in a new category, share of NULLs."""

    name: str
    shift: float = 0.0
    variance: float = 1.0
    new_category: float = 0.0
    nulls: float = 0.0


SCENARIOS = (
    Scenario("no shift"),
    Scenario("0.1 sd", shift=0.1),
    Scenario("0.25 sd", shift=0.25),
    Scenario("0.5 sd", shift=0.5),
    Scenario("variance x1.5", variance=1.5),
    Scenario("new category 5 %", new_category=0.05),
    Scenario("NULL 0 -> 30 %", nulls=0.3),
)
NUMERIC_SCENARIOS = ("no shift", "0.1 sd", "0.25 sd", "0.5 sd", "variance x1.5", "NULL 0 -> 30 %")
CATEGORICAL_SCENARIOS = ("no shift", "new category 5 %", "NULL 0 -> 30 %")


@dataclass(frozen=True)
class CheckRow:
    """A row of the table: its name, the scenarios it is shown for, and which checks of a
    run are its own (a run is flagged on the row when any of them is warning or worse)."""

    name: str
    scenarios: Sequence[str]
    owns: Callable[[Check], bool]


def _statistic(metric: str, kind: str) -> CheckRow:
    scenarios = NUMERIC_SCENARIOS if kind == "n" else CATEGORICAL_SCENARIOS
    label = f"{metric} ({'numeric' if kind == 'n' else 'categorical'})"
    return CheckRow(
        label,
        scenarios,
        lambda c: c.threshold.metric == metric and str(c.measurement.feature).startswith(kind),
    )


CHECKS: list[CheckRow] = [
    *(_statistic(m, "n") for m in ("psi", "jensen_shannon", "ks", "ks_pvalue", "wasserstein")),
    *(_statistic(m, "c") for m in ("psi", "jensen_shannon", "chi_square_pvalue")),
    _statistic("null_share_rise", "n"),
    _statistic("out_of_range_share", "n"),
    _statistic("new_category_share", "c"),
    _statistic("vanished_category_share", "c"),
    CheckRow("run (any check)", [s.name for s in SCENARIOS], lambda c: True),
]
"""The rows of the table, in order."""


def policy(minimum_rows: int = MINIMUM_ROWS) -> MonitoringPolicy:
    """Every statistic and health share at its default threshold, over every column."""
    act = (Action(ActionKind.INVESTIGATE),)
    thresholds = [drift_threshold(metric, act, act) for metric in STATISTICS]
    health = [t for t in default_health_thresholds(None) if t.metric != "volume_ratio"]
    return MonitoringPolicy(
        "power_bench", (*thresholds, *health), Reporting(("bench",)), minimum_rows
    )


def old_flag(measurement: Measurement) -> bool:
    """The old rule: the value at or past its warning, whatever the evidence."""
    value = measurement.value
    if not measurement.sufficient or value is None or np.isnan(value):
        return False
    bound = OLD_WARNING[measurement.metric]
    return value >= bound if metric_spec(measurement.metric).higher_is_worse else value <= bound


def _numeric(rng: np.random.Generator, rows: int, reps: int, s: Scenario) -> pa.Table:
    values = rng.normal(s.shift, np.sqrt(s.variance), (reps, rows))
    return _with_nulls(rng, values, s.nulls, "n")


def _categorical(rng: np.random.Generator, rows: int, reps: int, s: Scenario) -> pa.Table:
    codes = rng.choice(len(CATEGORIES), (reps, rows), p=SHARES)
    if s.new_category:
        codes = np.where(rng.random((reps, rows)) < s.new_category, len(CATEGORIES), codes)
    return _with_nulls(rng, codes, s.nulls, "c")


def _with_nulls(rng: np.random.Generator, values: np.ndarray, nulls: float, kind: str) -> pa.Table:
    dictionary = pa.array([*CATEGORIES, "new"])
    columns = {}
    for i, row in enumerate(values):
        mask = rng.random(row.shape) < nulls if nulls else None
        if kind == "n":
            columns[f"n{i}"] = pa.array(row, mask=mask)
        else:
            columns[f"c{i}"] = pa.DictionaryArray.from_arrays(
                pa.array(row.astype(np.int32), mask=mask), dictionary
            ).cast(pa.string())
    return pa.table(columns)


def _tables(
    rng: np.random.Generator, rows: int, reps: int, s: Scenario
) -> tuple[pa.Table, pa.Table]:
    ref_n = _numeric(rng, rows, reps, Scenario("none"))
    ref_c = _categorical(rng, rows, reps, Scenario("none"))
    cur_n = _numeric(rng, rows, reps, s)
    cur_c = _categorical(rng, rows, reps, s)
    return _join(ref_n, ref_c), _join(cur_n, cur_c)


def _join(a: pa.Table, b: pa.Table) -> pa.Table:
    return pa.table({**{n: a[n] for n in a.column_names}, **{n: b[n] for n in b.column_names}})


def measure(engine: DuckDBEngine, reference: pa.Table, current: pa.Table) -> list[Measurement]:
    """Profile `reference`, then measure every statistic and health share of `current`."""
    for name, data in (("reference", reference), ("current", current)):
        # held in DuckDB's memory, not scanned from Arrow on each of the profile's queries
        engine.connection.register("arrow_input", data)
        engine.connection.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM arrow_input")
        engine.connection.unregister("arrow_input")
        engine.mark_loaded(name)
    profile = build_profile(engine, "reference")
    return [
        *measure_data_drift(engine, "current", profile, minimum_rows=MINIMUM_ROWS, segments=False),
        *measure_health(engine, "current", profile, minimum_rows=MINIMUM_ROWS),
    ]


def runs(
    measured: list[Measurement], groups: Sequence[Sequence[str]], graded: MonitoringPolicy
) -> list[tuple[PolicyEvaluation, list[Measurement]]]:
    """One evaluation per group of columns (a run), with the group's measurements."""
    by_feature: dict[str | None, list[Measurement]] = {}
    for m in measured:
        by_feature.setdefault(m.feature, []).append(m)
    found = []
    for group in groups:
        mine = [m for column in group for m in by_feature.get(column, [])]
        found.append((graded.evaluate(mine), mine))
    return found


def rates(
    evaluated: list[tuple[PolicyEvaluation, list[Measurement]]], row: CheckRow
) -> tuple[float, float]:
    """(new rule, old rule): share of runs where the row's checks flag."""
    new = old = 0
    for evaluation, _ in evaluated:
        own = [c for c in evaluation.checks if row.owns(c)]
        new += any(c.level in (Level.WARNING, Level.CRITICAL) for c in own)
        old += any(old_flag(c.measurement) for c in own)
    return new / len(evaluated), old / len(evaluated)


def grid(reps: int, seed: int) -> dict[tuple[str, str, int], tuple[float, float]]:
    rng = np.random.default_rng(seed)
    graded = policy()
    found: dict[tuple[str, str, int], tuple[float, float]] = {}
    with DuckDBEngine(threads=1) as engine:
        for scenario in SCENARIOS:
            for rows in SIZES:
                reference, current = _tables(rng, rows, reps, scenario)
                evaluated = runs(
                    measure(engine, reference, current),
                    [(f"n{i}", f"c{i}") for i in range(reps)],
                    graded,
                )
                for row in CHECKS:
                    if scenario.name in row.scenarios:
                        found[(row.name, scenario.name, rows)] = rates(evaluated, row)
                run_rate = found[("run (any check)", scenario.name, rows)]
                print(f"{scenario.name} {rows}: run {run_rate}", file=sys.stderr, flush=True)
    return found


def family(
    reps: int, seed: int, sizes: Sequence[int], batch: int = 10
) -> dict[int, tuple[float, float]]:
    """Share of 100-column no-drift runs flagged (new rule, old rule), per size."""
    rng = np.random.default_rng(seed + 1)
    graded = policy()
    found = {}
    with DuckDBEngine(threads=1) as engine:
        for rows in sizes:
            flagged_new = flagged_old = 0
            done = 0
            while done < reps:
                runs_here = min(batch, reps - done)
                reference, current = _tables(rng, rows, 70 * runs_here, Scenario("none"))
                keep = [f"n{i}" for i in range(70 * runs_here)] + [
                    f"c{i}" for i in range(30 * runs_here)
                ]
                reference, current = reference.select(keep), current.select(keep)
                groups = [
                    [f"n{70 * r + i}" for i in range(70)] + [f"c{30 * r + i}" for i in range(30)]
                    for r in range(runs_here)
                ]
                for evaluation, _ in runs(measure(engine, reference, current), groups, graded):
                    flagged_new += evaluation.level in (Level.WARNING, Level.CRITICAL)
                    flagged_old += any(old_flag(c.measurement) for c in evaluation.checks)
                done += runs_here
            found[rows] = (flagged_new / reps, flagged_old / reps)
            print(f"100 columns {rows}: {found[rows]}", file=sys.stderr, flush=True)
    return found


def table(
    cells: dict[tuple[str, str, int], tuple[float, float]],
    families: dict[int, tuple[float, float]],
    reps: int,
    family_reps: int,
) -> str:
    head = "| check | scenario | " + " | ".join(f"{s:,}" for s in SIZES) + " |"
    lines = [head, "|---|---|" + "---:|" * len(SIZES)]
    for row in CHECKS if cells else ():
        for scenario in row.scenarios:
            shown = []
            for rows in SIZES:
                new, old = cells[(row.name, scenario, rows)]
                shown.append(f"{100 * new:.1f} · {100 * old:.1f}")
            lines.append(f"| {row.name} | {scenario} | " + " | ".join(shown) + " |")
    shown = [
        f"{100 * families[s][0]:.1f} · {100 * families[s][1]:.1f}" if s in families else "—"
        for s in SIZES
    ]
    lines.append("| 100 columns, run (any check) | no shift | " + " | ".join(shown) + " |")
    lines.append("")
    lines.append(
        f"% of runs flagged (warning or worse): effect and evidence · old rule (value alone); "
        f"{reps} runs per cell, {family_reps} per 100-column cell"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--family-reps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--family-sizes",
        type=int,
        nargs="*",
        default=[1_000],
        help="rows a side of the 100-column runs (each size costs minutes)",
    )
    parser.add_argument("--quick", action="store_true", help="20 runs per cell: a smoke test")
    parser.add_argument("--only", choices=("grid", "family"), help="measure one part")
    args = parser.parse_args()
    reps, family_reps = (20, 20) if args.quick else (args.reps, args.family_reps)
    started = time.perf_counter()
    cells = grid(reps, args.seed) if args.only != "family" else {}
    families = family(family_reps, args.seed, args.family_sizes) if args.only != "grid" else {}
    print(table(cells, families, reps, family_reps))
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
