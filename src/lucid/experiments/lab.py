"""`Experiments`: the A/B experiments of a project, their verbs gathered over its ports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from lucid.contracts.experiments.analysis import Analysis
from lucid.contracts.experiments.assignment import DEFAULT_CHALLENGER_SHARE
from lucid.contracts.experiments.design import Design
from lucid.contracts.value import Evidence
from lucid.experiments import conclude, design, exposures, outcomes
from lucid.experiments.exposures import Served
from lucid.experiments.state import analysis_of, daily_looks, stored
from lucid.experiments.versions import ModelVersions
from lucid.ports.unit_of_work import UnitsOfWork


class Experiments:
    """A/B experiments between a model's production version and a challenger."""

    def __init__(
        self, uows: UnitsOfWork, models: ModelVersions, *, clock: Callable[[], datetime]
    ) -> None:
        self._uows = uows
        self._models = models
        self._clock = clock

    def create(
        self,
        experiment_id: str,
        *,
        model: str,
        challenger: int,
        actor: str,
        rationale: str,
        minimum_detectable_effect: float | None = None,
        baseline: float | None = None,
        salt: str | None = None,
        challenger_share: float = DEFAULT_CHALLENGER_SHARE,
        alpha: float | None = None,
        power: float = 0.8,
        sequential: bool = False,
        metric_sd: float | None = None,
        covariate_correlation: float = 0.0,
        entities_per_day: float | None = None,
        planned_days: float | None = None,
    ) -> Design:
        """Design an experiment (see `lucid.experiments.design.create` and `Plan`); the
        design's `plan_summary()` gives the minimum sample per arm, in all, and the days."""
        plan = design.Plan(
            minimum_detectable_effect,
            baseline=baseline,
            salt=salt,
            challenger_share=challenger_share,
            alpha=alpha,
            power=power,
            sequential=sequential,
            metric_sd=metric_sd,
            covariate_correlation=covariate_correlation,
            entities_per_day=entities_per_day,
            planned_days=planned_days,
        )
        return design.create(
            self._uows,
            self._models,
            self._clock,
            experiment_id,
            model=model,
            challenger=challenger,
            plan=plan,
            actor=actor,
            rationale=rationale,
        )

    def expose(
        self, experiment_id: str, rows: Iterable[Mapping[str, Any]], *, actor: str
    ) -> dict[str, int]:
        """Log exposures (see `lucid.experiments.exposures.expose`)."""
        return exposures.expose(self._uows, self._clock, experiment_id, rows, actor=actor)

    def record_outcomes(
        self, experiment_id: str, rows: Iterable[Mapping[str, Any]], *, actor: str
    ) -> dict[str, int]:
        """Log outcomes (see `lucid.experiments.outcomes.record_outcomes`)."""
        return outcomes.record_outcomes(self._uows, self._clock, experiment_id, rows, actor=actor)

    def serve(
        self,
        experiment_id: str,
        entity_ids: Sequence[str],
        *,
        actor: str,
        rows: Sequence[Mapping[str, float]] | None = None,
    ) -> list[Served]:
        """Predict with each entity's arm and log the exposures (see `exposures.serve`)."""
        return exposures.serve(
            self._uows, self._models, self._clock, experiment_id, entity_ids, actor=actor, rows=rows
        )

    def conclude(self, experiment_id: str, *, actor: str, rationale: str) -> Evidence:
        """Close it and attach its evidence (see `lucid.experiments.conclude.conclude`)."""
        return conclude.conclude(
            self._uows, self._models, self._clock, experiment_id, actor=actor, rationale=rationale
        )

    # -- reading -----------------------------------------------------------------------------

    def design(self, experiment_id: str) -> Design:
        with self._uows.read() as uow:
            return stored(uow, experiment_id)[0]

    def status(self, experiment_id: str) -> Analysis:
        """The analysis at this look (see `lucid.contracts.experiments.analyse`)."""
        with self._uows.read() as uow:
            return analysis_of(uow, stored(uow, experiment_id)[0])

    def looks(self, experiment_id: str) -> list[tuple[str, Analysis]]:
        """The analysis at the end of each UTC day (`YYYY-MM-DD`) with logged data."""
        with self._uows.read() as uow:
            return daily_looks(uow, stored(uow, experiment_id)[0])

    def running_for(self, model: str) -> str | None:
        """The id of the newest running experiment of `model`, None when none runs (one read:
        the prediction path asks it on every request)."""
        with self._uows.read() as uow:
            return uow.experiments.running_for(model)

    def overview(self) -> list[dict[str, Any]]:
        """Every experiment: its arms, status and decision, oldest first."""
        with self._uows.read() as uow:
            return uow.experiments.overview()
