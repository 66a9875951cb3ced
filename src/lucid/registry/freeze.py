"""Freezing a model: every promotion of it is blocked until it is unfrozen (by hand, or by
monitoring's critical action)."""

from __future__ import annotations

from lucid.contracts.identities import normalise_identity
from lucid.contracts.registry_events import ModelFrozen, ModelUnfrozen
from lucid.contracts.value.fields import text
from lucid.errors import Conflict
from lucid.registry.dependencies import RegistryDependencies, record


class Freezes(RegistryDependencies):
    """`freeze` and `unfreeze`."""

    def freeze(self, name: str, *, reason: str, actor: str, source: str = "hand") -> None:
        """Block every promotion of `name` until `unfreeze`; `source` is hand or monitoring.
        Called inside a caller's unit of work, it joins it."""
        why, who = text(reason, "reason"), normalise_identity(actor, "actor")
        with self._uows() as uow:
            if uow.models.frozen_reason(name) is not None:
                raise Conflict(f"{name} is already frozen; nothing changed.")
            uow.models.set_frozen(name, why, who)
            record(uow, ModelFrozen(name, why, source), who, why, self._clock())

    def unfreeze(self, name: str, *, actor: str, rationale: str) -> None:
        """Lift the freeze of `name`."""
        who, why = normalise_identity(actor, "actor"), text(rationale, "rationale")
        with self._uows() as uow:
            if uow.models.frozen_reason(name) is None:
                raise Conflict(f"{name} is not frozen; nothing changed.")
            uow.models.set_frozen(name, None, None)
            record(uow, ModelUnfrozen(name), who, why, self._clock())
