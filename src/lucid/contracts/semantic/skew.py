"""Training-serving skew: served values, as served and as logged, compared with their offline
recomputation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lucid.contracts.semantic.examples import values_match


@dataclass(frozen=True, slots=True)
class ServedValue:
    """One feature value as served: `status` is fresh, stale (too old: value None), missing
    (never materialised) or unknown (not an id of the entity's listing source: value None);
    `as_of` in epoch seconds, UTC."""

    entity: str
    feature: str
    value: Any
    as_of: float | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "feature": self.feature,
            "value": self.value,
            "as_of": epoch_text(self.as_of) if self.as_of is not None else None,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class LoggedValue:
    """A served value as the serving log kept it: what skew is measured on."""

    entity: str
    feature: str
    served_at: datetime
    value: Any
    status: str


def epoch_text(epoch: float) -> str:
    """The canonical time text of epoch seconds (UTC): `format_time` of the moment, written
    directly (the moment is in UTC already)."""
    moment = datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)
    return f"{moment.isoformat(timespec='microseconds')}Z"


@dataclass(frozen=True, slots=True)
class SkewStats:
    """How served values compare with the offline recomputation at the served time.

    `mismatch_rate`: share of served values that differ beyond the tolerance, a missing or stale
    value where offline has one counting as a mismatch; `missing_rate`: share served missing
    or stale; `mean_relative_error`: over pairs where both sides are numbers.
    """

    feature: str
    served: int
    mismatches: int
    missing: int
    mean_relative_error: float

    @property
    def mismatch_rate(self) -> float:
        return self.mismatches / self.served if self.served else 0.0

    @property
    def missing_rate(self) -> float:
        return self.missing / self.served if self.served else 0.0

    @classmethod
    def of(cls, feature: str, pairs: Iterable[tuple[Any, Any]], tolerance: float) -> SkewStats:
        """Stats over (served, offline) pairs; a served None means missing or stale."""
        return SkewSums.of(feature, pairs, tolerance).stats

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "served": self.served,
            "mismatch_rate": self.mismatch_rate,
            "missing_rate": self.missing_rate,
            "mean_relative_error": self.mean_relative_error,
        }


@dataclass(frozen=True, slots=True)
class SkewSums:
    """The counts and the sum behind a feature's `SkewStats`, which add up across served
    values: the stats of values logged in two stretches are those of their sums' sum."""

    feature: str
    served: int = 0
    mismatches: int = 0
    missing: int = 0
    numeric: int = 0
    relative: float = 0.0

    @classmethod
    def of(cls, feature: str, pairs: Iterable[tuple[Any, Any]], tolerance: float) -> SkewSums:
        """Sums over (served, offline) pairs; a served None means missing or stale."""
        served = mismatches = missing = numeric = 0
        relative = 0.0
        for online, offline in pairs:
            served += 1
            if online is None:
                missing += 1
            if not values_match(offline, online, tolerance):
                mismatches += 1
            if isinstance(online, int | float) and isinstance(offline, int | float):
                numeric += 1
                relative += abs(float(online) - float(offline)) / max(abs(float(offline)), 1e-12)
        return cls(feature, served, mismatches, missing, numeric, relative)

    def __add__(self, other: SkewSums) -> SkewSums:
        if other.feature != self.feature:
            raise ValueError(f"sums of {self.feature} and {other.feature} do not add up")
        return SkewSums(
            self.feature,
            self.served + other.served,
            self.mismatches + other.mismatches,
            self.missing + other.missing,
            self.numeric + other.numeric,
            self.relative + other.relative,
        )

    @property
    def stats(self) -> SkewStats:
        error = self.relative / self.numeric if self.numeric else 0.0
        return SkewStats(self.feature, self.served, self.mismatches, self.missing, error)

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "served": self.served,
            "mismatches": self.mismatches,
            "missing": self.missing,
            "numeric": self.numeric,
            "relative": self.relative,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SkewSums:
        return cls(
            str(data["feature"]),
            int(data["served"]),
            int(data["mismatches"]),
            int(data["missing"]),
            int(data["numeric"]),
            float(data["relative"]),
        )


def added_sums(kept: Iterable[SkewSums], new: Iterable[SkewSums]) -> list[SkewSums]:
    """Each feature's kept sums plus its new ones, by feature name."""
    by_feature: dict[str, SkewSums] = {}
    for sums in (*kept, *new):
        known = by_feature.get(sums.feature)
        by_feature[sums.feature] = sums if known is None else known + sums
    return [by_feature[name] for name in sorted(by_feature)]


def overall_skew(stats: Sequence[SkewStats]) -> SkewStats:
    """Every feature's stats pooled into one."""
    served = sum(s.served for s in stats)
    numeric_weight = sum(s.served for s in stats if s.served)
    error = (
        sum(s.mean_relative_error * s.served for s in stats) / numeric_weight
        if numeric_weight
        else 0.0
    )
    return SkewStats(
        "overall", served, sum(s.mismatches for s in stats), sum(s.missing for s in stats), error
    )
