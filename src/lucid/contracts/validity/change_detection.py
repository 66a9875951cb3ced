"""Change detection across runs: a two-sided CUSUM over one check's run-by-run values.

A single run is graded against fixed thresholds; a small shift that persists stays under them.
The CUSUM accumulates each run's standardised deviation from the check's own in-control runs
(the first `baseline_runs` values: mean and sample standard deviation), less an allowance of
`k` sd per run, upwards and downwards; it signals when either sum reaches `h` sd.

With k = 0.5 and h = 5 and a known baseline, the in-control average run length of the
two-sided chart is about 465 runs and a sustained 1 sd shift is signalled after about 10 runs
on average. A baseline estimated from few runs shortens the in-control run length (simulated,
probability of a false signal within 100 runs: 19 % known, 40 % with 30 baseline runs, 52 %
with 14).

Pure: no I/O. A check's values come from stored runs (`monitoring.runs`).
"""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lucid.contracts.names import refuse_unknown_keys
from lucid.contracts.validity.evaluation import Check, PolicyEvaluation
from lucid.contracts.validity.grades import Level
from lucid.contracts.validity.metrics import CHANGE_PREFIX, Measurement, metric_spec
from lucid.contracts.validity.thresholds import Threshold
from lucid.errors import InvalidInput

NEVER_CRITICAL = sys.float_info.max
"""The critical bound of a change-detection threshold: a signal is graded warning only."""

DEFAULT_ALLOWANCE = 0.5
"""k, in baseline sd: half the smallest shift worth detecting quickly (1 sd)."""
DEFAULT_DECISION_INTERVAL = 5.0
"""h, in baseline sd: with k = 0.5, an in-control average run length of about 465 runs."""
DEFAULT_BASELINE_RUNS = 30
"""In-control runs (a month of daily runs) whose mean and sd standardise later runs."""


@dataclass(frozen=True, slots=True)
class ChangeDetection:
    """A policy's change-detection settings: allowance `k` and decision interval `h` (both in
    baseline sd) and the number of first runs that form the baseline."""

    k: float = DEFAULT_ALLOWANCE
    h: float = DEFAULT_DECISION_INTERVAL
    baseline_runs: int = DEFAULT_BASELINE_RUNS

    def __post_init__(self) -> None:
        for name, value in (("k", self.k), ("h", self.h)):
            field = f"change_detection.{name}"
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(field, f"must be a number of sd, not {value!r}")
            if not math.isfinite(value) or value < 0:
                raise InvalidInput(field, f"must be a finite number of sd ≥ 0, not {value}")
        if self.h <= 0:
            raise InvalidInput("change_detection.h", f"must be above 0 sd, not {self.h}")
        runs = self.baseline_runs
        if isinstance(runs, bool) or not isinstance(runs, int) or runs < 2:
            raise InvalidInput(
                "change_detection.baseline_runs",
                f"must be a whole number of runs ≥ 2 (a sd needs two), not {runs!r}",
            )

    def to_mapping(self) -> dict[str, Any]:
        return {"k": self.k, "h": self.h, "baseline_runs": self.baseline_runs}

    @classmethod
    def from_mapping(cls, raw: Any) -> ChangeDetection:
        if not isinstance(raw, Mapping):
            raise InvalidInput("change_detection", "must be a mapping of k, h and baseline_runs")
        refuse_unknown_keys(raw, {"k", "h", "baseline_runs"}, "change_detection")
        return cls(
            k=raw.get("k", DEFAULT_ALLOWANCE),
            h=raw.get("h", DEFAULT_DECISION_INTERVAL),
            baseline_runs=raw.get("baseline_runs", DEFAULT_BASELINE_RUNS),
        )


@dataclass(frozen=True, slots=True)
class Cusum:
    """A two-sided CUSUM over a sequence of values.

    `upper` and `lower` hold each run's sums (in baseline sd; 0 for baseline runs);
    `signal` is the index of the first run where either reaches `h`, None if none does.
    """

    baseline_mean: float
    baseline_sd: float
    upper: tuple[float, ...]
    lower: tuple[float, ...]
    signal: int | None

    @property
    def statistic(self) -> tuple[float, ...]:
        """Each run's larger sum, in baseline sd: the value graded against `h`."""
        return tuple(max(up, down) for up, down in zip(self.upper, self.lower, strict=True))


def cusum(values: Sequence[float], settings: ChangeDetection) -> Cusum | None:
    """The CUSUM of `values` (oldest first) standardised on its first `baseline_runs` values;
    None when there are not more values than baseline runs or the baseline has no spread."""
    baseline = values[: settings.baseline_runs]
    if len(values) <= settings.baseline_runs:
        return None
    mean = statistics.fmean(baseline)
    sd = statistics.stdev(baseline)
    if not sd > 0:
        return None
    upper = [0.0] * len(baseline)
    lower = [0.0] * len(baseline)
    signal: int | None = None
    high = low = 0.0
    for index in range(len(baseline), len(values)):
        z = (values[index] - mean) / sd
        high = max(0.0, high + z - settings.k)
        low = max(0.0, low - z - settings.k)
        upper.append(high)
        lower.append(low)
        if signal is None and max(high, low) >= settings.h:
            signal = index
    return Cusum(mean, sd, tuple(upper), tuple(lower), signal)


def change_threshold(watched: Threshold, settings: ChangeDetection) -> Threshold:
    """The threshold grading the CUSUM of `watched`: warning at `h`, with its warning
    actions, never critical."""
    return Threshold(
        drift_type=watched.drift_type,
        metric=CHANGE_PREFIX + watched.metric,
        warning=settings.h,
        critical=NEVER_CRITICAL,
        warning_actions=watched.warning_actions,
        critical_actions=watched.warning_actions,
        feature=watched.feature,
        segment=watched.segment,
        runbook=watched.runbook,
    )


def change_checks(
    evaluation: PolicyEvaluation,
    history: Sequence[Sequence[Mapping[str, Any]]],
    settings: ChangeDetection,
) -> tuple[Check, ...]:
    """One `cusum:<metric>` check per judged check of `evaluation` whose stored history
    (`history`: earlier runs' stored checks, oldest run first) holds at least
    `baseline_runs` judged values of the same threshold, feature and segment; the statistic
    is this run's CUSUM on the side where the watched metric is worse (upper for PSI and
    drops, lower for p-values), graded warning at `h`: less drift than usual is no alarm."""
    found: list[Check] = []
    for check in evaluation.checks:
        value = check.measurement.value
        if check.level is Level.INSUFFICIENT_DATA or value is None or math.isnan(value):
            continue
        past = [_stored_value(run, check) for run in history]
        values = [v for v in past if v is not None] + [value]
        result = cusum(values, settings)
        if result is None:
            continue
        worse = (
            result.upper if metric_spec(check.threshold.metric).higher_is_worse else result.lower
        )
        statistic = worse[-1]
        threshold = change_threshold(check.threshold, settings)
        measurement = Measurement(
            metric=threshold.metric,
            value=statistic,
            feature=check.measurement.feature,
            segment=check.measurement.segment,
            note=f"CUSUM over {len(values)} runs (k {settings.k:g}, h {settings.h:g}); "
            f"baseline of {settings.baseline_runs} runs: mean {result.baseline_mean:.6g}, "
            f"sd {result.baseline_sd:.6g}",
        )
        found.append(Check(threshold, measurement, threshold.grade(statistic)))
    return tuple(found)


def _stored_value(run: Sequence[Mapping[str, Any]], check: Check) -> float | None:
    for stored in run:
        if (
            stored.get("threshold") == check.threshold.key
            and stored.get("feature") == check.measurement.feature
            and stored.get("segment") == check.measurement.segment
            and stored.get("level") != Level.INSUFFICIENT_DATA.value
            and isinstance(stored.get("value"), int | float)
        ):
            return float(stored["value"])
    return None
