"""What experiments ask of the model registry: the versions under test, their predictions, and
a place for the evidence a concluded experiment produces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from lucid.contracts.value import BusinessImpact, Evidence, Stage


class TestedVersion(Protocol):
    """A registered version, as far as an experiment needs it."""

    @property
    def version(self) -> int: ...

    @property
    def stage(self) -> Stage: ...

    @property
    def impact(self) -> BusinessImpact: ...

    @property
    def label(self) -> str: ...


class Predictor(Protocol):
    """A loaded version: predictions for feature rows, or for entities read online."""

    def __call__(self, rows: Sequence[Mapping[str, float]]) -> list[Any]: ...

    def for_entities(self, entity_ids: Sequence[str]) -> list[Any]: ...


class ModelVersions(Protocol):
    """The model registry, seen from an experiment."""

    def production_version(self, name: str) -> TestedVersion | None: ...

    def get_version(self, name: str, version: int | None = None) -> TestedVersion: ...

    def load_model(self, name: str, *, version: int | None = None) -> Predictor: ...

    def attach_evidence(
        self, name: str, version: int, evidence: Evidence, *, actor: str, rationale: str
    ) -> object:
        """Attach `evidence`, a record Lucid produced, to the version as it is (origin kept);
        inside an open unit of work it joins it. Bootstrap wires it to the registry's
        `attach_produced_evidence` (`lucid.registry.produced`), never to the public
        `attach_evidence`, which marks every record external."""
        ...
