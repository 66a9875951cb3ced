"""`ShadowComparisons`: the verbs of shadow comparisons for the SDK, the CLI and the service."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from lucid.contracts.experiments.shadow import DEFAULT_MINIMUM_PAIRS, ShadowDesign
from lucid.contracts.value import Evidence
from lucid.experiments.shadow import backtest as backtests
from lucid.experiments.shadow import comparisons
from lucid.experiments.shadow.backtest import TrainingRows
from lucid.experiments.versions import ModelVersions
from lucid.ports.unit_of_work import UnitsOfWork


class ShadowComparisons:
    """A challenger scored in production's shadow, compared on the same rows once outcomes
    matured; the paired tests' predictive evidence goes to the challenger."""

    def __init__(
        self,
        uows: UnitsOfWork,
        models: ModelVersions,
        training_rows: TrainingRows,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._uows = uows
        self._models = models
        self._training_rows = training_rows
        self._clock = clock

    def start(
        self,
        comparison_id: str,
        *,
        model: str,
        challenger: int,
        actor: str,
        rationale: str,
        metrics: Iterable[str] = ("auc",),
        minimum_pairs: int = DEFAULT_MINIMUM_PAIRS,
        budget_share: float = 0.05,
    ) -> ShadowDesign:
        """Start a comparison (see `comparisons.start`)."""
        return comparisons.start(
            self._uows,
            self._models,
            self._clock,
            comparison_id,
            model=model,
            challenger=challenger,
            actor=actor,
            rationale=rationale,
            metrics=metrics,
            minimum_pairs=minimum_pairs,
            budget_share=budget_share,
        )

    def log(self, comparison_id: str, rows: Iterable[Mapping[str, Any]], *, actor: str) -> int:
        """Log the challenger's scores of production predictions (see `comparisons.log_scores`)."""
        return comparisons.log_scores(self._uows, self._clock, comparison_id, rows, actor=actor)

    def status(self, comparison_id: str) -> dict[str, Any]:
        """Pairs logged and matured, whether it can conclude, estimates so far."""
        return comparisons.status(self._uows, comparison_id)

    def conclude(self, comparison_id: str, *, actor: str, rationale: str) -> list[Evidence]:
        """Close it and attach its evidence, one record per metric (see `comparisons.conclude`)."""
        return comparisons.conclude(
            self._uows, self._models, self._clock, comparison_id, actor=actor, rationale=rationale
        )

    def backtest(
        self,
        model: str,
        challenger: int,
        *,
        labels: Any,
        actor: str,
        rationale: str,
        metrics: Iterable[str] = ("auc",),
        minimum_pairs: int = DEFAULT_MINIMUM_PAIRS,
        budget_share: float = 0.05,
    ) -> list[Evidence]:
        """Score the same labelled point-in-time rows with both versions (see `backtest`)."""
        return backtests.backtest(
            self._uows,
            self._models,  # type: ignore[arg-type]
            self._training_rows,
            self._clock,
            model,
            challenger,
            labels=labels,
            actor=actor,
            rationale=rationale,
            metrics=metrics,
            minimum_pairs=minimum_pairs,
            budget_share=budget_share,
        )

    def design(self, comparison_id: str) -> ShadowDesign:
        with self._uows.read() as uow:
            return comparisons.stored(uow, comparison_id)[0]

    def running_for(self, model: str) -> str | None:
        """The id of `model`'s running comparison, None when none runs (one read: the
        prediction path asks it when it routes a model)."""
        with self._uows.read() as uow:
            return uow.shadow.running_for(model)

    def overview(self) -> list[dict[str, Any]]:
        """Every comparison: its versions and status, oldest first."""
        with self._uows.read() as uow:
            return uow.shadow.overview()
