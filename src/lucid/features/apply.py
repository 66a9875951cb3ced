"""Planning and applying a definition set: register its new sources and propose its new
definitions, or refuse everything.

`plan` computes, item by item, what `apply` would do (add, new version, keep, refuse) before
anything is stored; `apply` stores the plan's additions and records their events in one unit of
work, or nothing when the plan refuses an item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lucid.contracts.events import NewEvent, Subject
from lucid.contracts.names import check_person
from lucid.contracts.semantic.definition import FeatureDefinition
from lucid.contracts.semantic.events import FeatureProposed, SourceRegistered
from lucid.contracts.semantic.governance import Status
from lucid.contracts.semantic.plan import PlanAction, PlanItem, plan_definition
from lucid.contracts.semantic.sources import Source, schema_mismatches, second_listing
from lucid.errors import Conflict, InvalidInput, LucidError
from lucid.features.approve import feature_subject
from lucid.features.definition_files import DefinitionSet
from lucid.features.examples import example_failures
from lucid.ports.features import FeatureRepository
from lucid.ports.offline import FeatureCompiler, OfflineEngine
from lucid.ports.unit_of_work import UnitsOfWork


@dataclass(frozen=True)
class SourcePlanItem:
    name: str
    action: PlanAction
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.name, "action": self.action.value, "reason": self.reason}


@dataclass(frozen=True)
class Plan:
    """What `apply` would do with a definition set, item by item, before anything is stored."""

    sources: list[SourcePlanItem] = field(default_factory=list)
    features: list[PlanItem] = field(default_factory=list)

    @property
    def refusals(self) -> list[str]:
        items: list[SourcePlanItem | PlanItem] = [*self.sources, *self.features]
        return [item.reason for item in items if item.action is PlanAction.REFUSE]

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": [item.to_dict() for item in self.sources],
            "features": [item.to_dict() for item in self.features],
            "refusals": self.refusals,
        }


@dataclass(frozen=True)
class Planner:
    """Plans a definition set against the stored state: sources are checked against their
    data on `engine`, new definitions against their sources and golden examples."""

    engine: Callable[[], OfflineEngine]
    compiler: FeatureCompiler

    def plan(self, features: FeatureRepository, definitions: DefinitionSet) -> Plan:
        stored_sources = features.sources()
        plan = Plan()
        known = dict(stored_sources)
        for source in definitions.sources:
            source_item = self._plan_source(source, stored_sources.get(source.name))
            if source_item.action is PlanAction.ADD and (reason := second_listing(source, known)):
                source_item = SourcePlanItem(source.name, PlanAction.REFUSE, reason)
            plan.sources.append(source_item)
            if source_item.action is not PlanAction.REFUSE:
                known[source.name] = source
        versions: dict[str, list[FeatureDefinition]] = {}
        for governed in features.governed():
            versions.setdefault(governed.definition.name, []).append(governed.definition)
        for definition in sorted(definitions.features, key=lambda d: (d.name, d.version)):
            item = plan_definition(definition, versions.get(definition.name, []))
            if item.action in (PlanAction.ADD, PlanAction.NEW_VERSION):
                item = self._check_proposal(item, definition, known)
            plan.features.append(item)
            if item.action is not PlanAction.REFUSE:
                versions.setdefault(definition.name, []).append(definition)
        return plan

    def _plan_source(self, source: Source, stored: Source | None) -> SourcePlanItem:
        if stored is not None:
            if stored == source:
                return SourcePlanItem(source.name, PlanAction.KEEP, "identical to the stored one")
            return SourcePlanItem(
                source.name,
                PlanAction.REFUSE,
                f"source {source.name} is already registered differently; sources are not "
                "changed in place — register the new shape under a new name",
            )
        try:
            problems = schema_mismatches(source.schema, self.engine().describe(source))
        except LucidError as error:
            return SourcePlanItem(source.name, PlanAction.REFUSE, error.sentence)
        if problems:
            return SourcePlanItem(
                source.name,
                PlanAction.REFUSE,
                f"source {source.name} does not match its data: {'; '.join(problems)}",
            )
        return SourcePlanItem(source.name, PlanAction.ADD, "schema matches the data")

    def _check_proposal(
        self, item: PlanItem, definition: FeatureDefinition, sources: dict[str, Source]
    ) -> PlanItem:
        reason = ""
        if not definition.required_approvals:
            reason = (
                f"{definition.ref} names no team in required_approvals; a canonical "
                "definition changes only by collective approval"
            )
        else:
            try:
                self.compiler.check(definition, sources)
                reason = "; ".join(example_failures(self.compiler, definition, sources))
            except InvalidInput as error:
                reason = f"{definition.ref}: {error.sentence}"
        if not reason:
            return item
        return PlanItem(
            item.ref, PlanAction.REFUSE, item.changes, item.required, item.previous, reason
        )


def plan(uows: UnitsOfWork, planner: Planner, definitions: DefinitionSet) -> Plan:
    """What `apply` would do with `definitions` now."""
    with uows.read() as uow:
        return planner.plan(uow.features, definitions)


def apply(
    uows: UnitsOfWork,
    planner: Planner,
    definitions: DefinitionSet,
    *,
    actor: str,
    rationale: str,
    clock: Callable[[], datetime],
) -> Plan:
    """Register the new sources and propose the new definitions, or refuse everything."""
    check_person(actor, "actor")
    with uows() as uow:
        plan = planner.plan(uow.features, definitions)
        if plan.refusals:
            raise Conflict(
                "Nothing was applied: "
                + " ".join(reason.rstrip(".") + "." for reason in plan.refusals)
            )
        at = clock()
        by_name = {source.name: source for source in definitions.sources}
        news: list[NewEvent] = []
        for source_item in plan.sources:
            if source_item.action is PlanAction.ADD:
                source = by_name[source_item.name]
                uow.features.add_source(source, actor=actor, at=at)
                news.append(
                    NewEvent.of(
                        SourceRegistered(name=source.name, spec=source.to_dict()),
                        actor=actor,
                        subject=Subject("source", source.name),
                        rationale=rationale,
                        occurred_at=clock(),
                    )
                )
        features = {d.ref: d for d in definitions.features}
        for item in plan.features:
            if item.action in (PlanAction.ADD, PlanAction.NEW_VERSION):
                definition = features[item.ref]
                uow.features.add_definition(
                    definition, status=Status.PROPOSED, origin="proposed", actor=actor, at=at
                )
                news.append(_proposed(definition, item, actor, rationale, clock()))
        uow.record_many(news)
    return plan


def _proposed(
    definition: FeatureDefinition, item: PlanItem, actor: str, rationale: str, at: datetime
) -> NewEvent:
    return NewEvent.of(
        FeatureProposed(
            name=definition.name,
            version=str(definition.version),
            concept=definition.concept,
            fingerprint=definition.fingerprint,
            required_approvals=list(definition.required_approvals),
            previous=str(item.previous) if item.previous else None,
            bump=item.to_dict()["required_bump"],
            changes=item.to_dict()["changes"],
            spec=definition.to_dict(),
        ),
        actor=actor,
        subject=feature_subject(definition.ref),
        rationale=rationale,
        occurred_at=at,
    )
