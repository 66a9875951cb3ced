"""The scorecard from its sources: measured figures, nulls when nothing can be measured."""

from __future__ import annotations

from typing import Any

from lucid.contracts.semantic import AuditReport, ConceptContradiction, SkewStats
from lucid.features.serving import SkewReport
from lucid.memory.scorecard import SCORECARD_KEYS, IncidentFigures, measure_scorecard
from lucid.registry.portfolio import Portfolio


class Features:
    def __init__(self, definitions: int, contradictory: int, served: int, mismatches: int):
        self._definitions = definitions
        self._contradictory = contradictory
        self._stats = SkewStats("all", served, mismatches, 0, 0.0)

    def definitions(self) -> list[Any]:
        return [object()] * self._definitions

    def audit(self) -> AuditReport:
        refs: tuple[Any, ...] = tuple(f"f{i}" for i in range(self._contradictory))
        return AuditReport((ConceptContradiction("activity", None, (), refs, ()),))

    def skew_report(self) -> SkewReport:
        return SkewReport([self._stats], self._stats, 1e-6)


class Registry:
    def __init__(self, production: int, without: int, correlation: float | None) -> None:
        self._portfolio = Portfolio(production, without, "auc", correlation, (), ())

    def portfolio(self, offline_metric: str | None = None) -> Portfolio:
        return self._portfolio


class Incidents:
    def incident_figures(self) -> IncidentFigures:
        return IncidentFigures(2.5, 1.0, 0, 100.0, 1)


def test_every_figure_is_null_when_nothing_exists() -> None:
    card = measure_scorecard(Features(0, 0, 0, 0), Registry(0, 0, None)).to_dict()
    assert list(card) == list(SCORECARD_KEYS) and set(card.values()) == {None}


def test_the_figures_are_measured_from_the_sources() -> None:
    card = measure_scorecard(Features(5, 3, 400, 6), Registry(4, 1, 0.72), Incidents())
    assert card.to_dict() == {
        "contradictory_definitions": 3,
        "training_serving_skew_pct": 1.5,
        "models_without_impact_pct": 25.0,
        "tech_business_correlation": 0.72,
        "detection_delay_days": 2.5,
        "time_to_recovery_days": 1.0,
        "critical_incidents_undetected": 0,
        "failures_documented_pct": 100.0,
        "repeated_errors": 1,
    }
