"""The feature definition: what it means, how it is computed, who must approve it, and its
fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lucid.contracts.semantic.computation import (
    Computation,
    Exclusion,
    WindowedAggregation,
    computation_from_dict,
)
from lucid.contracts.semantic.examples import GoldenExample, ValueType
from lucid.contracts.semantic.fields import (
    as_list,
    as_text,
    as_texts,
    check_name,
    check_team,
    enum_values,
    refuse_unknown,
)
from lucid.contracts.semantic.versions import Duration, FeatureRef, Version
from lucid.errors import InvalidInput

MEANING_FIELDS = ("entity", "value_type", "window", "ttl", "computation", "exclusions", "concept")
OPTIONAL_FIELDS = ("tags", "unit", "docs_url", "examples")
GOVERNANCE_FIELDS = ("required_approvals",)
TEXT_FIELDS = ("description", "owner")
DEFINITION_FIELDS = (
    "name",
    "version",
    *MEANING_FIELDS,
    *OPTIONAL_FIELDS,
    *GOVERNANCE_FIELDS,
    *TEXT_FIELDS,
)


@dataclass(frozen=True, slots=True)
class FeatureDefinition:
    """One version of a feature: what it means (the computation) and who answers for it."""

    name: str
    version: Version
    concept: str
    description: str
    owner: str
    entity: str
    value_type: ValueType
    window: Duration
    computation: Computation
    exclusions: tuple[Exclusion, ...] = ()
    ttl: Duration | None = None
    required_approvals: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    unit: str | None = None
    docs_url: str | None = None
    examples: tuple[GoldenExample, ...] = ()

    def __post_init__(self) -> None:
        check_name(self.name, "name")
        check_name(self.concept, f"{self.name}.concept")
        check_name(self.entity, f"{self.name}.entity")
        as_text(self.description, f"{self.name}.description")
        as_text(self.owner, f"{self.name}.owner")
        for team in self.required_approvals:
            check_team(team, f"{self.name}.required_approvals")
        if len(set(self.required_approvals)) != len(self.required_approvals):
            raise InvalidInput(f"{self.name}.required_approvals", "lists a team twice")
        sources = set(self.computation.sources)
        for number, example in enumerate(self.examples):
            strangers = sorted(set(example.events) - sources)
            if strangers:
                raise InvalidInput(
                    f"{self.name}.examples[{number}].events",
                    f"{', '.join(strangers)} is not a source of this feature",
                )
        for exclusion in self.exclusions:
            unknown = set(exclusion.sources) - sources
            if unknown:
                raise InvalidInput(
                    f"{self.name}.exclusions.{exclusion.name}.sources",
                    f"{', '.join(sorted(unknown))} is not a source of this feature",
                )

    @property
    def ref(self) -> FeatureRef:
        return FeatureRef(self.name, self.version)

    @property
    def empty_value(self) -> Any:
        """The value for an entity with no kept event in the window: 0 when every term is a
        count or sum (each declared normaliser maps 0 to 0), else missing (None)."""
        computation = self.computation
        if isinstance(computation, WindowedAggregation) and all(
            term.aggregate.zero_when_empty for term in computation.terms
        ):
            return self.value_type.coerce(0)
        return None

    @property
    def sources(self) -> tuple[str, ...]:
        return self.computation.sources

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureDefinition:
        """Build a definition from the mapping a YAML file holds (the SDK shares the model)."""
        name = check_name(data.get("name"), "name")
        refuse_unknown(data, DEFINITION_FIELDS, name)
        try:
            value_type = ValueType(data.get("value_type", "float"))
        except ValueError:
            raise InvalidInput(
                f"{name}.value_type",
                f"{data.get('value_type')!r} must be one of {enum_values(ValueType)}",
            ) from None
        exclusions = as_list(data.get("exclusions"), f"{name}.exclusions")
        teams = as_texts(data.get("required_approvals"), f"{name}.required_approvals")
        tags = as_texts(data.get("tags"), f"{name}.tags")
        if "computation" not in data:
            raise InvalidInput(f"{name}.computation", "is required")
        return cls(
            name=name,
            version=Version.parse(data.get("version"), f"{name}.version"),
            concept=check_name(data.get("concept"), f"{name}.concept"),
            description=as_text(data.get("description"), f"{name}.description"),
            owner=as_text(data.get("owner"), f"{name}.owner"),
            entity=check_name(data.get("entity"), f"{name}.entity"),
            value_type=value_type,
            window=Duration.parse(data.get("window"), f"{name}.window"),
            computation=computation_from_dict(data["computation"]),
            exclusions=tuple(
                Exclusion.from_dict(item, f"{name}.exclusions[{index}]")
                for index, item in enumerate(exclusions)
            ),
            ttl=None if data.get("ttl") is None else Duration.parse(data["ttl"], f"{name}.ttl"),
            required_approvals=teams,
            tags=tags,
            unit=_optional_text(data.get("unit"), f"{name}.unit"),
            docs_url=_optional_text(data.get("docs_url"), f"{name}.docs_url"),
            examples=tuple(
                GoldenExample.from_dict(item, f"{name}.examples[{index}]")
                for index, item in enumerate(as_list(data.get("examples"), f"{name}.examples"))
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The canonical mapping: what is stored, diffed and (in part) fingerprinted."""
        data: dict[str, Any] = {
            "name": self.name,
            "version": str(self.version),
            "concept": self.concept,
            "description": self.description,
            "owner": self.owner,
            "entity": self.entity,
            "value_type": self.value_type.value,
            "window": str(self.window),
            "computation": self.computation.to_dict(),
            "exclusions": [e.to_dict() for e in sorted(self.exclusions, key=lambda e: e.name)],
            "ttl": str(self.ttl) if self.ttl else None,
            "required_approvals": sorted(self.required_approvals),
            "tags": sorted(self.tags),
            "unit": self.unit,
            "docs_url": self.docs_url,
            "examples": [example.to_dict() for example in self.examples],
        }
        return data

    def meaning(self) -> dict[str, Any]:
        """The fields that decide what the value means; their change needs a major version."""
        full = self.to_dict()
        return {key: full[key] for key in MEANING_FIELDS}

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the normalised meaning (term order, spacing and text fields ignored)."""
        canonical = json.dumps(self.meaning(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _optional_text(value: object, field: str) -> str | None:
    return None if value is None else as_text(value, field)
