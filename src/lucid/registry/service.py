"""The model registry's use cases, one method per verb, over the metadata database.

Every operation that changes the registry writes its rows and its event in one transaction
under the event log's write lock, so the stored state and the story of how it came to be
never disagree. Every refusal raises before anything is written — except a refused rollback,
which is recorded on purpose (`RollbackRefused`, severity critical) as the alert it raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from lucid.contracts.events import NewEvent, RecordedEvent, format_time
from lucid.contracts.model_history import ModelHistory, fold_history
from lucid.contracts.registry_events import (
    BusinessMetricObserved,
    EvidenceAttached,
    ModelArchived,
    ModelEvaluated,
    ModelFrozen,
    ModelPromoted,
    ModelRegistered,
    ModelRolledBack,
    ModelUnfrozen,
    PromotionOverridden,
    RollbackRefused,
    model_subject,
)
from lucid.contracts.times import to_utc
from lucid.contracts.value import (
    DEFAULT_SKEW_LIMIT,
    BusinessImpact,
    Evaluation,
    Evidence,
    Override,
    Stage,
    Verdict,
    check_transition,
    evaluate,
    finite,
    promotion_gate,
    text,
    validate_model_name,
    validate_pinned_feature,
)
from lucid.errors import Conflict, InvalidInput, LucidError, NotFound
from lucid.registry import model_artifacts
from lucid.registry.model_artifacts import Artifact, ArtifactKind, ArtifactRef
from lucid.registry.model_signature import input_order
from lucid.storage.artifacts import ArtifactStore
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK, SqlEventLog
from lucid.storage.hugging_face_hub import HuggingFaceHub
from lucid.storage.tables import business_observations, model_versions, registered_models

if TYPE_CHECKING:
    from lucid.registry.portfolio import Portfolio
    from lucid.registry.serving import ServedModel


@dataclass(frozen=True)
class ModelVersion:
    """A registered version as stored: its artifact, pins, contract, evidence and stage.
    `inputs` are the pinned feature names in the order the model takes them, None for a model
    that stated no signature (it takes the pins in their order)."""

    name: str
    version: int
    stage: Stage
    artifact: ArtifactRef
    features: tuple[str, ...]
    inputs: tuple[str, ...] | None
    training_data: str
    offline_metrics: Mapping[str, float]
    impact: BusinessImpact
    evidence: Evidence | None
    registered_by: str
    registered_at: str
    rationale: str
    rolled_back: bool

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage.value,
            "artifact": self.artifact.to_dict(),
            "features": list(self.features),
            "inputs": None if self.inputs is None else list(self.inputs),
            "training_data": self.training_data,
            "offline_metrics": dict(self.offline_metrics),
            "impact": self.impact.to_dict(),
            "evidence": self.evidence.to_dict() if self.evidence else None,
            "registered_by": self.registered_by,
            "registered_at": self.registered_at,
            "rationale": self.rationale,
            "rolled_back": self.rolled_back,
        }


@dataclass(frozen=True)
class ModelSummary:
    """One registered model: its versions, what serves production, whether it is frozen."""

    name: str
    versions: int
    production: int | None
    frozen_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "versions": self.versions,
            "production": self.production,
            "frozen": self.frozen_reason is not None,
            "frozen_reason": self.frozen_reason,
        }


@dataclass(frozen=True)
class EvaluationReport:
    """An evaluation of the production version and what followed from it."""

    name: str
    version: int
    period: str
    evaluation: Evaluation
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


@dataclass(frozen=True)
class Observation:
    name: str
    version: int
    metric: str
    value: float
    period: str
    observed_at: str


class RollbackImpossible(Conflict):
    """No earlier production version to return to; a critical alert was recorded."""


def _now() -> datetime:
    return datetime.now(UTC)


class FeatureCatalog(Protocol):
    """What the registry asks of the feature store (the semantic contract)."""

    def check_pins(self, pins: Sequence[str]) -> list[str]:
        """The pins in canonical form; refuse a pin that is not an approved stored version."""
        ...

    def skew(self, pins: Sequence[str]) -> dict[str, float]:
        """The measured training-serving mismatch rate of each pinned feature ever served."""
        ...

    def online_rows(self, entity_ids: Sequence[str], pins: Sequence[str]) -> list[dict[str, Any]]:
        """Each entity's fresh served values by pin; refuse missing or stale ones."""
        ...


class ModelRegistry:
    """The value contract on stored model versions: register, gate, observe, roll back."""

    def __init__(
        self,
        db: Database,
        events: SqlEventLog,
        artifacts: ArtifactStore,
        hub: HuggingFaceHub,
        *,
        approvers: Sequence[str] = (),
        clock: Callable[[], datetime] = _now,
        features: FeatureCatalog | None = None,
        skew_limit: float = DEFAULT_SKEW_LIMIT,
    ) -> None:
        self._db = db
        self._events = events
        self._artifacts = artifacts
        self._hub = hub
        self._approvers = tuple(approvers)
        self._clock = clock
        self._features = features
        self._skew_limit = skew_limit

    # -- registering -------------------------------------------------------------------------

    def register_model(
        self,
        name: str,
        *,
        artifact: Artifact,
        impact: BusinessImpact | None,
        features: Sequence[str],
        training_data: str,
        offline_metrics: Mapping[str, float],
        registered_by: str,
        rationale: str,
        connection: Connection | None = None,
    ) -> ModelVersion:
        """Register the next version of `name` as a candidate; refused without a contract, or
        when the model's inputs and the pinned features differ (`model_signature`).
        With `connection` (a transaction holding the event log's lock) it joins that
        transaction, so a caller's own record of it commits with it or not at all."""
        validate_model_name(name)
        if not isinstance(impact, BusinessImpact):
            raise InvalidInput(
                "contract",
                "a model version is never registered without a business-impact contract "
                "(metric, direction, baseline, target, measurement period, rollback threshold, "
                "rationale)",
            )
        pins = [validate_pinned_feature(pin) for pin in features]
        if self._features is not None:
            pins = self._features.check_pins(pins)
        if len(set(pins)) != len(pins):
            raise InvalidInput("features", "each pinned feature may be listed once")
        training = text(training_data, "training_data")
        metrics = {
            text(key, "offline_metrics"): finite(value, f"offline_metrics.{key}")
            for key, value in offline_metrics.items()
        }
        who = text(registered_by, "registered_by")
        why = text(rationale, "rationale")
        prepared = model_artifacts.prepare(artifact, self._hub)
        inputs = input_order(prepared.signature, pins)
        stored_inputs = None if inputs is None else list(inputs)
        now = self._clock()
        written: ArtifactRef | None = None
        try:
            with self._joined(connection) as conn:
                latest = conn.execute(
                    select(func.max(model_versions.c.version)).where(model_versions.c.name == name)
                ).scalar_one()
                version = int(latest or 0) + 1
                if latest is None:
                    conn.execute(
                        insert(registered_models).values(
                            name=name, created_at=format_time(now), frozen_reason=None
                        )
                    )
                written = model_artifacts.store(prepared, self._artifacts, name, version)
                conn.execute(
                    insert(model_versions).values(
                        name=name,
                        version=version,
                        stage=Stage.CANDIDATE.value,
                        artifact_kind=written.kind.value,
                        artifact_location=written.location,
                        artifact_sha256=written.sha256,
                        features=json.dumps(pins),
                        inputs=None if inputs is None else json.dumps(stored_inputs),
                        training_data=training,
                        offline_metrics=json.dumps(metrics, sort_keys=True),
                        impact=json.dumps(impact.to_dict(), sort_keys=True),
                        evidence=None,
                        registered_by=who,
                        registered_at=format_time(now),
                        rationale=why,
                        production_seq=None,
                        rolled_back=False,
                    )
                )
                self._record(
                    conn,
                    ModelRegistered(
                        name=name,
                        version=version,
                        artifact=written.to_dict(),
                        features=pins,
                        training_data=training,
                        offline_metrics=metrics,
                        impact=impact.to_dict(),
                        inputs=stored_inputs,
                    ),
                    who,
                    why,
                    now,
                )
                if connection is not None:
                    return self._version_in(conn, name, version)
        except BaseException:
            if written is not None and written.kind in (ArtifactKind.SKLEARN, ArtifactKind.ONNX):
                self._artifacts.delete(written.location)
            raise
        return self.get_version(name, version)

    def attach_evidence(
        self,
        name: str,
        version: int,
        evidence: Evidence,
        *,
        actor: str,
        rationale: str,
        connection: Connection | None = None,
    ) -> ModelVersion:
        """Attach an experiment result to a version; the gate judges it at promotion.

        With `connection` (a transaction already holding the event log's write lock, e.g. an
        experiment being concluded) it is written there, atomically with the caller's change.
        """
        if not isinstance(evidence, Evidence):
            raise InvalidInput("evidence", "must be an evidence record")
        who, why = text(actor, "actor"), text(rationale, "rationale")
        if connection is not None:
            return self._attach_in(connection, name, version, evidence, who, why)
        with self._db.locked_transaction(EVENT_LOCK) as conn:
            return self._attach_in(conn, name, version, evidence, who, why)

    def _attach_in(
        self, conn: Connection, name: str, version: int, evidence: Evidence, who: str, why: str
    ) -> ModelVersion:
        current = self._version_in(conn, name, version)
        if current.stage is Stage.ARCHIVED:
            raise Conflict(f"{current.label} is archived; evidence can no longer help it.")
        conn.execute(
            update(model_versions)
            .where(model_versions.c.name == name, model_versions.c.version == version)
            .values(evidence=json.dumps(evidence.to_dict(), sort_keys=True))
        )
        self._record(
            conn, EvidenceAttached(name, version, evidence.to_dict()), who, why, self._clock()
        )
        return self._version_in(conn, name, version)

    # -- the gate ----------------------------------------------------------------------------

    def promote(
        self,
        name: str,
        version: int,
        to: Stage | str,
        *,
        actor: str,
        rationale: str,
        override: Override | None = None,
        on_promoted: Callable[[Connection, RecordedEvent], None] | None = None,
    ) -> ModelVersion:
        """Move a version up a stage through the promotion gate (see `promotion_gate`).

        Entering production archives the version that served before, in the same transaction.
        `on_promoted(connection, promoted_event)` runs inside that transaction once the gate
        passed, so a caller may record what the promotion decided (e.g. `ModelDeployed`)
        atomically with it; whatever it raises undoes the promotion.
        """
        wanted = _stage(to)
        if wanted is Stage.ARCHIVED:
            raise InvalidInput("to", "a version is retired with archive, not promoted to archived")
        who, why = text(actor, "actor"), text(rationale, "rationale")
        now = self._clock()
        skew: dict[str, float] | None = None
        if wanted is Stage.PRODUCTION and self._features is not None:
            skew = self._features.skew(list(self.get_version(name, version).features))
        with self._db.locked_transaction(EVENT_LOCK) as conn:
            frozen_reason = self._frozen_reason(conn, name)
            row = self._row(conn, name, version)
            impact = _stored_impact(row)
            current = self._parse(row) if impact is not None else None
            decision = promotion_gate(
                version_label=f"{name}@{version}",
                current=Stage(row["stage"]),
                wanted=wanted,
                impact=impact,
                evidence=current.evidence if current else None,
                frozen_reason=frozen_reason,
                override=override,
                approvers=self._approvers,
                registered_by=str(row["registered_by"]),
                feature_skew=skew,
                skew_limit=self._skew_limit,
            )
            replaced: int | None = None
            if wanted is Stage.PRODUCTION:
                serving = self._production_in(conn, name)
                if serving is not None:
                    replaced = serving
                    self._set_stage(conn, name, serving, Stage.ARCHIVED)
            if override is not None and wanted is Stage.PRODUCTION:
                self._record(
                    conn,
                    PromotionOverridden(
                        name, version, override.approver.strip(), decision.evidence_problem
                    ),
                    override.approver.strip(),
                    override.rationale.strip(),
                    now,
                )
            recorded = self._record(
                conn,
                ModelPromoted(
                    name,
                    version,
                    row["stage"],
                    wanted.value,
                    decision.basis,
                    decision.summary,
                    replaced,
                ),
                who,
                why,
                now,
            )
            self._set_stage(
                conn,
                name,
                version,
                wanted,
                production_seq=recorded.seq if wanted is Stage.PRODUCTION else None,
            )
            if on_promoted is not None:
                on_promoted(conn, recorded)
        return self.get_version(name, version)

    def archive(self, name: str, version: int, *, actor: str, rationale: str) -> ModelVersion:
        """Retire a candidate or challenger; the serving version leaves only by replacement or
        rollback."""
        who, why = text(actor, "actor"), text(rationale, "rationale")
        with self._db.locked_transaction(EVENT_LOCK) as conn:
            current = Stage(self._row(conn, name, version)["stage"])
            if current is Stage.PRODUCTION:
                raise Conflict(
                    f"{name}@{version} serves production; promote another version or roll back "
                    "instead; nothing changed."
                )
            check_transition(current, Stage.ARCHIVED, f"{name}@{version}")
            self._set_stage(conn, name, version, Stage.ARCHIVED)
            self._record(conn, ModelArchived(name, version, current.value), who, why, self._clock())
        return self.get_version(name, version)

    def freeze(
        self,
        name: str,
        *,
        reason: str,
        actor: str,
        source: str = "hand",
        connection: Connection | None = None,
    ) -> None:
        """Block every promotion of `name` until `unfreeze`; `source` is hand or monitoring.
        With `connection`, it joins that transaction (see `register_model`)."""
        why, who = text(reason, "reason"), text(actor, "actor")
        with self._joined(connection) as conn:
            if self._frozen_reason(conn, name) is not None:
                raise Conflict(f"{name} is already frozen; nothing changed.")
            conn.execute(
                update(registered_models)
                .where(registered_models.c.name == name)
                .values(frozen_reason=why, frozen_by=who)
            )
            self._record(conn, ModelFrozen(name, why, source), who, why, self._clock())

    def unfreeze(self, name: str, *, actor: str, rationale: str) -> None:
        """Lift the freeze of `name`."""
        who, why = text(actor, "actor"), text(rationale, "rationale")
        with self._db.locked_transaction(EVENT_LOCK) as conn:
            if self._frozen_reason(conn, name) is None:
                raise Conflict(f"{name} is not frozen; nothing changed.")
            conn.execute(
                update(registered_models)
                .where(registered_models.c.name == name)
                .values(frozen_reason=None, frozen_by=None)
            )
            self._record(conn, ModelUnfrozen(name), who, why, self._clock())

    # -- evaluation and rollback -------------------------------------------------------------

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
        who = text(actor, "actor")
        now = self._clock()
        with self._db.locked_transaction(EVENT_LOCK) as conn:
            current = self._version_in(conn, name, version)
            known = {current.impact.metric, *(g.metric for g in current.impact.guardrails)}
            if metric not in known:
                raise InvalidInput(
                    "metric",
                    f"{metric} is neither the contract's metric nor a guardrail of "
                    f"{current.label} (expected one of {', '.join(sorted(known))})",
                )
            recorded = self._record(
                conn,
                BusinessMetricObserved(name, version, metric, number, label),
                who,
                rationale or f"{metric} measured over {label}",
                now,
            )
            conn.execute(
                insert(business_observations).values(
                    name=name,
                    version=version,
                    metric=metric,
                    value=number,
                    period=label,
                    observed_at=format_time(now),
                    observed_by=who,
                    event_seq=recorded.seq,
                )
            )
        return Observation(name, version, metric, number, label, format_time(now))

    def evaluate(self, name: str, *, actor: str, auto_rollback: bool = True) -> EvaluationReport:
        """Judge the production version's latest observation; roll back when it is due.

        A due rollback with no previous version to return to records a critical
        `RollbackRefused` and reports it as the report's `alert`.
        """
        who = text(actor, "actor")
        now = self._clock()
        alert: str | None = None
        with self._db.locked_transaction(EVENT_LOCK) as conn:
            serving = self._production_in(conn, name)
            if serving is None:
                raise Conflict(f"{name} has no production version to evaluate.")
            current = self._version_in(conn, name, serving)
            latest = self._latest_observations(conn, name, serving)
            if current.impact.metric not in latest:
                raise Conflict(
                    f"{current.label} has no observation of {current.impact.metric} yet; record "
                    "one with `lucid models observe`."
                )
            value, period = latest[current.impact.metric]
            guardrails = {metric: observed for metric, (observed, _) in latest.items()}
            result = evaluate(current.impact, value, guardrails)
            self._record(
                conn,
                ModelEvaluated(name, serving, result.metric, value, result.verdict.value, period),
                who,
                f"{result.metric} {value:g} over {period}: "
                + result.verdict.value.replace("_", " "),
                now,
            )
            rolled_back_to: int | None = None
            if result.verdict is Verdict.ROLLBACK_DUE and auto_rollback:
                why = (
                    f"{result.metric} {value:g} over {period} is past the rollback threshold "
                    f"{current.impact.rollback_threshold:g} ({current.impact.direction.value} is "
                    "better)"
                )
                try:
                    rolled_back_to = self._rollback_in(conn, name, serving, who, why, True, now)
                except RollbackImpossible as refusal:
                    alert = refusal.sentence
        if alert is not None:
            self._record_refusal(name, serving, who, alert, now)
        return EvaluationReport(name, serving, period, result, rolled_back_to, alert)

    def rollback(
        self, name: str, *, actor: str, rationale: str, connection: Connection | None = None
    ) -> ModelVersion:
        """By hand: the previous production version serves again; the current one is retired.

        With no previous version the rollback is refused with a sentence, and a critical
        `RollbackRefused` event is recorded as the alert. With `connection`, the rollback —
        or the refusal's event — joins that transaction (see `register_model`).
        """
        who, why = text(actor, "actor"), text(rationale, "rationale")
        now = self._clock()
        serving: int | None = None
        try:
            with self._joined(connection) as conn:
                serving = self._production_in(conn, name)
                if serving is None:
                    self._version_in(conn, name, None)  # a NotFound sentence for unknown models
                    raise Conflict(
                        f"{name} has no production version to roll back; nothing changed."
                    )
                restored = self._rollback_in(conn, name, serving, who, why, False, now)
                if connection is not None:
                    return self._version_in(conn, name, restored)
        except RollbackImpossible as refusal:
            assert serving is not None  # only a serving version can be refused a rollback
            self._record_refusal(name, serving, who, refusal.sentence, now, connection)
            raise
        return self.get_version(name, restored)

    def _rollback_in(
        self,
        conn: Connection,
        name: str,
        serving: int,
        actor: str,
        rationale: str,
        automatic: bool,
        now: datetime,
    ) -> int:
        previous = conn.execute(
            select(model_versions.c.version)
            .where(
                model_versions.c.name == name,
                model_versions.c.version != serving,
                model_versions.c.stage == Stage.ARCHIVED.value,
                model_versions.c.production_seq.is_not(None),
                model_versions.c.rolled_back.is_(False),
            )
            .order_by(model_versions.c.production_seq.desc())
            .limit(1)
        ).scalar()
        if previous is None:
            raise RollbackImpossible(
                f"{name}@{serving} cannot be rolled back: no earlier production version to "
                "return to. A critical alert was recorded; it keeps serving."
            )
        conn.execute(
            update(model_versions)
            .where(model_versions.c.name == name, model_versions.c.version == serving)
            .values(stage=Stage.ARCHIVED.value, rolled_back=True)
        )
        recorded = self._record(
            conn, ModelRolledBack(name, serving, int(previous), automatic), actor, rationale, now
        )
        self._set_stage(conn, name, int(previous), Stage.PRODUCTION, production_seq=recorded.seq)
        return int(previous)

    def _record_refusal(
        self,
        name: str,
        version: int,
        actor: str,
        sentence: str,
        now: datetime,
        connection: Connection | None = None,
    ) -> None:
        self._events.append(
            NewEvent.of(
                RollbackRefused(name, version, "critical", sentence),
                actor=actor,
                subject=model_subject(name),
                rationale="a rollback was due but there is no earlier production version",
                occurred_at=now,
            ),
            connection=connection,
        )

    # -- reading -----------------------------------------------------------------------------

    def get_version(self, name: str, version: int | None = None) -> ModelVersion:
        """A version of `name` (default: the latest)."""
        with self._db.transaction() as conn:
            return self._version_in(conn, name, version)

    def versions(self, name: str) -> list[ModelVersion]:
        with self._db.transaction() as conn:
            rows = conn.execute(
                select(model_versions)
                .where(model_versions.c.name == name)
                .order_by(model_versions.c.version)
            ).mappings()
            found = [self._parse(row) for row in rows]
        if not found:
            raise NotFound(f"No model named {name} is registered.")
        return found

    def production_number(self, name: str) -> int | None:
        """The version number serving production (one indexed read), None when none does."""
        with self._db.transaction() as conn:
            return self._production_in(conn, name)

    def production_version(self, name: str) -> ModelVersion | None:
        with self._db.transaction() as conn:
            serving = self._production_in(conn, name)
            return None if serving is None else self._version_in(conn, name, serving)

    def list_models(self) -> list[ModelSummary]:
        with self._db.transaction() as conn:
            models = conn.execute(
                select(registered_models.c.name, registered_models.c.frozen_reason).order_by(
                    registered_models.c.name
                )
            ).all()
            counts: dict[str, int] = dict(
                conn.execute(
                    select(model_versions.c.name, func.count()).group_by(model_versions.c.name)
                ).all()
            )
            serving = dict(
                conn.execute(
                    select(model_versions.c.name, model_versions.c.version).where(
                        model_versions.c.stage == Stage.PRODUCTION.value
                    )
                ).all()
            )
        return [
            ModelSummary(name, int(counts.get(name, 0)), serving.get(name), frozen)
            for name, frozen in models
        ]

    def observations(self, name: str, version: int | None = None) -> list[Observation]:
        query = select(business_observations).where(business_observations.c.name == name)
        if version is not None:
            query = query.where(business_observations.c.version == version)
        with self._db.transaction() as conn:
            rows = conn.execute(query.order_by(business_observations.c.id)).mappings().all()
        return [
            Observation(
                r["name"], r["version"], r["metric"], r["value"], r["period"], r["observed_at"]
            )
            for r in rows
        ]

    def history(self, name: str, at: datetime | None = None) -> ModelHistory:
        """Which version served production and why it changed, folded from the event log."""
        validate_model_name(name)
        moment = to_utc(at, "at") if at is not None else None
        return fold_history(name, self._model_events(name), moment)

    def evaluations(self, name: str, version: int) -> list[dict[str, Any]]:
        """Every judgement of `name` `version` against its contract, oldest first, from its
        `ModelEvaluated` events (what `evaluate` recorded: value, verdict, period, who, when)."""
        self.get_version(name, version)  # the not-found sentence
        return [
            {
                **{key: value for key, value in event.payload.items() if key != "name"},
                "evaluated_at": event.occurred_at,
                "evaluated_by": event.actor,
                "event_seq": event.seq,
            }
            for event in self._model_events(name)
            if event.type == "ModelEvaluated" and event.payload["version"] == version
        ]

    def _model_events(self, name: str) -> Iterator[RecordedEvent]:
        subject, after = str(model_subject(name)), 0
        while True:
            page = self._events.read(subject=subject, after=after, limit=1000)
            yield from page
            if len(page) < 1000:
                return
            after = page[-1].seq

    def load_model(
        self, name: str, stage: Stage | str = Stage.PRODUCTION, version: int | None = None
    ) -> ServedModel:
        """A callable over feature rows predicting with the hash-checked artifact of `name` at
        `stage`; `.for_entities(ids)` reads the pinned features from the online store."""
        from lucid.registry.serving import load_model

        return load_model(self, self._artifacts, name, stage, version, features=self._features)

    def portfolio(self, offline_metric: str | None = None) -> Portfolio:
        """The portfolio figures (see `lucid.registry.portfolio`)."""
        from lucid.registry.portfolio import portfolio

        return portfolio(self._db, self, offline_metric)

    # -- rows --------------------------------------------------------------------------------

    @contextmanager
    def _joined(self, connection: Connection | None) -> Iterator[Connection]:
        """The caller's transaction when given (it holds the event log's lock), else a new
        locked one."""
        if connection is not None:
            yield connection
            return
        with self._db.locked_transaction(EVENT_LOCK) as conn:
            yield conn

    def _record(
        self, conn: Connection, event: Any, actor: str, rationale: str, now: datetime
    ) -> RecordedEvent:
        return self._events.append(
            NewEvent.of(
                event,
                actor=actor,
                subject=model_subject(event.name),
                rationale=rationale,
                occurred_at=now,
            ),
            connection=conn,
        )

    def _row(self, conn: Connection, name: str, version: int | None) -> RowMapping:
        validate_model_name(name)
        query = select(model_versions).where(model_versions.c.name == name)
        if version is None:
            query = query.order_by(model_versions.c.version.desc()).limit(1)
        else:
            query = query.where(model_versions.c.version == version)
        row = conn.execute(query).mappings().first()
        if row is None:
            exists = conn.execute(
                select(registered_models.c.name).where(registered_models.c.name == name)
            ).first()
            if exists is None:
                raise NotFound(f"No model named {name} is registered.")
            raise NotFound(f"{name} has no version {version}.")
        return row

    def _version_in(self, conn: Connection, name: str, version: int | None) -> ModelVersion:
        return self._parse(self._row(conn, name, version))

    def _parse(self, row: RowMapping) -> ModelVersion:
        impact = _stored_impact(row)
        if impact is None:
            raise Conflict(
                f"{row['name']}@{row['version']} has no valid business-impact contract stored."
            )
        evidence = Evidence.from_mapping(json.loads(row["evidence"])) if row["evidence"] else None
        return ModelVersion(
            name=row["name"],
            version=int(row["version"]),
            stage=Stage(row["stage"]),
            artifact=ArtifactRef(
                ArtifactKind(row["artifact_kind"]), row["artifact_location"], row["artifact_sha256"]
            ),
            features=tuple(json.loads(row["features"])),
            inputs=None if row["inputs"] is None else tuple(json.loads(row["inputs"])),
            training_data=row["training_data"],
            offline_metrics=json.loads(row["offline_metrics"]),
            impact=impact,
            evidence=evidence,
            registered_by=row["registered_by"],
            registered_at=row["registered_at"],
            rationale=row["rationale"],
            rolled_back=bool(row["rolled_back"]),
        )

    def _frozen_reason(self, conn: Connection, name: str) -> str | None:
        validate_model_name(name)
        row = conn.execute(
            select(registered_models.c.frozen_reason).where(registered_models.c.name == name)
        ).first()
        if row is None:
            raise NotFound(f"No model named {name} is registered.")
        return None if row[0] is None else str(row[0])

    def _production_in(self, conn: Connection, name: str) -> int | None:
        found = conn.execute(
            select(model_versions.c.version).where(
                model_versions.c.name == name, model_versions.c.stage == Stage.PRODUCTION.value
            )
        ).scalar()
        return None if found is None else int(found)

    def _set_stage(
        self,
        conn: Connection,
        name: str,
        version: int,
        stage: Stage,
        *,
        production_seq: int | None = None,
    ) -> None:
        values: dict[str, Any] = {"stage": stage.value}
        if production_seq is not None:
            values["production_seq"] = production_seq
        conn.execute(
            update(model_versions)
            .where(model_versions.c.name == name, model_versions.c.version == version)
            .values(**values)
        )

    def _latest_observations(
        self, conn: Connection, name: str, version: int
    ) -> dict[str, tuple[float, str]]:
        """metric → (value, period) of the newest observation of each metric of a version."""
        rows = conn.execute(
            select(
                business_observations.c.metric,
                business_observations.c.value,
                business_observations.c.period,
            )
            .where(business_observations.c.name == name, business_observations.c.version == version)
            .order_by(business_observations.c.id)
        ).all()
        return {metric: (float(value), period) for metric, value, period in rows}


def _stage(value: Stage | str) -> Stage:
    try:
        return Stage(value)
    except ValueError:
        stages = ", ".join(stage.value for stage in Stage)
        raise InvalidInput("to", f"must be one of {stages}, not {value!r}") from None


def _stored_impact(row: RowMapping) -> BusinessImpact | None:
    """The contract stored with a version, or None when it is missing or does not hold."""
    try:
        return BusinessImpact.from_mapping(json.loads(row["impact"] or "null"))
    except (LucidError, ValueError, TypeError):
        return None
