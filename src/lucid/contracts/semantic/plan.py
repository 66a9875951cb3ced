"""Versions derived from the diff: which fields changed, the bump they require, and the plan item
of a desired definition against the stored versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from lucid.contracts.semantic.definition import (
    DEFINITION_FIELDS,
    GOVERNANCE_FIELDS,
    MEANING_FIELDS,
    OPTIONAL_FIELDS,
    FeatureDefinition,
)
from lucid.contracts.semantic.versions import Bump, FeatureRef, Version


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: Any
    new: Any
    bump: Bump


def _bump_of(field_name: str) -> Bump:
    if field_name in MEANING_FIELDS:
        return Bump.MAJOR
    if field_name in OPTIONAL_FIELDS or field_name in GOVERNANCE_FIELDS:
        return Bump.MINOR
    return Bump.PATCH


def diff_definitions(old: FeatureDefinition, new: FeatureDefinition) -> list[FieldChange]:
    """Every field that differs, with the version bump its change needs."""
    before, after = old.to_dict(), new.to_dict()
    changes = []
    for key in DEFINITION_FIELDS:
        if key in ("name", "version") or before.get(key) == after.get(key):
            continue
        changes.append(FieldChange(key, before.get(key), after.get(key), _bump_of(key)))
    return changes


def required_bump(changes: Sequence[FieldChange]) -> Bump:
    return max((change.bump for change in changes), key=lambda bump: bump.value, default=Bump.NONE)


class PlanAction(Enum):
    ADD = "add"
    NEW_VERSION = "new version"
    KEEP = "keep"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class PlanItem:
    """What `apply` would do with one definition, and why."""

    ref: FeatureRef
    action: PlanAction
    changes: tuple[FieldChange, ...] = ()
    required: Bump = Bump.NONE
    previous: Version | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": str(self.ref),
            "action": self.action.value,
            "previous": str(self.previous) if self.previous else None,
            "required_bump": self.required.label if self.required is not Bump.NONE else None,
            "changes": [
                {"field": c.field, "old": c.old, "new": c.new, "bump": c.bump.label}
                for c in self.changes
            ],
            "reason": self.reason,
        }


def plan_definition(desired: FeatureDefinition, stored: Sequence[FeatureDefinition]) -> PlanItem:
    """Decide what applying `desired` means, given the stored versions of the same name."""
    ref = desired.ref
    same = [d for d in stored if d.version == desired.version]
    if same:
        changes = tuple(diff_definitions(same[0], desired))
        if not changes:
            return PlanItem(ref, PlanAction.KEEP, reason="identical to the stored version")
        needed = required_bump(changes)
        latest = max(d.version for d in stored)
        return PlanItem(
            ref,
            PlanAction.REFUSE,
            changes,
            needed,
            desired.version,
            f"{ref} is already stored and this file changes "
            f"{', '.join(c.field for c in changes)}; a {needed.label} change needs version "
            f"{latest.bumped(needed)} (nothing is changed under an existing version)",
        )
    if not stored:
        return PlanItem(ref, PlanAction.ADD, reason="new feature")
    latest_definition = max(stored, key=lambda d: d.version)
    latest = latest_definition.version
    if desired.version < latest:
        return PlanItem(
            ref,
            PlanAction.REFUSE,
            previous=latest,
            reason=f"version {desired.version} is older than the stored {latest}; versions only "
            "go forward",
        )
    changes = tuple(diff_definitions(latest_definition, desired))
    needed = required_bump(changes)
    if not changes:
        return PlanItem(
            ref,
            PlanAction.REFUSE,
            previous=latest,
            reason=f"nothing changed since {desired.name}@{latest}; keep that version",
        )
    given = desired.version.bump_from(latest)
    if given.value < needed.value:
        return PlanItem(
            ref,
            PlanAction.REFUSE,
            changes,
            needed,
            latest,
            f"changing {', '.join(c.field for c in changes if c.bump is needed)} is a "
            f"{needed.label} change: {desired.name}@{latest} must become at least "
            f"{latest.bumped(needed)}, not {desired.version}",
        )
    return PlanItem(ref, PlanAction.NEW_VERSION, changes, needed, latest, f"{given.label} bump")
