"""Business results of a version: observed, judged against its contract, and the rollback
they call for.

A rollback returns to the previous production version. A rollback that is due (or asked for)
with no version to return to is refused, and recorded on purpose (`RollbackRefused`, severity
critical) as the alert it raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lucid.contracts.events import NewEvent, format_time
from lucid.contracts.identities import normalise_identity
from lucid.contracts.registry_events import (
    BusinessMetricObserved,
    ModelEvaluated,
    ModelRolledBack,
    RollbackRefused,
    model_subject,
)
from lucid.contracts.value.evaluation import ModelEvaluation, Verdict, evaluate
from lucid.contracts.value.fields import finite, text
from lucid.contracts.value.stages import Stage
from lucid.contracts.value.versions import ModelVersion, Observation
from lucid.errors import Conflict, InvalidInput
from lucid.ports.unit_of_work import UnitOfWork
from lucid.registry.dependencies import RegistryDependencies, record


@dataclass(frozen=True)
class EvaluationReport:
    """An evaluation of the production version and what followed from it."""

    name: str
    version: int
    period: str
    evaluation: ModelEvaluation
    rolled_back_to: int | None = None
    alert: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "period": self.period,
            **self.evaluation.to_dict(),
            "rolled_back_to": self.rolled_back_to,
            "alert": self.alert,
        }


class RollbackImpossible(Conflict):
    """No earlier production version to return to; a critical alert was recorded."""


class Evaluations(RegistryDependencies):
    """`observe`, `evaluate` and `rollback`."""

    def observe(
        self,
        name: str,
        version: int,
        *,
        metric: str,
        value: float,
        period: str,
        actor: str,
        rationale: str | None = None,
    ) -> Observation:
        """Record a business metric measured for a version over a period (metric's unit)."""
        metric = text(metric, "metric")
        number = finite(value, "value")
        label = text(period, "period")
        who = normalise_identity(actor, "actor")
        now = self._clock()
        observation = Observation(name, version, metric, number, label, format_time(now))
        with self._uows() as uow:
            current = uow.models.get(name, version)
            known = {current.impact.metric, *(g.metric for g in current.impact.guardrails)}
            if metric not in known:
                raise InvalidInput(
                    "metric",
                    f"{metric} is neither the contract's metric nor a guardrail of "
                    f"{current.label} (expected one of {', '.join(sorted(known))})",
                )
            recorded = record(
                uow,
                BusinessMetricObserved(name, version, metric, number, label),
                who,
                rationale or f"{metric} measured over {label}",
                now,
            )
            uow.models.add_observation(observation, who, recorded.seq)
        return observation

    def evaluate(self, name: str, *, actor: str, auto_rollback: bool = True) -> EvaluationReport:
        """Judge the production version's latest observation; roll back when it is due.

        A due rollback with no previous version to return to records a critical
        `RollbackRefused` and reports it as the report's `alert`.
        """
        who = normalise_identity(actor, "actor")
        now = self._clock()
        alert: str | None = None
        with self._uows() as uow:
            serving = uow.models.production(name)
            if serving is None:
                raise Conflict(f"{name} has no production version to evaluate.")
            current = uow.models.get(name, serving)
            result, period = self._judge(uow, current, who, now)
            rolled_back_to: int | None = None
            if result.verdict is Verdict.ROLLBACK_DUE and auto_rollback:
                why = (
                    f"{result.metric} {result.value:g} over {period} is past the rollback "
                    f"threshold {current.impact.rollback_threshold:g} "
                    f"({current.impact.direction.value} is better)"
                )
                try:
                    rolled_back_to = _rollback_in(uow, name, serving, who, why, True, now)
                except RollbackImpossible as refusal:
                    alert = refusal.sentence
        if alert is not None:
            self._record_refusal(name, serving, who, alert, now)
        return EvaluationReport(name, serving, period, result, rolled_back_to, alert)

    def _judge(
        self, uow: UnitOfWork, current: ModelVersion, who: str, now: datetime
    ) -> tuple[ModelEvaluation, str]:
        """The serving version's latest observation judged and recorded (`ModelEvaluated`),
        with the period it covers."""
        latest = uow.models.latest_observations(current.name, current.version)
        if current.impact.metric not in latest:
            raise Conflict(
                f"{current.label} has no observation of {current.impact.metric} yet; record "
                "one with `lucid models observe`."
            )
        value, period = latest[current.impact.metric]
        guardrails = {metric: observed for metric, (observed, _) in latest.items()}
        result = evaluate(current.impact, value, guardrails)
        evaluated = ModelEvaluated(
            current.name, current.version, result.metric, value, result.verdict.value, period
        )
        verdict = result.verdict.value.replace("_", " ")
        record(uow, evaluated, who, f"{result.metric} {value:g} over {period}: {verdict}", now)
        return result, period

    def rollback(self, name: str, *, actor: str, rationale: str) -> ModelVersion:
        """By hand: the previous production version serves again; the current one is retired.

        With no previous version the rollback is refused with a sentence, and a critical
        `RollbackRefused` event is recorded as the alert. Called inside a caller's unit of
        work, the rollback — or the refusal's event — joins it.
        """
        who, why = normalise_identity(actor, "actor"), text(rationale, "rationale")
        now = self._clock()
        serving: int | None = None
        try:
            with self._uows() as uow:
                serving = uow.models.production(name)
                if serving is None:
                    uow.models.get(name, None)  # a NotFound sentence for unknown models
                    raise Conflict(
                        f"{name} has no production version to roll back; nothing changed."
                    )
                restored = _rollback_in(uow, name, serving, who, why, False, now)
                return uow.models.get(name, restored)
        except RollbackImpossible as refusal:
            assert serving is not None  # only a serving version can be refused a rollback
            self._record_refusal(name, serving, who, refusal.sentence, now)
            raise

    def _record_refusal(
        self, name: str, version: int, actor: str, sentence: str, now: datetime
    ) -> None:
        """The refused rollback's alert, in its own unit of work (or the caller's)."""
        with self._uows() as uow:
            uow.record(
                NewEvent.of(
                    RollbackRefused(name, version, "critical", sentence),
                    actor=actor,
                    subject=model_subject(name),
                    rationale="a rollback was due but there is no earlier production version",
                    occurred_at=now,
                )
            )


def _rollback_in(
    uow: UnitOfWork,
    name: str,
    serving: int,
    actor: str,
    rationale: str,
    automatic: bool,
    now: datetime,
) -> int:
    """Retire `serving` and put the previous production version back; its number."""
    previous = uow.models.previous_production(name, serving)
    if previous is None:
        raise RollbackImpossible(
            f"{name}@{serving} cannot be rolled back: no earlier production version to "
            "return to. A critical alert was recorded; it keeps serving."
        )
    uow.models.retire_rolled_back(name, serving)
    rolled_back = ModelRolledBack(name, serving, previous, automatic)
    recorded = record(uow, rolled_back, actor, rationale, now)
    uow.models.set_stage(name, previous, Stage.PRODUCTION, production_seq=recorded.seq)
    return previous
