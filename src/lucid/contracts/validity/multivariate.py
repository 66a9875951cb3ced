"""Multivariate drift: what a reference profile keeps of the joint distribution of the model's
inputs, and the evidence rules of the two multivariate metrics.

- Reconstruction error (`reconstruction_error_rise`): the numeric features, standardised by the
  reference mean and standard deviation (an unusable value — NULL, NaN, ±inf — imputed by the
  mean, i.e. 0), projected on the leading principal components of a reference sample and
  projected back; a row's error is the Euclidean distance between it and its reconstruction.
  The components kept are the fewest whose share of the variance reaches `VARIANCE_KEPT`, at
  most one fewer than the features. The PCA is fitted on one half of a seeded reference sample
  and the reference error (mean, standard deviation, rows) measured on the other half, so the
  reference error is out of sample, like the current window's.
- Domain classifier (`domain_classifier_auc`): a seeded sample of reference rows (numeric and
  categorical features) kept in the profile; a run samples the current window the same way and
  measures how well a classifier tells the two apart (AUC on rows it was not trained on; 0.5:
  it cannot).

Pure: the fitting and the measuring are `lucid.monitoring.multivariate`'s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

VARIANCE_KEPT = 0.65
"""Share of the standardised variance the kept principal components explain at least."""

SAMPLE_ROWS = 2_000
"""Reference rows kept for the domain classifier (all of them when the reference is smaller)."""

SampleValue = float | str | None
"""A sampled cell: a number (None when unusable) or a category as text (None when NULL)."""


@dataclass(frozen=True, slots=True)
class ReconstructionProfile:
    """The PCA of the standardised numeric features and the reference's reconstruction error.

    `components` holds one row of `len(columns)` weights per kept component (orthonormal);
    `explained` the share of the variance each explains; the error (Euclidean distance in
    standardised units) has mean `error_mean` and standard deviation `error_std` over
    `error_rows` reference rows the PCA was not fitted on (`fit_rows`)."""

    columns: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    components: tuple[tuple[float, ...], ...]
    explained: tuple[float, ...]
    fit_rows: int
    error_mean: float
    error_std: float
    error_rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "means": list(self.means),
            "scales": list(self.scales),
            "components": [list(row) for row in self.components],
            "explained": list(self.explained),
            "fit_rows": self.fit_rows,
            "error_mean": self.error_mean,
            "error_std": self.error_std,
            "error_rows": self.error_rows,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ReconstructionProfile:
        return cls(
            columns=tuple(str(c) for c in raw["columns"]),
            means=tuple(float(v) for v in raw["means"]),
            scales=tuple(float(v) for v in raw["scales"]),
            components=tuple(tuple(float(v) for v in row) for row in raw["components"]),
            explained=tuple(float(v) for v in raw["explained"]),
            fit_rows=int(raw["fit_rows"]),
            error_mean=float(raw["error_mean"]),
            error_std=float(raw["error_std"]),
            error_rows=int(raw["error_rows"]),
        )


@dataclass(frozen=True, slots=True)
class ReferenceSample:
    """A seeded uniform sample of reference rows, column by column: numeric columns as numbers
    (None when unusable), categorical ones as text (None when NULL)."""

    kinds: Mapping[str, Literal["numeric", "categorical"]]
    values: Mapping[str, tuple[SampleValue, ...]]
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kinds": dict(self.kinds),
            "values": {column: list(values) for column, values in self.values.items()},
            "rows": self.rows,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ReferenceSample:
        kinds: dict[str, Literal["numeric", "categorical"]] = {
            str(c): "numeric" if k == "numeric" else "categorical" for c, k in raw["kinds"].items()
        }
        return cls(
            kinds=kinds,
            values={str(c): tuple(v) for c, v in raw["values"].items()},
            rows=int(raw["rows"]),
        )


@dataclass(frozen=True, slots=True)
class MultivariateProfile:
    """What the multivariate metrics need of the reference: the reconstruction (None, with
    `note` saying why, when fewer than two numeric features vary), the classifier's reference
    sample, and the seed both samples were drawn with."""

    reconstruction: ReconstructionProfile | None
    sample: ReferenceSample
    seed: int
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "reconstruction": None
            if self.reconstruction is None
            else self.reconstruction.to_dict(),
            "sample": self.sample.to_dict(),
            "seed": self.seed,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> MultivariateProfile:
        reconstruction = raw.get("reconstruction")
        return cls(
            reconstruction=None
            if reconstruction is None
            else ReconstructionProfile.from_dict(reconstruction),
            sample=ReferenceSample.from_dict(raw["sample"]),
            seed=int(raw["seed"]),
            note=raw.get("note"),
        )


def components_kept(shares: Sequence[float], kept: float = VARIANCE_KEPT) -> int:
    """How many leading components to keep: the fewest whose shares (descending) add up to
    `kept`, at least one and at most one fewer than the features (keeping every component
    would reconstruct every row exactly)."""
    total = 0.0
    for count, share in enumerate(shares, start=1):
        total += share
        if total >= kept:
            return max(1, min(count, len(shares) - 1))
    return max(1, len(shares) - 1)


def normal_upper_tail(z: float) -> float:
    """P(Z ≥ z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def error_rise_pvalue(
    reference_mean: float,
    reference_std: float,
    reference_rows: int,
    current_mean: float,
    current_std: float,
    current_rows: int,
) -> float | None:
    """The evidence of a rise of the mean reconstruction error: the one-sided p-value of the
    two-sample (Welch) z-test of the current mean against the reference's, each mean's
    variance its rows' variance over its rows. None when neither side varies."""
    variance = reference_std**2 / reference_rows + current_std**2 / current_rows
    if variance <= 0.0:
        return None
    return normal_upper_tail((current_mean - reference_mean) / math.sqrt(variance))


def auc_null_std(reference_rows: int, current_rows: int) -> float:
    """The standard deviation of the AUC of a classifier that cannot tell two samples of n and
    m rows apart (the Mann-Whitney null, without ties): √((n + m + 1) / (12·n·m))."""
    n, m = reference_rows, current_rows
    return math.sqrt((n + m + 1) / (12.0 * n * m))


def auc_pvalue(auc: float, reference_rows: int, current_rows: int) -> float:
    """The evidence that the samples differ: the one-sided p-value of an AUC at least `auc`
    when the classifier's scores do not depend on the side (normal approximation of the
    Mann-Whitney null at these sizes)."""
    return normal_upper_tail((auc - 0.5) / auc_null_std(reference_rows, current_rows))
