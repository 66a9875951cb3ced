"""The learning loop's use cases: deploy as a decision, check its checkpoints, the scorecard.

`deploy` opens a unit of work, promotes a version to production through the registry's gate
inside it and records `ModelDeployed` with the decision's hypotheses, success criteria and
checkpoints in the same unit. A deployment is never stored without its promotion, nor the
reverse, and the registry itself stays ignorant of hypotheses. `run_checkpoints` judges every
due checkpoint on the registry's observations made up to it and records `CheckpointEvaluated`
(plus `LessonRequested` when a criterion was missed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lucid.contracts.deployments import (
    Checkpoint,
    CheckpointEvaluated,
    CheckpointVerdict,
    Hypothesis,
    LessonRequested,
    ModelDeployed,
    SuccessCriterion,
    checkpoint_days,
    checkpoint_times,
    evaluate_checkpoint,
)
from lucid.contracts.events import NewEvent, RecordedEvent, format_time, parse_time
from lucid.contracts.identities import normalise_identity
from lucid.contracts.registry_events import model_subject
from lucid.contracts.times import to_utc, utc_text
from lucid.contracts.value.fields import text
from lucid.contracts.value.gate import Override
from lucid.contracts.value.stages import Stage
from lucid.contracts.value.versions import ModelVersion
from lucid.errors import InvalidInput
from lucid.ports.unit_of_work import UnitOfWork, UnitsOfWork

if TYPE_CHECKING:
    from lucid.memory.scorecard import (
        FeatureFigures,
        IncidentSource,
        Scorecard,
        TransparencySource,
    )
    from lucid.registry.model_registry import ModelRegistry


@dataclass(frozen=True)
class Deployment:
    """A production release as a decision."""

    id: int
    version: ModelVersion
    deployed_at: str
    hypotheses: tuple[Hypothesis, ...]
    success_criteria: tuple[SuccessCriterion, ...]
    checkpoints: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.version.name,
            "version": self.version.version,
            "deployed_at": self.deployed_at,
            "hypotheses": [h.to_dict() for h in self.hypotheses],
            "success_criteria": [c.to_dict() for c in self.success_criteria],
            "checkpoints": list(self.checkpoints),
        }


@dataclass(frozen=True)
class _Decision:
    """What a deployment states before it is made."""

    hypotheses: tuple[Hypothesis, ...]
    criteria: tuple[SuccessCriterion, ...]
    days: tuple[int, ...]
    actor: str
    rationale: str


class LearningLoop:
    """Deployments with hypotheses and checkpoints, and the scorecard of the whole system."""

    def __init__(
        self,
        uows: UnitsOfWork,
        registry: ModelRegistry,
        *,
        clock: Callable[[], datetime],
        features: FeatureFigures | None = None,
        incidents: IncidentSource | None = None,
        access: TransparencySource | None = None,
    ) -> None:
        self._uows = uows
        self._registry = registry
        self._clock = clock
        self._features = features
        self._incidents = incidents
        self._access = access

    # -- deploying ---------------------------------------------------------------------------

    def deploy(
        self,
        name: str,
        version: int,
        *,
        hypotheses: Sequence[Hypothesis | Mapping[str, Any] | str],
        actor: str,
        rationale: str,
        success_criteria: Sequence[SuccessCriterion | Mapping[str, Any]] | None = None,
        checkpoints: Sequence[int] | None = None,
        override: Override | None = None,
    ) -> Deployment:
        """Promote `name@version` to production and record the decision (`ModelDeployed`).

        At least one hypothesis is required; success criteria default to the contract's metric
        (baseline → target) and checkpoints to 30/90/180 days. A criterion must name the
        contract's metric or a guardrail: only those are ever observed in the registry.
        """
        stated = tuple(
            h if isinstance(h, Hypothesis) else Hypothesis.from_mapping(h) for h in hypotheses
        )
        if not stated:
            raise InvalidInput(
                "hypotheses",
                "a deployment states at least one hypothesis (what it should change, by how "
                "much); nothing changed",
            )
        days = checkpoint_days(checkpoints)
        who, why = normalise_identity(actor, "actor"), text(rationale, "rationale")
        candidate = self._registry.get_version(name, version)
        decision = _Decision(stated, _criteria(candidate, success_criteria), days, who, why)
        with self._uows() as uow:
            deployed, promoted = self._registry.promote_with_event(
                name, version, Stage.PRODUCTION, actor=who, rationale=why, override=override
            )
            deployment_id, due = _record_deployment(uow, candidate, promoted, decision)
        criteria = decision.criteria
        return Deployment(deployment_id, deployed, promoted.occurred_at, stated, criteria, due)

    # -- checkpoints -------------------------------------------------------------------------

    def checkpoints(self, *, due_by: datetime | None = None) -> list[Checkpoint]:
        """Every checkpoint (of every deployment), or those due by `due_by`, oldest first."""
        limit = None if due_by is None else utc_text(due_by, "at")
        with self._uows.read() as uow:
            return uow.deployments.checkpoints(limit)

    def run_checkpoints(self, *, at: datetime | None = None, actor: str) -> list[Checkpoint]:
        """Judge every checkpoint due by `at` (default now) and not judged yet; returns them.

        Each criterion is judged on the newest observation of its metric for the deployed
        version made at or before the checkpoint's due time; none means `unmeasured`.
        """
        who = normalise_identity(actor, "actor")
        moment = self._clock() if at is None else to_utc(at, "at")
        limit = format_time(moment)
        judged: list[Checkpoint] = []
        pending = [c for c in self.checkpoints(due_by=moment) if c.evaluated_at is None]
        for checkpoint in pending:
            observations = [
                o
                for o in self._registry.observations(checkpoint.name, checkpoint.version)
                if o.observed_at <= checkpoint.due_at
            ]
            latest = {o.metric: o.value for o in observations}  # oldest first: newest wins
            with self._uows() as uow:
                criteria = uow.deployments.unjudged_criteria(
                    checkpoint.deployment_id, checkpoint.days
                )
                if criteria is None:  # another runner judged it meanwhile
                    continue
                verdict = evaluate_checkpoint(criteria, latest)
                seq = _record_verdict(uow, checkpoint, verdict, who, moment)
                uow.deployments.set_verdict(
                    checkpoint.deployment_id,
                    checkpoint.days,
                    evaluated_at=limit,
                    verdict=verdict,
                    event_seq=seq,
                )
            judged.append(
                Checkpoint(
                    checkpoint.deployment_id,
                    checkpoint.name,
                    checkpoint.version,
                    checkpoint.days,
                    checkpoint.due_at,
                    limit,
                    verdict.outcome.value,
                    verdict.to_dict(),
                )
            )
        return judged

    # -- the scorecard -----------------------------------------------------------------------

    def scorecard(self, *, recompute: bool = False) -> Scorecard:
        """The seed's tables 2 and 3 measured now (see `lucid.memory.scorecard`); the skew
        kept by the served position, or measured from scratch with `recompute`."""
        from lucid.memory.scorecard import measure_scorecard

        return measure_scorecard(
            self._features, self._registry, self._incidents, self._access, recompute=recompute
        )

    def scorecard_valid_until(self, moment: datetime) -> datetime | None:
        """When the scorecard measured at `moment` changes with no write to the database (its
        incident figures count a declared shift from its start); None: only with a write."""
        return None if self._incidents is None else self._incidents.figures_valid_until(moment)


def _criteria(
    candidate: ModelVersion, stated: Sequence[SuccessCriterion | Mapping[str, Any]] | None
) -> tuple[SuccessCriterion, ...]:
    """The deployment's success criteria (default: the contract's metric); each must be the
    contract's metric or a guardrail, the only metrics the registry observes."""
    criteria = (
        (SuccessCriterion.of_contract(candidate.impact),)
        if stated is None
        else tuple(
            c if isinstance(c, SuccessCriterion) else SuccessCriterion.from_mapping(c)
            for c in stated
        )
    )
    if not criteria:
        raise InvalidInput("success_criteria", "a deployment needs at least one criterion")
    known = {candidate.impact.metric, *(g.metric for g in candidate.impact.guardrails)}
    for criterion in criteria:
        if criterion.name not in known:
            raise InvalidInput(
                f"success_criteria.{criterion.name}",
                f"must be the contract's metric or a guardrail of {candidate.label} (one of "
                f"{', '.join(sorted(known))}), or it can never be observed",
            )
    return criteria


def _record_deployment(
    uow: UnitOfWork, candidate: ModelVersion, promoted: RecordedEvent, decision: _Decision
) -> tuple[int, tuple[str, ...]]:
    """Store the deployment promoted by `promoted` and record `ModelDeployed` at its time;
    the deployment's id and its checkpoints' due times."""
    deployed_at = parse_time(promoted.occurred_at)
    due = tuple(format_time(t) for t in checkpoint_times(deployed_at, decision.days))
    deployment_id = uow.deployments.add(
        candidate.name,
        candidate.version,
        deployed_at=promoted.occurred_at,
        deployed_by=decision.actor,
        hypotheses=decision.hypotheses,
        success_criteria=decision.criteria,
        event_seq=promoted.seq,
    )
    uow.deployments.add_checkpoints(deployment_id, list(zip(decision.days, due, strict=True)))
    recorded = uow.record(
        NewEvent.of(
            ModelDeployed(
                name=candidate.name,
                version=candidate.version,
                deployment_id=deployment_id,
                artifact=candidate.artifact.to_dict(),
                hypotheses=[h.to_dict() for h in decision.hypotheses],
                success_criteria=[c.to_dict() for c in decision.criteria],
                checkpoints=list(due),
                deployed_by=decision.actor,
            ),
            actor=decision.actor,
            subject=model_subject(candidate.name),
            rationale=decision.rationale,
            occurred_at=deployed_at,
        )
    )
    uow.deployments.set_event(deployment_id, recorded.seq)
    return deployment_id, due


def _record_verdict(
    uow: UnitOfWork,
    checkpoint: Checkpoint,
    verdict: CheckpointVerdict,
    actor: str,
    moment: datetime,
) -> int:
    """Record `CheckpointEvaluated` (and `LessonRequested` when a criterion was missed); the
    seq of the first."""
    subject = model_subject(checkpoint.name)
    summary = ", ".join(
        f"{v.criterion.name} {v.outcome.value}"
        + ("" if v.value is None else f" ({v.value:g} vs target {v.criterion.target:g})")
        for v in verdict.criteria
    )
    recorded = uow.record(
        NewEvent.of(
            CheckpointEvaluated(
                checkpoint.name,
                checkpoint.version,
                checkpoint.deployment_id,
                checkpoint.due_at,
                checkpoint.days,
                verdict.outcome.value,
                [v.to_dict() for v in verdict.criteria],
            ),
            actor=actor,
            subject=subject,
            rationale=f"{checkpoint.days}-day checkpoint: {summary}",
            occurred_at=moment,
        )
    )
    if verdict.lesson_requested:
        missed = [v.criterion.name for v in verdict.criteria if v.outcome.value == "missed"]
        uow.record(
            NewEvent.of(
                LessonRequested(
                    checkpoint.name,
                    checkpoint.version,
                    checkpoint.deployment_id,
                    checkpoint.due_at,
                    missed,
                ),
                actor=actor,
                subject=subject,
                rationale=(
                    f"the deployment's hypothesis failed at its {checkpoint.days}-day "
                    f"checkpoint ({', '.join(missed)} missed); write what was learnt"
                ),
                occurred_at=moment,
            )
        )
    return recorded.seq
