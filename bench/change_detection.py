"""Change detection across runs: false alarms with no drift and delay to detect a small
sustained shift, the previous rule beside the current ones, in the same run.

Each repetition draws one reference sample (profiled once: decile edges and counts, as a
stored profile) and a sequence of daily windows of `--rows` rows from N(shift, 1), where the
shift is 0 for the first `HISTORY` runs and then `--shift` sd for good (0 for the no-drift
rows). Each window gets its PSI against the reference and the p-value of that PSI under its
no-drift law (1/n + 1/m)·χ²(bins − 1) (`monitoring.statistics`). Rules, each judged on the
same runs HISTORY … HISTORY + JUDGED − 1:

- previous: two-sided CUSUM of the PSI values standardised by the mean and sd of the first 30
  runs (k 0.5, h 5; the upper sum graded), as the policy's change detection did before;
- cusum (evidence): the CUSUM of z = Φ⁻¹(1 − p) (policy defaults: k 0.5, h 5);
- cusum (self-starting): the CUSUM of the PSI values scored self-starting (the rule for a
  metric without p-value; warm-up 10 runs);
- page_hinkley (evidence): Page–Hinkley on z (delta 0.5, lambda 5);
- single run: PSI ≥ 0.1 (the single-run warning), for scale.

Printed per rule: false-alarm onsets (a warning where the run before had none) per 100
judged runs with no drift, the share of repetitions with any false alarm in the judged runs,
and for the shift the runs from its start to the first warning (mean, median, 90th
percentile) and the share detected within the judged runs.

    uv run python bench/change_detection.py [--repetitions 200] [--rows 2000]
        [--reference-rows 2000 10000] [--shift 0.1]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

from lucid.contracts.validity.change_detection import ChangeDetection, chart
from lucid.monitoring.statistics import PSI_EPSILON

HISTORY = 30
"""Runs before the judged ones (the previous rule's baseline)."""
JUDGED = 100
BINS = 10

Rule = Callable[[Sequence[float], Sequence[float]], list[bool]]
"""(PSI values, p-values) of every run → warning per run."""


def psi_runs(
    rng: np.random.Generator, reference_rows: int, rows: int, shift: float
) -> tuple[list[float], list[float]]:
    """PSI and its no-drift p-value of HISTORY + JUDGED windows against one reference."""
    reference = rng.standard_normal(reference_rows)
    edges = np.unique(np.quantile(reference, np.arange(1, BINS) / BINS))
    ref_share = np.bincount(np.searchsorted(edges, reference), minlength=len(edges) + 1)
    ref_share = np.maximum(ref_share / reference_rows, PSI_EPSILON)
    runs = HISTORY + JUDGED
    moved = np.where(np.arange(runs) >= HISTORY, shift, 0.0)[:, None]
    current = rng.standard_normal((runs, rows)) + moved
    index = np.searchsorted(edges, current.ravel()).reshape(runs, rows)
    counts = np.stack([np.bincount(row, minlength=len(edges) + 1) for row in index])
    cur_share = np.maximum(counts / rows, PSI_EPSILON)
    psi = ((cur_share - ref_share) * np.log(cur_share / ref_share)).sum(axis=1)
    scale = 1 / reference_rows + 1 / rows
    pvalues = stats.chi2.sf(psi / scale, len(edges))
    return psi.tolist(), pvalues.tolist()


def previous_rule(values: Sequence[float], _: Sequence[float]) -> list[bool]:
    baseline = values[:HISTORY]
    mean, sd = statistics.fmean(baseline), statistics.stdev(baseline)
    high = low = 0.0
    warned = [False] * HISTORY
    for value in values[HISTORY:]:
        z = (value - mean) / sd
        high, low = max(0.0, high + z - 0.5), max(0.0, low - z - 0.5)
        warned.append(high >= 5.0)
    return warned


def chart_rule(settings: ChangeDetection, evidence: bool) -> Rule:
    def rule(values: Sequence[float], pvalues: Sequence[float]) -> list[bool]:
        found = chart(pvalues if evidence else values, settings, evidence=evidence)
        assert found is not None
        return [s >= settings.h for s in found.upper]

    return rule


def single_run(values: Sequence[float], _: Sequence[float]) -> list[bool]:
    return [v >= 0.1 for v in values]


RULES: dict[str, Rule] = {
    "previous (PSI, 30-run baseline)": previous_rule,
    "cusum (evidence z)": chart_rule(ChangeDetection(), evidence=True),
    "cusum (self-starting PSI)": chart_rule(ChangeDetection(), evidence=False),
    "page_hinkley (evidence z)": chart_rule(ChangeDetection(method="page_hinkley"), True),
    "single run (PSI ≥ 0.1)": single_run,
}


def false_alarms(warned: list[bool]) -> int:
    judged = warned[HISTORY - 1 :]
    return sum(now and not before for before, now in itertools.pairwise(judged))


def delay(warned: list[bool]) -> int | None:
    for run in range(HISTORY, HISTORY + JUDGED):
        if warned[run]:
            return run - HISTORY + 1
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=200)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--reference-rows", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--shift", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    started = time.perf_counter()
    print(
        f"{args.repetitions} repetitions, {args.rows} rows per run, {JUDGED} judged runs after "
        f"{HISTORY}; shift {args.shift} sd from run {HISTORY}"
    )
    for reference_rows in args.reference_rows:
        rng = np.random.default_rng(args.seed)
        calm = [psi_runs(rng, reference_rows, args.rows, 0.0) for _ in range(args.repetitions)]
        moved = [
            psi_runs(rng, reference_rows, args.rows, args.shift) for _ in range(args.repetitions)
        ]
        print(f"\nreference {reference_rows} rows")
        print(
            f"{'rule':34} {'false alarms/100 runs':>22} {'any in 100':>11} "
            f"{'delay mean':>11} {'median':>7} {'p90':>5} {'detected':>9}"
        )
        for name, rule in RULES.items():
            alarms = [false_alarms(rule(v, p)) for v, p in calm]
            delays = [delay(rule(v, p)) for v, p in moved]
            found = [d for d in delays if d is not None]
            mean = f"{statistics.fmean(found):.1f}" if found else "-"
            median = f"{statistics.median(found):g}" if found else "-"
            p90 = f"{np.percentile(found, 90):.0f}" if found else "-"
            print(
                f"{name:34} {100 * sum(alarms) / (len(alarms) * JUDGED):>22.2f} "
                f"{100 * sum(a > 0 for a in alarms) / len(alarms):>10.1f}% "
                f"{mean:>11} {median:>7} {p90:>5} "
                f"{100 * len(found) / len(delays):>8.1f}%"
            )
    print(f"\n{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
