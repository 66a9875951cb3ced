"""The scorecard from its sources: measured figures, nulls when nothing can be measured."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import lucid.contracts.registry_events  # noqa: F401  (registers the registry's event types)
from lucid.contracts.access import Principal, Role, transparency_pct
from lucid.contracts.events import GENESIS_HASH, NewEvent, Subject, seal
from lucid.contracts.override_share import OverrideShares, tally_promotions
from lucid.contracts.semantic import (
    AuditReport,
    ConceptContradiction,
    SkewStats,
    SkewSums,
    added_sums,
)
from lucid.memory.scorecard import (
    FIGURE_KEYS,
    SCORECARD_KEYS,
    TRANSPARENCY_KEY,
    IncidentFigures,
    measure_scorecard,
)
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

    def overall_skew(self, *, recompute: bool = False) -> SkewStats:
        return self._stats


class Registry:
    def __init__(
        self, production: int, without: int, correlation: float | None, bases: tuple[str, ...] = ()
    ) -> None:
        self._portfolio = Portfolio(production, without, "auc", correlation, (), ())
        self._bases = bases

    def portfolio(self, offline_metric: str | None = None) -> Portfolio:
        return self._portfolio

    def override_shares(self, period: str = "month") -> OverrideShares:
        """One production promotion of `churn` per basis, a day apart."""
        events, prev = [], GENESIS_HASH
        for seq, basis in enumerate(self._bases, start=1):
            at = datetime(2026, 1, seq, tzinfo=UTC)
            payload = {"name": "churn", "version": seq, "to_stage": "production", "basis": basis}
            new = NewEvent("ModelPromoted", "ana", Subject("model", "churn"), payload, "r", at)
            events.append(seal(new, seq=seq, id=str(seq), recorded_at=at, prev_hash=prev))
            prev = events[-1].hash
        return tally_promotions(events, period)


class Access:
    def transparency_pct(self) -> float | None:
        return 75.0


class Incidents:
    def incident_figures(self) -> IncidentFigures:
        return IncidentFigures(2.5, 1.0, 0, 100.0, 1)


def test_every_figure_is_null_when_nothing_exists() -> None:
    card = measure_scorecard(Features(0, 0, 0, 0), Registry(0, 0, None)).to_dict()
    assert list(card) == list(FIGURE_KEYS) and set(card.values()) == {None}
    assert len(SCORECARD_KEYS) == 9  # issue 8's keys; transparency and override share after them
    assert FIGURE_KEYS[9:] == (TRANSPARENCY_KEY, "override_share_pct")


def test_the_figures_are_measured_from_the_sources() -> None:
    registry = Registry(4, 1, 0.72, ("evidence", "override", "evidence", "evidence"))
    card = measure_scorecard(Features(5, 3, 400, 6), registry, Incidents(), Access())
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
        "transparency_pct": 75.0,
        "override_share_pct": 25.0,
    }


def reader(person: str, role: Role = Role.VIEWER, teams: tuple[str, ...] = ()) -> Principal:
    return Principal("t", person, role, teams)


def test_transparency_is_the_share_of_named_stakeholders_who_can_read() -> None:
    assert transparency_pct([], [reader("ana")]) is None
    assert transparency_pct(["  "], []) is None
    named = ["ana", "Bea ", "data_team", "business_team"]
    assert transparency_pct(named, []) == 0.0
    # By name (trimmed, any case) and, for a team, by a holder approving for it.
    holders = [reader("ANA"), reader("bea"), reader("mia", Role.APPROVER, ("data_team",))]
    assert transparency_pct(named, holders) == 75.0
    # A name listed twice counts once; a reader who is no stakeholder changes nothing.
    assert transparency_pct(["ana", "ana", "zoe"], [reader("ana"), reader("vic")]) == 50.0


def test_skew_sums_of_two_stretches_add_up_to_the_stats_of_the_whole() -> None:
    pairs = [(1.0, 1.0), (None, 2.0), (3.0, 2.0), ("a", "a"), (None, None), (0.5, 1.0)]
    whole = SkewStats.of("f@1.0.0", pairs, 1e-6)
    first, rest = SkewSums.of("f@1.0.0", pairs[:2], 1e-6), SkewSums.of("f@1.0.0", pairs[2:], 1e-6)
    [added] = added_sums([first], [rest])
    assert added.stats == whole and (whole.served, whole.mismatches, whole.missing) == (6, 3, 2)
    other = SkewSums.of("g@1.0.0", pairs[:1], 1e-6)
    assert [s.feature for s in added_sums([other], [first, rest])] == ["f@1.0.0", "g@1.0.0"]
