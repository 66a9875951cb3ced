"""Portfolio figures computed from what the registry holds (the seed's scorecard rows).

- the share of production models without a business-impact contract (0 by construction:
  registration refuses a version without one and the gate re-reads it before production);
- Pearson's r between offline metric gains and measured business gains from one measured
  version to the next, across every model, with its 95 % interval by Fisher's z
  (`correlation_interval`);
- the value each production model delivers per measurement period, when its contract gives a
  value per unit of the metric.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from lucid.contracts.value.evaluation import pearson
from lucid.contracts.value.versions import ModelVersion, Observation
from lucid.errors import Conflict
from lucid.ports.unit_of_work import UnitsOfWork


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
    def correlation_interval(self) -> tuple[float, float] | None:
        """The 95 % interval of `correlation` over its pairs (`correlation_interval`)."""
        if self.correlation is None:
            return None
        return correlation_interval(self.correlation, len(self.pairs))

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
            "correlation_interval": (
                None if self.correlation_interval is None else list(self.correlation_interval)
            ),
            "correlation_pairs": len(self.pairs),
            "pairs": [vars(pair) for pair in self.pairs],
            "values": [vars(value) for value in self.values],
        }


Z_95 = 1.959963984540054
"""The standard normal quantile of 0.975."""


def correlation_interval(r: float, pairs: int) -> tuple[float, float] | None:
    """The 95 % interval of Pearson's `r` over `pairs` pairs by Fisher's z:
    tanh(atanh r ± 1.96 / √(pairs − 3)); None with fewer than 4 pairs. |r| = 1 gives (r, r)."""
    if pairs < 4:
        return None
    if abs(r) >= 1.0:
        return (r, r)
    z, half = math.atanh(r), Z_95 / math.sqrt(pairs - 3)
    return (math.tanh(z - half), math.tanh(z + half))


def portfolio(uows: UnitsOfWork, offline_metric: str | None = None) -> Portfolio:
    """The portfolio figures; `offline_metric` (e.g. auc, higher is better) defaults to the
    first offline metric every measured version reports."""
    with uows.read() as uow:
        production = uow.models.production_contracts()
        summaries = uow.models.summaries()
        measured_versions: list[list[tuple[ModelVersion, float]]] = []
        values: list[ModelValue] = []
        for summary in summaries:
            try:
                versions = {v.version: v for v in uow.models.versions(summary.name)}
            except Conflict:  # a contract broken behind Lucid's back: counted above, not measured
                continue
            observed = _observed(versions, uow.models.observations(summary.name))
            measured_versions.append(
                [(versions[number], fmean(vals)) for number, vals in sorted(observed.items())]
            )
            value = _value(summary.production, versions, observed)
            if value is not None:
                values.append(value)
    without = sum(1 for impact in production if impact is None)
    metric = offline_metric or _common_metric(measured_versions)
    pairs = [] if metric is None else _gain_pairs(measured_versions, metric)
    correlation = pearson([p.offline_gain for p in pairs], [p.business_gain for p in pairs])
    return Portfolio(len(production), without, metric, correlation, tuple(pairs), tuple(values))


def _observed(
    versions: dict[int, ModelVersion], observations: list[Observation]
) -> dict[int, list[float]]:
    """version → the observed values of its contract's metric, oldest first."""
    observed: dict[int, list[float]] = {}
    for observation in observations:
        if observation.metric == versions[observation.version].impact.metric:
            observed.setdefault(observation.version, []).append(observation.value)
    return observed


def _value(
    production: int | None, versions: dict[int, ModelVersion], observed: dict[int, list[float]]
) -> ModelValue | None:
    """What the production version delivers per period, when measured and its contract
    prices a unit of its metric."""
    if production is None or production not in observed:
        return None
    version = versions[production]
    latest = observed[production][-1]
    if version.impact.value_per_unit is None:
        return None
    gain = version.impact.direction.gain(version.impact.baseline, latest)
    return ModelValue(
        version.name, version.version, latest, gain, gain * version.impact.value_per_unit
    )


def _gain_pairs(
    measured_versions: list[list[tuple[ModelVersion, float]]], metric: str
) -> list[GainPair]:
    pairs: list[GainPair] = []
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
    return pairs


def _common_metric(measured_versions: list[list[tuple[ModelVersion, float]]]) -> str | None:
    common: set[str] | None = None
    for measured in measured_versions:
        for version, _ in measured:
            keys = set(version.offline_metrics)
            common = keys if common is None else common & keys
    return min(common) if common else None
