"""The port of the stored experiments: what the use cases read and write in a unit of work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from lucid.contracts.experiments.design import Design
from lucid.contracts.experiments.statistics import ArmStats
from lucid.contracts.value import Evidence

Counts = tuple[int, int, float, float, int, float, float, float]
"""One arm's `ArmStats` fields (exposed, measured, sums...) added on one day."""


class ExperimentRepository(Protocol):
    """A/B experiments, their exposures and their per-entity outcomes."""

    def get(self, experiment_id: str) -> tuple[Design, str] | None:
        """The experiment's design and status (`running` or `concluded`), None if unknown."""
        ...

    def resolve(self, experiment_id: str) -> str | None:
        """The stored id `experiment_id` names: itself, or the one id starting with it (at
        least `MIN_PREFIX` characters; a prefix of several ids is refused naming them)."""
        ...

    def add(self, design: Design, *, created_at: str, created_by: str) -> None:
        """Store a new running experiment (the caller checked its id is free)."""
        ...

    def conclude(
        self, experiment_id: str, *, concluded_at: str, decision: str, evidence: Evidence
    ) -> None: ...

    def running_for(self, model: str) -> str | None:
        """The id of `model`'s newest running experiment, None when none runs."""
        ...

    def overview(self) -> list[dict[str, Any]]:
        """Every experiment (id, model, versions, status, decision, created_at), oldest first."""
        ...

    def exposed_among(self, experiment_id: str, entities: Sequence[str]) -> set[str]:
        """Which of `entities` were already exposed in the experiment."""
        ...

    def add_exposures(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Store exposures (experiment_id, entity_id, arm, version, exposed_at, covariate)."""
        ...

    def outcomes_taken(self, experiment_id: str, entities: Sequence[str]) -> set[tuple[str, str]]:
        """The (entity, metric) pairs of `entities` that already have an outcome."""
        ...

    def add_outcomes(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Store outcomes (experiment_id, entity_id, metric, value, observed_at)."""
        ...

    def arm_stats(self, experiment_id: str, metric: str) -> dict[str, ArmStats]:
        """Per arm: entities exposed, and the sufficient statistics of their `metric`
        outcomes and covariates (see `ArmStats`), from one aggregate."""
        ...

    def daily_arm_stats(self, experiment_id: str, metric: str) -> list[tuple[str, str, Counts]]:
        """Per UTC day (`YYYY-MM-DD`) and arm, what the day added to `arm_stats`: exposures
        by their day, outcomes by the later of their observation and their exposure."""
        ...

    def guardrail_stats(self, experiment_id: str, metric: str) -> dict[str, ArmStats]:
        """The challenger's statistics (count, sum, sum of squares) of every other metric
        measured (the guardrails), from one aggregate."""
        ...
