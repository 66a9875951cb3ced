"""A model version's reference profile: what a drift run needs to know about the reference.

Per column, numeric: rows, usable rows (not NULL, NaN or ±inf), min, max, mean, population
standard deviation, PSI bin edges and counts, and an ECDF summary (exact value counts when
there are few distinct values, else order statistics each weighing an equal share of the
usable rows); categorical: rows, usable rows (not NULL), the most frequent categories with
their counts, and the count of every other category pooled in `OTHER`. One `SegmentProfile`
for all rows and one per value of the segment column; and, when built, the multivariate part
(`lucid.contracts.validity.multivariate`), over all rows. Pure values; built by
`lucid.monitoring.profiles`, stored as `to_dict`'s JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lucid.contracts.validity.multivariate import MultivariateProfile

DEFAULT_BINS = 10
"""PSI bins: the reference deciles."""

OTHER = "(other)"
"""The bucket of categories not kept by name: rare reference ones and unseen current ones."""

SegmentKey = str | None
"""A segment label `column=value`, or None for all rows."""


@dataclass(frozen=True, slots=True)
class PerformanceProfile:
    """The reference performance a window is compared with."""

    label: str
    score: str
    cutoff: float
    rows: int
    accuracy: float | None
    precision: float | None
    recall: float | None
    auc: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "score": self.score,
            "cutoff": self.cutoff,
            "rows": self.rows,
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "auc": self.auc,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PerformanceProfile:
        return cls(**raw)


@dataclass(frozen=True, slots=True)
class NumericProfile:
    rows: int
    usable: int
    minimum: float | None
    maximum: float | None
    mean: float | None
    std: float | None
    edges: tuple[float, ...]
    bin_counts: tuple[int, ...]
    ecdf: tuple[tuple[float, float], ...]
    ecdf_exact: bool
    kind: Literal["numeric"] = "numeric"

    @property
    def bins(self) -> int:
        return len(self.edges) + 1

    @property
    def constant(self) -> bool:
        return self.usable > 0 and self.minimum == self.maximum

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "usable": self.usable,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "mean": self.mean,
            "std": self.std,
            "edges": list(self.edges),
            "bin_counts": list(self.bin_counts),
            "ecdf": [list(point) for point in self.ecdf],
            "ecdf_exact": self.ecdf_exact,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> NumericProfile:
        return cls(
            rows=int(raw["rows"]),
            usable=int(raw["usable"]),
            minimum=raw["minimum"],
            maximum=raw["maximum"],
            mean=raw["mean"],
            std=raw["std"],
            edges=tuple(float(e) for e in raw["edges"]),
            bin_counts=tuple(int(c) for c in raw["bin_counts"]),
            ecdf=tuple((float(v), float(w)) for v, w in raw["ecdf"]),
            ecdf_exact=bool(raw["ecdf_exact"]),
        )


@dataclass(frozen=True, slots=True)
class CategoricalProfile:
    rows: int
    usable: int
    categories: Mapping[str, int]
    other: int
    kind: Literal["categorical"] = "categorical"

    @property
    def buckets(self) -> tuple[str, ...]:
        return (*sorted(self.categories), OTHER)

    def counts(self) -> list[int]:
        return [self.categories[c] for c in sorted(self.categories)] + [self.other]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "usable": self.usable,
            "categories": dict(self.categories),
            "other": self.other,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CategoricalProfile:
        return cls(
            rows=int(raw["rows"]),
            usable=int(raw["usable"]),
            categories={str(k): int(v) for k, v in raw["categories"].items()},
            other=int(raw["other"]),
        )


ColumnProfile = NumericProfile | CategoricalProfile


@dataclass(frozen=True, slots=True)
class SegmentProfile:
    """The profile of every monitored column (and the reference performance) in one segment."""

    columns: Mapping[str, ColumnProfile]
    performance: PerformanceProfile | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": {name: p.to_dict() for name, p in self.columns.items()},
            "performance": None if self.performance is None else self.performance.to_dict(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SegmentProfile:
        columns: dict[str, ColumnProfile] = {}
        for name, item in raw["columns"].items():
            columns[name] = (
                NumericProfile.from_dict(item)
                if item["kind"] == "numeric"
                else CategoricalProfile.from_dict(item)
            )
        perf = raw.get("performance")
        return cls(columns, None if perf is None else PerformanceProfile.from_dict(perf))


@dataclass(frozen=True, slots=True)
class ReferenceProfile:
    """A model version's reference profile: one `SegmentProfile` for all rows (key None) and
    one per value of `segment_column`, labelled `column=value`; `multivariate` is None for a
    profile built without it (its JSON then has no `multivariate` key, so its fingerprint is
    the one it always had)."""

    segments: Mapping[SegmentKey, SegmentProfile]
    segment_column: str | None = None
    bins: int = DEFAULT_BINS
    metadata: Mapping[str, Any] = field(default_factory=dict)
    multivariate: MultivariateProfile | None = None

    @property
    def overall(self) -> SegmentProfile:
        return self.segments[None]

    def to_dict(self) -> dict[str, Any]:
        found = {
            "format": 1,
            "bins": self.bins,
            "segment_column": self.segment_column,
            "segments": [
                {"segment": key, **segment.to_dict()} for key, segment in self.segments.items()
            ],
            "metadata": dict(self.metadata),
        }
        if self.multivariate is not None:
            found["multivariate"] = self.multivariate.to_dict()
        return found

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ReferenceProfile:
        return cls(
            segments={item["segment"]: SegmentProfile.from_dict(item) for item in raw["segments"]},
            segment_column=raw.get("segment_column"),
            bins=int(raw["bins"]),
            metadata=raw.get("metadata", {}),
            multivariate=None
            if raw.get("multivariate") is None
            else MultivariateProfile.from_dict(raw["multivariate"]),
        )
