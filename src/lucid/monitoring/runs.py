"""A monitoring run: measure a current window against the stored reference, grade every
threshold of the policy, store every check.

The run is the seam the later parts plug into: `RunOutcome.evaluation` carries each check,
the worst level and the actions asked (alert delivery, retraining, freeze, rollback and
incidents consume it); `RunOutcome.record` is what was stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from lucid.contracts.events import NewEvent
from lucid.contracts.monitoring_events import MonitoringRunRecorded
from lucid.contracts.registry_events import model_subject
from lucid.contracts.validity.change_detection import change_checks
from lucid.contracts.validity.evaluation import PolicyEvaluation
from lucid.contracts.validity.health import HEALTH_METRICS
from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.policy import MonitoringPolicy
from lucid.contracts.validity.profiles import ReferenceProfile
from lucid.contracts.validity.records import RunRecord
from lucid.monitoring.drift import DATA_DRIFT_METRICS, measure_data_drift
from lucid.monitoring.health import duration_ratio, measure_health
from lucid.monitoring.multivariate import MULTIVARIATE_METRICS, measure_multivariate
from lucid.monitoring.performance import measure_performance
from lucid.monitoring.run_incidents import non_ok
from lucid.monitoring.windows import Window
from lucid.ports import ComputeEngine
from lucid.ports.unit_of_work import UnitsOfWork

ACTOR = "monitoring"


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """The stored run and, when this call made it, the graded evaluation behind it.

    `created` is False when the window had already been recorded: the stored run is returned
    as it was and nothing is measured again (`evaluation` is then None).
    """

    record: RunRecord
    created: bool
    evaluation: PolicyEvaluation | None = None


def measure_window(
    engine: ComputeEngine,
    table: str,
    profile: ReferenceProfile,
    policy: MonitoringPolicy,
    *,
    labelled: bool = False,
    segments: bool = True,
    duration_ratio: float | None = None,
) -> list[Measurement]:
    """Every measurement the policy's thresholds ask for, on the registered window `table`.
    `duration_ratio` (the window's duration over the reference's) scales the expected volume.
    """
    measured = measure_data_drift(
        engine,
        table,
        profile,
        metrics=policy.metrics & DATA_DRIFT_METRICS,
        minimum_rows=policy.minimum_rows,
        segments=segments,
    )
    measured += measure_health(
        engine,
        table,
        profile,
        metrics=policy.metrics & HEALTH_METRICS,
        minimum_rows=policy.minimum_rows,
        duration_ratio=duration_ratio,
    )
    measured += measure_multivariate(
        engine,
        table,
        profile,
        metrics=policy.metrics & MULTIVARIATE_METRICS,
        minimum_rows=policy.minimum_rows,
    )
    performance_metrics = {m for m in policy.metrics if m.endswith("_drop")}
    performance_metrics.discard("business_metric_drop")
    if not performance_metrics:
        return measured
    for key, segment in profile.segments.items():
        if segment.performance is None or (key is not None and not segments):
            continue
        where = None
        if key is not None and profile.segment_column is not None:
            where = engine.drift_queries.segment_filter(
                profile.segment_column, key.split("=", 1)[1]
            )
        found = measure_performance(
            engine,
            table,
            segment.performance,
            minimum_rows=policy.minimum_rows,
            segment=key,
            where=where,
            labelled=labelled,
        )
        measured += [m for m in found if m.metric in performance_metrics]
    return measured


def run_checks(
    engine: ComputeEngine,
    uows: UnitsOfWork,
    policy: MonitoringPolicy,
    *,
    version: str,
    table: str,
    window: str,
    now: datetime,
    labelled: bool = False,
    extra: Sequence[Measurement] = (),
    announce: Callable[[PolicyEvaluation, str], NewEvent] | None = None,
    profile: ReferenceProfile | None = None,
) -> RunOutcome:
    """Measure `table` against the stored profile of (policy.model, version), grade every
    threshold and store the run under `window` (idempotent: a recorded window is returned
    as stored). `extra` adds measurements made elsewhere (e.g. the business-metric drop from
    the registry's observations). With the policy's `change_detection`, each judged check
    with enough stored history of this version (earlier windows) adds its `cusum:<metric>`
    check. With `announce`, the event `announce(evaluation, run_id)` is recorded in the run's
    own unit of work: a stored run is always an announced one. `profile`, when the caller
    already read it, saves reading the stored one again."""
    with uows.read() as uow:
        existing = uow.monitoring.find_run(policy.model, window)
        if existing is not None:
            return RunOutcome(existing, created=False)
        if profile is None:
            profile = uow.monitoring.load_profile(policy.model, version)
        history = (
            uow.monitoring.check_history(policy.model, version, window)
            if policy.change_detection is not None
            else []
        )
    measured = [
        *measure_window(
            engine,
            table,
            profile,
            policy,
            labelled=labelled,
            duration_ratio=duration_ratio(profile, window),
        ),
        *extra,
    ]
    evaluation = policy.evaluate(measured)
    if policy.change_detection is not None:
        changes = change_checks(evaluation, history, policy.change_detection)
        evaluation = PolicyEvaluation((*evaluation.checks, *changes))
    with uows() as uow:
        existing = uow.monitoring.find_run(policy.model, window)
        if existing is not None:
            return RunOutcome(existing, created=False)
        record = uow.monitoring.add_run(policy, version, window, evaluation, measured_at=now)
        if announce is not None:
            uow.record(announce(evaluation, record.id))
    return RunOutcome(record, True, evaluation)


def run_recorded(
    model: str,
    version: str,
    run_id: str,
    window: Window,
    evaluation: PolicyEvaluation,
    now: datetime,
) -> NewEvent:
    """The `MonitoringRunRecorded` event of a run, stored in the run's own unit of work."""
    failing = non_ok(evaluation)
    return NewEvent.of(
        MonitoringRunRecorded(
            model,
            version,
            run_id,
            window.key,
            evaluation.level.value,
            [str(a) for a in evaluation.actions],
            len(evaluation.checks),
            failing,
        ),
        actor=ACTOR,
        subject=model_subject(model),
        rationale=f"{len(evaluation.checks)} checks over {window.key}: worst "
        f"{evaluation.level.value}" + (f" ({', '.join(failing)})" if failing else ""),
        occurred_at=now,
    )
