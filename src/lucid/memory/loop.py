"""The learning loop's use cases: deploy as a decision, check its checkpoints, the scorecard.

`deploy` promotes a version to production through the registry's gate and, inside the same
transaction (the registry's `on_promoted` seam), records `ModelDeployed` with the decision's
hypotheses, success criteria and checkpoints. Hooking into the promotion rather than recording
after it means a deployment is never stored without its promotion, nor the reverse, and the
registry itself stays ignorant of hypotheses. `run_checkpoints` judges every due checkpoint on
the registry's observations made up to it and records `CheckpointEvaluated` (plus
`LessonRequested` when a criterion was missed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from lucid.contracts.deployments import (
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
from lucid.contracts.registry_events import model_subject
from lucid.contracts.times import to_utc, utc_text
from lucid.contracts.value import Override, Stage, text
from lucid.errors import InvalidInput
from lucid.registry.service import ModelRegistry, ModelVersion
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK, SqlEventLog
from lucid.storage.tables import deployment_checkpoints, deployments

if TYPE_CHECKING:
    from lucid.memory.scorecard import FeatureFigures, IncidentSource, Scorecard


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint of a deployment; `outcome`/`verdict` stay None until it is judged."""

    deployment_id: int
    name: str
    version: int
    days: int
    due_at: str
    evaluated_at: str | None
    outcome: str | None
    verdict: Mapping[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment_id": self.deployment_id,
            "model": self.name,
            "version": self.version,
            "days": self.days,
            "due_at": self.due_at,
            "evaluated_at": self.evaluated_at,
            "outcome": self.outcome,
            "verdict": self.verdict,
        }


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


class LearningLoop:
    """Deployments with hypotheses and checkpoints, and the scorecard of the whole system."""

    def __init__(
        self,
        db: Database,
        events: SqlEventLog,
        registry: ModelRegistry,
        *,
        clock: Callable[[], datetime] = _now,
        features: FeatureFigures | None = None,
        incidents: IncidentSource | None = None,
    ) -> None:
        self._db = db
        self._events = events
        self._registry = registry
        self._clock = clock
        self._features = features
        self._incidents = incidents

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
        who, why = text(actor, "actor"), text(rationale, "rationale")
        candidate = self._registry.get_version(name, version)
        criteria = (
            (SuccessCriterion.of_contract(candidate.impact),)
            if success_criteria is None
            else tuple(
                c if isinstance(c, SuccessCriterion) else SuccessCriterion.from_mapping(c)
                for c in success_criteria
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
        created: list[tuple[int, str, tuple[str, ...]]] = []

        def record(conn: Connection, promoted: RecordedEvent) -> None:
            deployed_at = parse_time(promoted.occurred_at)
            due = tuple(format_time(t) for t in checkpoint_times(deployed_at, days))
            deployment_id = int(
                conn.execute(
                    insert(deployments)
                    .values(
                        model=name,
                        version=version,
                        deployed_at=promoted.occurred_at,
                        deployed_by=who,
                        hypotheses=json.dumps([h.to_dict() for h in stated]),
                        success_criteria=json.dumps([c.to_dict() for c in criteria]),
                        event_seq=promoted.seq,
                    )
                    .returning(deployments.c.id)
                ).scalar_one()
            )
            conn.execute(
                insert(deployment_checkpoints),
                [
                    {"deployment_id": deployment_id, "days": day, "due_at": when}
                    for day, when in zip(days, due, strict=True)
                ],
            )
            recorded = self._events.append(
                NewEvent.of(
                    ModelDeployed(
                        name=name,
                        version=version,
                        deployment_id=deployment_id,
                        artifact=candidate.artifact.to_dict(),
                        hypotheses=[h.to_dict() for h in stated],
                        success_criteria=[c.to_dict() for c in criteria],
                        checkpoints=list(due),
                        deployed_by=who,
                    ),
                    actor=who,
                    subject=model_subject(name),
                    rationale=why,
                    occurred_at=deployed_at,
                ),
                connection=conn,
            )
            conn.execute(
                update(deployments)
                .where(deployments.c.id == deployment_id)
                .values(event_seq=recorded.seq)
            )
            created.append((deployment_id, promoted.occurred_at, due))

        deployed = self._registry.promote(
            name,
            version,
            Stage.PRODUCTION,
            actor=who,
            rationale=why,
            override=override,
            on_promoted=record,
        )
        deployment_id, deployed_at, due = created[0]
        return Deployment(deployment_id, deployed, deployed_at, stated, criteria, due)

    # -- checkpoints -------------------------------------------------------------------------

    def checkpoints(self, *, due_by: datetime | None = None) -> list[Checkpoint]:
        """Every checkpoint (of every deployment), or those due by `due_by`, oldest first."""
        query = select(
            deployment_checkpoints, deployments.c.model, deployments.c.version
        ).select_from(deployment_checkpoints.join(deployments))
        if due_by is not None:
            query = query.where(deployment_checkpoints.c.due_at <= utc_text(due_by, "at"))
        with self._db.transaction() as conn:
            rows = conn.execute(
                query.order_by(deployment_checkpoints.c.due_at, deployments.c.id)
            ).mappings()
            return [_checkpoint(row) for row in rows]

    def run_checkpoints(self, *, at: datetime | None = None, actor: str) -> list[Checkpoint]:
        """Judge every checkpoint due by `at` (default now) and not judged yet; returns them.

        Each criterion is judged on the newest observation of its metric for the deployed
        version made at or before the checkpoint's due time; none means `unmeasured`.
        """
        who = text(actor, "actor")
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
            with self._db.locked_transaction(EVENT_LOCK) as conn:
                row = conn.execute(
                    select(deployment_checkpoints.c.evaluated_at, deployments.c.success_criteria)
                    .select_from(deployment_checkpoints.join(deployments))
                    .where(
                        deployment_checkpoints.c.deployment_id == checkpoint.deployment_id,
                        deployment_checkpoints.c.days == checkpoint.days,
                    )
                ).one()
                if row[0] is not None:  # another runner judged it meanwhile
                    continue
                criteria = [SuccessCriterion.from_mapping(c) for c in json.loads(row[1])]
                verdict = evaluate_checkpoint(criteria, latest)
                seq = self._record_verdict(conn, checkpoint, verdict, who, moment)
                conn.execute(
                    update(deployment_checkpoints)
                    .where(
                        deployment_checkpoints.c.deployment_id == checkpoint.deployment_id,
                        deployment_checkpoints.c.days == checkpoint.days,
                    )
                    .values(
                        evaluated_at=limit,
                        outcome=verdict.outcome.value,
                        verdict=json.dumps(verdict.to_dict(), sort_keys=True),
                        event_seq=seq,
                    )
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

    def _record_verdict(
        self,
        conn: Connection,
        checkpoint: Checkpoint,
        verdict: CheckpointVerdict,
        actor: str,
        moment: datetime,
    ) -> int:
        subject = model_subject(checkpoint.name)
        summary = ", ".join(
            f"{v.criterion.name} {v.outcome.value}"
            + ("" if v.value is None else f" ({v.value:g} vs target {v.criterion.target:g})")
            for v in verdict.criteria
        )
        recorded = self._events.append(
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
            ),
            connection=conn,
        )
        if verdict.lesson_requested:
            missed = [v.criterion.name for v in verdict.criteria if v.outcome.value == "missed"]
            self._events.append(
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
                ),
                connection=conn,
            )
        return recorded.seq

    # -- the scorecard -----------------------------------------------------------------------

    def scorecard(self) -> Scorecard:
        """The seed's tables 2 and 3 measured now (see `lucid.memory.scorecard`)."""
        from lucid.memory.scorecard import measure_scorecard
        from lucid.memory.transparency import StakeholderAccess

        access = StakeholderAccess(self._db, self._events, self._registry)
        return measure_scorecard(self._features, self._registry, self._incidents, access)


def _checkpoint(row: RowMapping) -> Checkpoint:
    return Checkpoint(
        int(row["deployment_id"]),
        str(row["model"]),
        int(row["version"]),
        int(row["days"]),
        str(row["due_at"]),
        row["evaluated_at"],
        row["outcome"],
        json.loads(row["verdict"]) if row["verdict"] else None,
    )
