"""Portfolio figures computed from what the registry holds (the seed's scorecard rows).

- the share of production models without a business-impact contract (0 by construction:
  registration refuses a version without one and the gate re-reads it before production);
- Pearson's r between offline metric gains and measured business gains from one measured
  version to the next, across every model;
- the value each production model delivers per measurement period, when its contract gives a
  value per unit of the metric.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from sqlalchemy import select

from lucid.contracts.value import BusinessImpact, Stage, pearson
from lucid.errors import Conflict, LucidError
from lucid.registry.service import ModelRegistry
from lucid.storage.database import Database
from lucid.storage.tables import model_versions


@dataclass(frozen=True)
class GainPair:
    """From one measured version to the next: offline metric gain and business gain."""

    name: str
    from_version: int
    to_version: int
    offline_gain: float
    business_gain: float


@dataclass(frozen=True)
class ModelValue:
    name: str
    version: int
    measured: float
    gain_over_baseline: float
    value_per_period: float


@dataclass(frozen=True)
class Portfolio:
    production_models: int
    production_without_contract: int
    offline_metric: str | None
    correlation: float | None
    pairs: tuple[GainPair, ...]
    values: tuple[ModelValue, ...]

    @property
    def share_without_contract(self) -> float:
        if self.production_models == 0:
            return 0.0
        return self.production_without_contract / self.production_models

    def to_dict(self) -> dict[str, Any]:
        return {
            "production_models": self.production_models,
            "production_without_contract": self.production_without_contract,
            "share_without_contract": self.share_without_contract,
            "offline_metric": self.offline_metric,
            "correlation": self.correlation,
            "pairs": [vars(pair) for pair in self.pairs],
            "values": [vars(value) for value in self.values],
        }


def portfolio(
    db: Database, registry: ModelRegistry, offline_metric: str | None = None
) -> Portfolio:
    """The portfolio figures; `offline_metric` (e.g. auc, higher is better) defaults to the
    first offline metric every measured version reports."""
    with db.transaction() as conn:
        production = conn.execute(
            select(model_versions.c.impact).where(model_versions.c.stage == Stage.PRODUCTION.value)
        ).all()
    without = sum(1 for (impact,) in production if not _holds(impact))

    pairs: list[GainPair] = []
    values: list[ModelValue] = []
    measured_versions = []
    for summary in registry.list_models():
        observed: dict[int, list[float]] = {}
        try:
            versions = {v.version: v for v in registry.versions(summary.name)}
        except Conflict:  # a contract broken behind Lucid's back: counted above, not measured
            continue
        for observation in registry.observations(summary.name):
            if observation.metric == versions[observation.version].impact.metric:
                observed.setdefault(observation.version, []).append(observation.value)
        measured = [(versions[number], fmean(vals)) for number, vals in sorted(observed.items())]
        measured_versions.append(measured)
        if summary.production is not None and summary.production in observed:
            version = versions[summary.production]
            latest = observed[summary.production][-1]
            if version.impact.value_per_unit is not None:
                gain = version.impact.direction.gain(version.impact.baseline, latest)
                values.append(
                    ModelValue(
                        summary.name,
                        version.version,
                        latest,
                        gain,
                        gain * version.impact.value_per_unit,
                    )
                )
    metric = offline_metric or _common_metric(measured_versions)
    if metric is not None:
        for measured in measured_versions:
            usable = [(v, value) for v, value in measured if metric in v.offline_metrics]
            for (before, before_value), (after, after_value) in itertools.pairwise(usable):
                pairs.append(
                    GainPair(
                        after.name,
                        before.version,
                        after.version,
                        after.offline_metrics[metric] - before.offline_metrics[metric],
                        after.impact.direction.gain(before_value, after_value),
                    )
                )
    correlation = pearson([p.offline_gain for p in pairs], [p.business_gain for p in pairs])
    return Portfolio(len(production), without, metric, correlation, tuple(pairs), tuple(values))


def _holds(impact_json: str | None) -> bool:
    try:
        BusinessImpact.from_mapping(json.loads(impact_json or "null"))
    except (LucidError, ValueError, TypeError):
        return False
    return True


def _common_metric(measured_versions: list[list[Any]]) -> str | None:
    common: set[str] | None = None
    for measured in measured_versions:
        for version, _ in measured:
            keys = set(version.offline_metrics)
            common = keys if common is None else common & keys
    return min(common) if common else None
