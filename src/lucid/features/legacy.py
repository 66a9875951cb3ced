"""Importing teams' existing definitions as legacy: stored, never approved, so that the audit
can compare them with the canonical ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lucid.contracts.events import NewEvent
from lucid.contracts.semantic.events import LegacyFeatureImported
from lucid.contracts.semantic.governance import Status
from lucid.contracts.semantic.versions import FeatureRef
from lucid.errors import Conflict, InvalidInput
from lucid.features.approve import feature_subject
from lucid.features.definition_files import DefinitionSet
from lucid.ports.unit_of_work import UnitsOfWork


def import_legacy(
    uows: UnitsOfWork,
    definitions: DefinitionSet,
    *,
    actor: str,
    rationale: str,
    clock: Callable[[], datetime],
) -> list[FeatureRef]:
    """Store the definitions as legacy; one already stored identically is skipped, one stored
    with another content refuses the whole import."""
    if definitions.sources:
        raise InvalidInput("sources", "import-legacy takes feature definitions only")
    imported = []
    with uows() as uow:
        at = clock()
        news = []
        for definition in definitions.features:
            stored = uow.features.find(definition.ref)
            if stored is not None:
                if stored.definition == definition:
                    continue
                raise Conflict(
                    f"Nothing was imported: {definition.ref} is already stored with another "
                    "content."
                )
            uow.features.add_definition(
                definition, status=Status.LEGACY, origin="legacy", actor=actor, at=at
            )
            news.append(
                NewEvent.of(
                    LegacyFeatureImported(
                        name=definition.name,
                        version=str(definition.version),
                        concept=definition.concept,
                        owner=definition.owner,
                        fingerprint=definition.fingerprint,
                        spec=definition.to_dict(),
                    ),
                    actor=actor,
                    subject=feature_subject(definition.ref),
                    rationale=rationale,
                    occurred_at=clock(),
                )
            )
            imported.append(definition.ref)
        uow.record_many(news)
    return imported
