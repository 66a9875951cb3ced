"""The port of the stored models: what the use cases read and write in a unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lucid.contracts.value.evidence import Evidence
from lucid.contracts.value.impact import BusinessImpact
from lucid.contracts.value.stages import Stage
from lucid.contracts.value.versions import ModelSummary, ModelVersion, Observation


class ModelRepository(Protocol):
    """Model versions, their stages, contracts, evidence and freezes.

    A read of an unknown model or version raises `NotFound` with a sentence; a version whose
    stored contract does not hold raises `Conflict` where a `ModelVersion` is returned.
    """

    # -- versions ---------------------------------------------------------------------------

    def get(self, name: str, version: int | None = None) -> ModelVersion:
        """A version of `name` (default: the latest)."""
        ...

    def gate_inputs(self, name: str, version: int) -> tuple[Stage, str, ModelVersion | None]:
        """What the promotion gate reads of a version: its stage, who registered it, and the
        version itself — None when its stored contract does not hold."""
        ...

    def versions(self, name: str) -> list[ModelVersion]:
        """Every version of `name`, oldest first (empty for an unknown name)."""
        ...

    def latest_number(self, name: str) -> int | None:
        """The highest version number of `name`, None when it has none."""
        ...

    def add_model(self, name: str, created_at: str) -> None: ...

    def add_version(self, version: ModelVersion) -> None:
        """Store a new version (its production sequence unset)."""
        ...

    def set_evidence(self, name: str, version: int, evidence: Sequence[Evidence]) -> None:
        """Replace the version's evidence records with `evidence`."""
        ...

    def set_stage(
        self, name: str, version: int, stage: Stage, *, production_seq: int | None = None
    ) -> None:
        """Move a version to `stage`; `production_seq` (the promoting event's seq) is kept
        when given."""
        ...

    def retire_rolled_back(self, name: str, version: int) -> None:
        """Archive a version that was rolled back, marked so it is never returned to."""
        ...

    # -- production -------------------------------------------------------------------------

    def production(self, name: str) -> int | None:
        """The version serving production, None when none does."""
        ...

    def previous_production(self, name: str, serving: int) -> int | None:
        """The version that served production last before `serving` and was never rolled
        back, None when there is none."""
        ...

    def production_contracts(self) -> list[BusinessImpact | None]:
        """The contract of each production version, None where it does not hold."""
        ...

    # -- models -----------------------------------------------------------------------------

    def summaries(self) -> list[ModelSummary]:
        """Every registered model, by name."""
        ...

    def frozen_reason(self, name: str) -> str | None:
        """Why `name` is frozen, None when it is not."""
        ...

    def set_frozen(self, name: str, reason: str | None, by: str | None) -> None:
        """Freeze `name` with `reason` by `by`, or lift its freeze with None."""
        ...

    # -- observations -----------------------------------------------------------------------

    def add_observation(
        self, observation: Observation, observed_by: str, event_seq: int
    ) -> None: ...

    def observations(self, name: str, version: int | None = None) -> list[Observation]:
        """The observations of `name` (of one version when given), oldest first."""
        ...

    def latest_observations(self, name: str, version: int) -> dict[str, tuple[float, str]]:
        """metric → (value, period) of the newest observation of each metric of a version."""
        ...
