"""The registry as Lucid's own use cases see it (experiments, shadow comparisons): the
`ModelVersions` port of `lucid.experiments.versions`, whose `attach_evidence` keeps a record
Lucid produced as it is (origin `lucid`). The registry's public `attach_evidence`, which the
CLI, HTTP and SDK reach, marks every record external."""

from __future__ import annotations

from lucid.contracts.value.evidence import Evidence
from lucid.contracts.value.versions import ModelVersion
from lucid.registry.model_registry import ModelRegistry
from lucid.registry.serving import ServedModel


class ProducedEvidence:
    """`ModelRegistry` for a use case that produces evidence from Lucid's own logs."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    def production_version(self, name: str) -> ModelVersion | None:
        return self._registry.production_version(name)

    def get_version(self, name: str, version: int | None = None) -> ModelVersion:
        return self._registry.get_version(name, version)

    def load_model(self, name: str, *, version: int | None = None) -> ServedModel:
        return self._registry.load_model(name, version=version)

    def attach_evidence(
        self, name: str, version: int, evidence: Evidence, *, actor: str, rationale: str
    ) -> ModelVersion:
        """Attach a record Lucid produced (see `Promotion.attach_produced_evidence`)."""
        return self._registry.attach_produced_evidence(
            name, version, evidence, actor=actor, rationale=rationale
        )
