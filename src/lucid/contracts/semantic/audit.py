"""The contradiction audit: definitions of one concept that disagree field by field."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lucid.contracts.semantic.computation import SqlAggregate, WindowedAggregation
from lucid.contracts.semantic.definition import FeatureDefinition
from lucid.contracts.semantic.governance import Governed, Status
from lucid.contracts.semantic.versions import FeatureRef

AUDIT_FIELDS = (
    "entity",
    "window",
    "sources",
    "filters",
    "aggregates",
    "normalisers",
    "weights",
    "exclusions",
    "sql",
    "value_type",
    "ttl",
)


def comparable_fields(definition: FeatureDefinition) -> dict[str, Any]:
    """The meaning of a definition spelled out field by field, for a readable diff."""
    computation = definition.computation
    terms = (
        sorted(computation.terms, key=lambda t: t.source)
        if isinstance(computation, WindowedAggregation)
        else []
    )
    return {
        "entity": definition.entity,
        "window": str(definition.window),
        "sources": list(definition.sources),
        "filters": {t.source: [str(c) for c in t.filters] for t in terms if t.filters} or None,
        "aggregates": {t.source: t.describe() for t in terms} or None,
        "normalisers": {t.source: str(t.normalise) for t in terms} or None,
        "weights": {t.source: t.weight for t in terms} or None,
        "exclusions": sorted(
            f"{e.name}: {e.where}" + (f" (on {', '.join(e.sources)})" if e.sources else "")
            for e in definition.exclusions
        ),
        "sql": computation.to_dict()["sql"]["expression"]
        if isinstance(computation, SqlAggregate)
        else None,
        "value_type": definition.value_type.value,
        "ttl": str(definition.ttl) if definition.ttl else None,
    }


@dataclass(frozen=True, slots=True)
class ConceptContradiction:
    concept: str
    canonical: FeatureRef | None
    definitions: tuple[Governed, ...]
    contradictory: tuple[FeatureRef, ...]
    differences: tuple[tuple[str, dict[str, Any]], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "concept": self.concept,
            "canonical": str(self.canonical) if self.canonical else None,
            "definitions": [
                {
                    "name": g.definition.name,
                    "version": str(g.definition.version),
                    "owner": g.definition.owner,
                    "status": g.status.value,
                    "contradicts": g.definition.ref in self.contradictory,
                }
                for g in self.definitions
            ],
            "differences": [{"field": name, "values": values} for name, values in self.differences],
        }


@dataclass(frozen=True, slots=True)
class AuditReport:
    concepts: tuple[ConceptContradiction, ...]

    @property
    def contradictory_definitions(self) -> int:
        return sum(len(concept.contradictory) for concept in self.concepts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contradictory_definitions": self.contradictory_definitions,
            "concepts": [concept.to_dict() for concept in self.concepts],
        }


def audit(definitions: Iterable[Governed]) -> AuditReport:
    """Contradictions among active definitions: same concept, different computation.

    With a canonical (approved) definition, every active definition of the concept whose
    meaning differs from it contradicts it — except proposed new versions of the canonical
    feature itself, which are pending changes, not rivals. Without one, when the active
    definitions disagree, each of them counts.
    """
    by_concept: dict[str, list[Governed]] = {}
    for governed in definitions:
        if governed.status.active:
            by_concept.setdefault(governed.definition.concept, []).append(governed)
    found = []
    for concept in sorted(by_concept):
        members = sorted(
            by_concept[concept], key=lambda g: (g.definition.name, g.definition.version)
        )
        canonical = next((g for g in members if g.status is Status.APPROVED), None)
        if canonical is not None:
            rivals = [
                g
                for g in members
                if g is not canonical
                and g.definition.name != canonical.definition.name
                and g.definition.fingerprint != canonical.definition.fingerprint
            ]
        elif len({g.definition.fingerprint for g in members}) > 1:
            rivals = members
        else:
            rivals = []
        if not rivals:
            continue
        compared = [canonical, *rivals] if canonical else rivals
        fields = {str(g.definition.ref): comparable_fields(g.definition) for g in compared}
        differences = []
        for name in AUDIT_FIELDS:
            values = {ref: item[name] for ref, item in fields.items()}
            if len({json.dumps(v, sort_keys=True) for v in values.values()}) > 1:
                differences.append((name, values))
        found.append(
            ConceptContradiction(
                concept,
                canonical.definition.ref if canonical else None,
                tuple(members),
                tuple(g.definition.ref for g in rivals),
                tuple(differences),
            )
        )
    return AuditReport(tuple(found))
