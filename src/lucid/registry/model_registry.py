"""The model registry: the value contract on stored model versions.

Its verbs live by concept — `register` (a version with its contract), `promote` (evidence, the
gate, archiving), `freeze`, `evaluate` (observations, judgements, rollback), `history` — and
`ModelRegistry` gathers them with the reads. Every change writes its rows and its event in one
unit of work, so the stored state and the story of how it came to be never disagree.
"""

from __future__ import annotations

from lucid.contracts.value.stages import Stage
from lucid.contracts.value.versions import ModelSummary, ModelVersion, Observation
from lucid.errors import Conflict, NotFound
from lucid.registry.evaluate import Evaluations
from lucid.registry.freeze import Freezes
from lucid.registry.history import Histories
from lucid.registry.model_artifacts import load_runner
from lucid.registry.portfolio import Portfolio, portfolio
from lucid.registry.promote import Promotion
from lucid.registry.register import Registration
from lucid.registry.serving import ServedModel


class ModelRegistry(Registration, Promotion, Freezes, Evaluations, Histories):
    """The value contract on stored model versions: register, gate, observe, roll back."""

    def get_version(self, name: str, version: int | None = None) -> ModelVersion:
        """A version of `name` (default: the latest)."""
        with self._uows.read() as uow:
            return uow.models.get(name, version)

    def versions(self, name: str) -> list[ModelVersion]:
        with self._uows.read() as uow:
            found = uow.models.versions(name)
        if not found:
            raise NotFound(f"No model named {name} is registered.")
        return found

    def production_number(self, name: str) -> int | None:
        """The version number serving production (one indexed read), None when none does."""
        with self._uows.read() as uow:
            return uow.models.production(name)

    def production_version(self, name: str) -> ModelVersion | None:
        with self._uows.read() as uow:
            serving = uow.models.production(name)
            return None if serving is None else uow.models.get(name, serving)

    def list_models(self) -> list[ModelSummary]:
        with self._uows.read() as uow:
            return uow.models.summaries()

    def observations(self, name: str, version: int | None = None) -> list[Observation]:
        with self._uows.read() as uow:
            return uow.models.observations(name, version)

    def load_model(
        self, name: str, stage: Stage | str = Stage.PRODUCTION, version: int | None = None
    ) -> ServedModel:
        """A callable over feature rows predicting with the hash-checked artifact of `name` at
        `stage` (or the given `version`); `.for_entities(ids)` reads the pinned features from
        the online store."""
        chosen: ModelVersion | None
        if version is not None:
            chosen = self.get_version(name, version)
        else:
            wanted = Stage(stage)
            matching = [v for v in self.versions(name) if v.stage is wanted]
            chosen = matching[-1] if matching else None
            if chosen is None:
                raise Conflict(f"{name} has no {wanted.value} version to serve.")
        runner = load_runner(chosen.artifact, self._artifacts, allow_pickle=self._allow_pickle)
        return ServedModel(
            chosen.name,
            chosen.version,
            chosen.features,
            runner,
            self._features,
            inputs=chosen.inputs,
            request_inputs=chosen.request_inputs,
        )

    def portfolio(self, offline_metric: str | None = None) -> Portfolio:
        """The portfolio figures (see `lucid.registry.portfolio`)."""
        return portfolio(self._uows, offline_metric)
