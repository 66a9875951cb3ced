"""The scorecard: the seed's tables 2 and 3, measured from the stores and the log, never typed.

Every figure is None while there is nothing to measure. Measured today:
- `contradictory_definitions`: active feature definitions contradicting another of the same
  concept (`FeatureStore.audit`); None with no definition stored;
- `training_serving_skew_pct`: served feature values differing from their offline
  recomputation, in percent of every logged served value (`FeatureStore.overall_skew`: each
  feature's sums kept with the position of the last served value they cover, only values
  logged after it recomputed and added; `recompute` measures it from scratch); None when
  nothing was served;
- `models_without_impact_pct`: production models without a valid impact contract, in percent
  (the registry's portfolio); None with no production model;
- `tech_business_correlation`: Pearson's r of offline-metric gains and measured business gains
  across successive measured versions (the portfolio); None with fewer than 3 pairs.

The incident figures (`detection_delay_days`, `time_to_recovery_days`,
`critical_incidents_undetected`, `failures_documented_pct`, `repeated_errors`) come from an
`IncidentSource`: `lucid.memory.incident_lifecycle.Incidents`, whose rules are stated in
`lucid.contracts.incidents.incident_figures`.

One figure comes after the nine keys of issue 8 (`lucid.contracts.scorecard`, with the labels):
`transparency_pct`, the seed's transparency — the share of stakeholders named in monitoring
policies and model contracts who hold at least viewer access (`lucid.memory.transparency`);
None when no stakeholder is named.

And one after it (issue 22): `override_share_pct`, the production promotions an approver let
through by override, in percent of every production promotion recorded in the event log
(`lucid.contracts.override_share`, every model and the whole history); None with none. The
per-model-and-period table behind it is `ModelRegistry.override_shares`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from lucid.contracts.incidents.figures import IncidentFigures
from lucid.contracts.override_share import OverrideShares
from lucid.contracts.scorecard import (
    FIGURE_KEYS,
    INCIDENT_KEYS,
    OVERRIDE_SHARE_KEY,
    SCORECARD_KEYS,
    SCORECARD_LABELS,
    TRANSPARENCY_KEY,
)
from lucid.contracts.semantic import AuditReport, SkewStats

__all__ = [
    "FIGURE_KEYS",
    "INCIDENT_KEYS",
    "OVERRIDE_SHARE_KEY",
    "SCORECARD_KEYS",
    "SCORECARD_LABELS",
    "TRANSPARENCY_KEY",
    "FeatureFigures",
    "IncidentFigures",
    "IncidentSource",
    "PortfolioFigures",
    "PortfolioSource",
    "Scorecard",
    "TransparencySource",
    "measure_scorecard",
]


class IncidentSource(Protocol):
    """The seam for the incidents part of the loop: its figures, measured from its records."""

    def incident_figures(self) -> IncidentFigures: ...

    def figures_valid_until(self, moment: datetime) -> datetime | None: ...


class FeatureFigures(Protocol):
    """What the scorecard asks of the feature store."""

    def definitions(self) -> Sequence[Any]: ...

    def audit(self) -> AuditReport: ...

    def overall_skew(self, *, recompute: bool = False) -> SkewStats: ...


class TransparencySource(Protocol):
    """What the scorecard asks of access control: the share of stakeholders who can read."""

    def transparency_pct(self) -> float | None: ...


class PortfolioFigures(Protocol):
    """The registry's portfolio, as far as the scorecard reads it."""

    @property
    def production_models(self) -> int: ...

    @property
    def share_without_contract(self) -> float: ...

    @property
    def correlation(self) -> float | None: ...


class PortfolioSource(Protocol):
    """The registry, as far as the scorecard reads it: its portfolio and its promotions."""

    def portfolio(self, offline_metric: str | None = None) -> PortfolioFigures: ...

    def override_shares(self, period: str = "month") -> OverrideShares: ...


@dataclass(frozen=True)
class Scorecard:
    """The nine figures of the seed's scorecard, the transparency figure and the override
    share (percent); None where nothing can be measured yet."""

    contradictory_definitions: int | None
    training_serving_skew_pct: float | None
    models_without_impact_pct: float | None
    tech_business_correlation: float | None
    detection_delay_days: float | None = None
    time_to_recovery_days: float | None = None
    critical_incidents_undetected: int | None = None
    failures_documented_pct: float | None = None
    repeated_errors: int | None = None
    transparency_pct: float | None = None
    override_share_pct: float | None = None

    def with_incidents(self, figures: IncidentFigures) -> Scorecard:
        return replace(self, **asdict(figures))

    def to_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in FIGURE_KEYS}


def measure_scorecard(
    features: FeatureFigures | None,
    registry: PortfolioSource,
    incidents: IncidentSource | None = None,
    access: TransparencySource | None = None,
    *,
    recompute: bool = False,
) -> Scorecard:
    """Measure every figure from the stores; a source left None leaves its figures None.
    `recompute` measures the skew from scratch rather than reading the one kept."""
    contradictions: int | None = None
    skew_pct: float | None = None
    if features is not None:
        if features.definitions():
            contradictions = features.audit().contradictory_definitions
        overall = features.overall_skew(recompute=recompute)
        if overall.served:
            skew_pct = 100.0 * overall.mismatch_rate
    portfolio = registry.portfolio()
    without_pct = 100.0 * portfolio.share_without_contract if portfolio.production_models else None
    card = Scorecard(contradictions, skew_pct, without_pct, portfolio.correlation)
    card = replace(card, override_share_pct=registry.override_shares().override_share_pct)
    if access is not None:
        card = replace(card, transparency_pct=access.transparency_pct())
    return card if incidents is None else card.with_incidents(incidents.incident_figures())
