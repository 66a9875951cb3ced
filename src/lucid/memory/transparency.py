"""Who is named as a stakeholder, and who can read the dashboard: the transparency figure.

Stakeholders are the people and teams the contracts name: every stored monitoring policy's
reporting stakeholders and the teams its thresholds alert, and the owner of every registered
model version (who registered it). Readers are the holders of a live (non-revoked) API token;
every role reads. The figure is the share of stakeholders who are readers
(`lucid.contracts.access.transparency_pct`).
"""

from __future__ import annotations

from typing import Protocol

from lucid.contracts.access import Principal, transparency_pct
from lucid.contracts.value.versions import ModelSummary, ModelVersion
from lucid.ports.unit_of_work import UnitsOfWork


class ModelOwners(Protocol):
    """What the figure reads of the registry: its models and their versions."""

    def list_models(self) -> list[ModelSummary]: ...

    def versions(self, name: str) -> list[ModelVersion]: ...


class StakeholderAccess:
    """The stakeholders named in the project's policies and contracts, and their access."""

    def __init__(self, uows: UnitsOfWork, registry: ModelOwners) -> None:
        self._uows = uows
        self._registry = registry

    def stakeholders(self) -> list[str]:
        """Every name, once, in a stable order: policies first, then model owners."""
        names: list[str] = []
        with self._uows.read() as uow:
            for model in uow.monitoring.policy_models():
                policy = uow.monitoring.stored_policy(model)
                if policy is not None:
                    names += [*policy.reporting.stakeholders, *policy.approving_teams]
        for summary in self._registry.list_models():
            names += [version.registered_by for version in self._registry.versions(summary.name)]
        return list(dict.fromkeys(name.strip() for name in names if name.strip()))

    def readers(self) -> list[Principal]:
        """The principals of every live token."""
        with self._uows.read() as uow:
            tokens = uow.access.tokens()
        return [token.principal for token in tokens if token.revoked_at is None]

    def transparency_pct(self) -> float | None:
        return transparency_pct(self.stakeholders(), self.readers())
