"""A stored run's follow-up: its alerts, its actions and its incident, each taken once.

A run is stored with its event first; its follow-up is pending until every step was taken,
then the run is marked followed up. A run left pending by a process that died is finished
by `resume`: steps already taken are skipped, and `MonitoringFollowUpResumed` lists the
steps taken by the resuming call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from lucid.contracts.events import NewEvent, parse_time
from lucid.contracts.monitoring_events import MonitoringFollowUpResumed
from lucid.contracts.registry_events import model_subject
from lucid.contracts.validity.evaluation import PolicyEvaluation
from lucid.contracts.validity.policy import MonitoringPolicy
from lucid.contracts.validity.records import RunRecord
from lucid.monitoring.alerts import Alerting, AlertOutcome
from lucid.monitoring.run_incidents import non_ok, record_incident
from lucid.monitoring.run_reports import RunReport
from lucid.ports.unit_of_work import UnitsOfWork

if TYPE_CHECKING:
    from lucid.monitoring.actions import ActionResult
    from lucid.registry.model_registry import ModelRegistry

ACTOR = "monitoring"


@dataclass
class FollowUp:
    """Takes the follow-up of stored runs for one project."""

    uows: UnitsOfWork
    alerting: Alerting
    registry_factory: Callable[[], ModelRegistry]
    training_pipelines: Mapping[str, str]
    project_dir: str
    clock: Callable[[], datetime]

    def take(
        self,
        record: RunRecord,
        policy: MonitoringPolicy,
        evaluation: PolicyEvaluation,
        *,
        resumed: bool,
    ) -> RunReport:
        """Alerts, actions and the incident of a stored run, each skipped when already taken;
        then the run is marked followed up (with `MonitoringFollowUpResumed` when resumed)."""
        model = record.model
        with self.uows.read() as uow:
            raised_before = {
                a.target for a in uow.monitoring.alerts(model) if a.run_id == record.id
            }
        alerts = self.alerting.raise_for_run(
            model, record.id, evaluation, policy.reporting.escalation
        )
        taken = self._actions(record, evaluation)
        start = record.window.partition("/")[0]
        incident = record_incident(
            self.uows, model, record.id, evaluation, start, parse_time(record.measured_at)
        )
        with self.uows() as uow:
            uow.monitoring.mark_followed_up(record.id, self.clock())
            if resumed:
                uow.record(_resumed(record, alerts, raised_before, taken))
        return RunReport(
            record, not resumed, evaluation, tuple(alerts), tuple(taken), incident, resumed=resumed
        )

    def _actions(self, record: RunRecord, evaluation: PolicyEvaluation) -> list[ActionResult]:
        from lucid.monitoring import actions

        start, _, end = record.window.partition("/")
        reason = (
            f"monitoring run {record.id} over {record.window} is {evaluation.level.value}: "
            + ", ".join(non_ok(evaluation))
        )
        return actions.take(
            self.uows,
            self.registry_factory(),
            self.training_pipelines,
            evaluation.actions,
            actions.RetrainingRequest(
                record.model, record.version, record.id, start, end, self.project_dir
            ),
            reason,
            self.clock(),
        )


def _resumed(
    record: RunRecord,
    alerts: list[AlertOutcome],
    raised_before: set[str],
    taken: list[ActionResult],
) -> NewEvent:
    steps = [f"alert:{a.alert.target}" for a in alerts if a.alert.target not in raised_before]
    steps += [a.action for a in taken]
    return NewEvent.of(
        MonitoringFollowUpResumed(record.model, record.id, record.window, steps),
        actor=ACTOR,
        subject=model_subject(record.model),
        rationale=f"the follow-up of monitoring run {record.id} over {record.window} was "
        "interrupted; finished now, steps already taken skipped",
    )
