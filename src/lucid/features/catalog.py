"""Reading the semantic contract: sources, stored definitions, pinned references, the audit."""

from __future__ import annotations

from lucid.contracts.semantic.audit import AuditReport, audit
from lucid.contracts.semantic.governance import Governed, Status
from lucid.contracts.semantic.sources import Source
from lucid.contracts.semantic.versions import FeatureRef
from lucid.errors import NotFound
from lucid.ports.unit_of_work import UnitsOfWork


class DefinitionCatalog:
    """What is stored of the semantic contract, read in one consistent state per call."""

    def __init__(self, uows: UnitsOfWork) -> None:
        self._uows = uows

    def sources(self) -> dict[str, Source]:
        with self._uows.read() as uow:
            return uow.features.sources()

    def definitions(self) -> list[Governed]:
        with self._uows.read() as uow:
            return uow.features.governed()

    def get(self, reference: str) -> Governed:
        """`name@version`, or `name` for its canonical (else latest) version."""
        if "@" in reference:
            return self.resolve(FeatureRef.parse(reference))
        with self._uows.read() as uow:
            versions = uow.features.governed(name=reference)
        if not versions:
            raise NotFound(f"Feature {reference} is not stored.")
        approved = [g for g in versions if g.status is Status.APPROVED]
        return approved[-1] if approved else versions[-1]

    def resolve(self, ref: FeatureRef) -> Governed:
        """The stored definition of a pinned version."""
        with self._uows.read() as uow:
            found = uow.features.find(ref)
        if found is None:
            raise NotFound(f"Feature {ref} is not stored.")
        return found

    def audit(self) -> AuditReport:
        return audit(self.definitions())
