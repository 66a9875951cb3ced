"""The metrics a threshold may name, and what one statistic measured on one run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lucid.contracts.validity.grades import DriftType
from lucid.errors import InvalidInput

DEFAULT_MINIMUM_ROWS = 500
"""Below this many usable rows on either side a drift check is `insufficient_data`."""


@dataclass(frozen=True, slots=True)
class Bounds:
    """The values a threshold of one metric may take: from `low` to `high`, each end included
    or not (`high` may be infinite)."""

    low: float
    high: float = math.inf
    low_included: bool = True
    high_included: bool = True

    def hold(self, value: float) -> bool:
        above = value >= self.low if self.low_included else value > self.low
        below = value <= self.high if self.high_included else value < self.high
        return above and below

    def __str__(self) -> str:
        low = f"{'≥' if self.low_included else '>'} {self.low:g}"
        if math.isinf(self.high):
            return low
        return f"{low} and {'≤' if self.high_included else '<'} {self.high:g}"


NON_NEGATIVE = Bounds(0.0)
"""A distance or divergence: 0 means no drift."""
FRACTION = Bounds(0.0, 1.0)
"""A statistic between 0 and 1 (KS D, Jensen-Shannon distance base 2)."""
P_VALUE = Bounds(0.0, 1.0, low_included=False, high_included=False)
"""A p-value threshold: strictly between 0 and 1 (0 never fires, 1 always does)."""
ABSOLUTE_DROP = Bounds(0.0, 1.0, low_included=False)
"""A drop of a rate (accuracy, AUC...): positive when worse, at most the whole rate."""
RELATIVE_DROP = Bounds(0.0, low_included=False)
"""A drop relative to the baseline, sign-corrected so that worse is positive."""
SHARE = Bounds(0.0, 1.0, low_included=False)
"""A share of rows that is worse when higher: above 0 (0 would fire on every run), at most 1."""


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A metric a threshold may name: its direction, unit, the drift types it fits, and the
    values its thresholds may take."""

    name: str
    higher_is_worse: bool
    unit: str
    drift_types: frozenset[DriftType]
    description: str
    bounds: Bounds = NON_NEGATIVE


_DISTRIBUTION = frozenset({DriftType.DATA, DriftType.CONCEPT})
_QUALITY = frozenset({DriftType.CONCEPT, DriftType.PERFORMANCE})
_HEALTH = frozenset({DriftType.DATA})

METRICS: Mapping[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec(
            "psi",
            True,
            "nats",
            _DISTRIBUTION,
            "population stability index over reference bins",
            NON_NEGATIVE,
        ),
        MetricSpec(
            "ks", True, "fraction", _DISTRIBUTION, "Kolmogorov-Smirnov statistic D", FRACTION
        ),
        MetricSpec(
            "ks_pvalue", False, "probability", _DISTRIBUTION, "two-sided KS p-value", P_VALUE
        ),
        MetricSpec(
            "jensen_shannon",
            True,
            "distance (base 2, 0..1)",
            _DISTRIBUTION,
            "JS distance",
            FRACTION,
        ),
        MetricSpec(
            "wasserstein",
            True,
            "reference standard deviations",
            _DISTRIBUTION,
            "Wasserstein-1 distance divided by the reference standard deviation",
            NON_NEGATIVE,
        ),
        MetricSpec(
            "chi_square_pvalue",
            False,
            "probability",
            _DISTRIBUTION,
            "chi-square homogeneity test p-value (categorical columns)",
            P_VALUE,
        ),
        MetricSpec(
            "accuracy_drop",
            True,
            "fraction (absolute)",
            _QUALITY,
            "reference - current",
            ABSOLUTE_DROP,
        ),
        MetricSpec(
            "auc_drop",
            True,
            "fraction (absolute)",
            _QUALITY,
            "reference - current AUC",
            ABSOLUTE_DROP,
        ),
        MetricSpec(
            "precision_drop", True, "fraction (absolute)", _QUALITY, "precision drop", ABSOLUTE_DROP
        ),
        MetricSpec(
            "recall_drop", True, "fraction (absolute)", _QUALITY, "recall drop", ABSOLUTE_DROP
        ),
        MetricSpec(
            "estimated_accuracy_drop",
            True,
            "fraction (absolute)",
            _QUALITY,
            "reference accuracy - label-free (CBPE) estimate of current accuracy",
            ABSOLUTE_DROP,
        ),
        MetricSpec(
            "estimated_auc_drop",
            True,
            "fraction (absolute)",
            _QUALITY,
            "reference AUC - label-free (CBPE) estimate of current AUC",
            ABSOLUTE_DROP,
        ),
        MetricSpec(
            "business_metric_drop",
            True,
            "fraction of the baseline (relative)",
            frozenset({DriftType.BUSINESS, DriftType.PERFORMANCE}),
            "(baseline - current) / |baseline|, sign-corrected for lower-is-better metrics",
            RELATIVE_DROP,
        ),
        # Data health (`lucid.contracts.validity.health`): shares of the current window.
        MetricSpec(
            "null_share",
            True,
            "fraction of rows",
            _HEALTH,
            "share of current rows whose value is missing (NULL; NaN or ±inf for numbers)",
            SHARE,
        ),
        MetricSpec(
            "null_share_rise",
            True,
            "fraction of rows (absolute)",
            _HEALTH,
            "current missing share - reference missing share",
            SHARE,
        ),
        MetricSpec(
            "volume_ratio",
            False,
            "ratio (current / expected rows)",
            _HEALTH,
            "current rows / reference rows scaled to the current window's duration",
            NON_NEGATIVE,
        ),
        MetricSpec(
            "out_of_range_share",
            True,
            "fraction of usable values",
            _HEALTH,
            "share of current usable numbers below the reference minimum or above its maximum",
            SHARE,
        ),
        MetricSpec(
            "new_category_share",
            True,
            "fraction of usable rows",
            _HEALTH,
            "share of current usable rows in categories the reference does not name",
            SHARE,
        ),
        MetricSpec(
            "vanished_category_share",
            True,
            "fraction of reference rows",
            _HEALTH,
            "share of reference usable rows in named categories absent from the current window",
            SHARE,
        ),
        # Data health of sources (`lucid.contracts.validity.source_health`): `feature` names
        # the source, `source:<name>` or `source:<name>.<column>`.
        MetricSpec(
            "source_volume_ratio",
            False,
            "ratio ((rows + 1) / (expected + 1))",
            _HEALTH,
            "rows of the window / mean rows of the same window in the trailing weeks",
            NON_NEGATIVE,
        ),
        MetricSpec(
            "source_volume_surge",
            True,
            "ratio ((rows + 1) / (expected + 1))",
            _HEALTH,
            "the volume ratio graded the other way: a source whose rows jump above the trailing "
            "weeks' mean",
            Bounds(1.0, low_included=False),
        ),
        MetricSpec(
            "source_freshness_hours",
            True,
            "hours",
            _HEALTH,
            "window end - newest event time of the source before it",
            NON_NEGATIVE,
        ),
        MetricSpec(
            "source_ingestion_lag_hours",
            True,
            "hours",
            _HEALTH,
            "mean ingestion time - event time of the window's rows",
            NON_NEGATIVE,
        ),
        MetricSpec(
            "source_null_share",
            True,
            "fraction of rows",
            _HEALTH,
            "share of the window's source rows whose column is missing",
            SHARE,
        ),
        MetricSpec(
            "source_null_share_rise",
            True,
            "fraction of rows (absolute)",
            _HEALTH,
            "source NULL share of the window - its share over the trailing weeks",
            SHARE,
        ),
        MetricSpec(
            "schema_changes",
            True,
            "columns",
            _HEALTH,
            "columns added, removed or retyped in the source against its declared schema",
            NON_NEGATIVE,
        ),
        # Multivariate drift (`lucid.contracts.validity.multivariate`): the joint distribution
        # of the model's inputs, which every per-column metric can miss.
        MetricSpec(
            "reconstruction_error_rise",
            True,
            "fraction of the reference error (relative)",
            frozenset({DriftType.DATA}),
            "current mean PCA reconstruction error of the standardised numeric features / "
            "the reference's - 1: the rows no longer lie where the reference's principal "
            "components put them (e.g. a correlation changed)",
            RELATIVE_DROP,
        ),
        MetricSpec(
            "domain_classifier_auc",
            True,
            "AUC (0.5: indistinguishable)",
            frozenset({DriftType.DATA}),
            "held-out AUC of a classifier trained to tell sampled current rows from sampled "
            "reference rows on every feature (0.5: it cannot; 1: every row is told apart)",
            Bounds(0.5, 1.0, low_included=False),
        ),
    )
}
"""Every metric a threshold may name: the one table of their directions and bounds."""


CHANGE_PREFIX = "cusum:"
"""A change-detection metric: `cusum:<metric>`, the CUSUM of that metric's run-by-run scores."""
PAGE_HINKLEY_PREFIX = "page_hinkley:"
"""`page_hinkley:<metric>`, the Page–Hinkley test of that metric's run-by-run scores."""
CHANGE_PREFIXES = (CHANGE_PREFIX, PAGE_HINKLEY_PREFIX)


def metric_spec(name: str) -> MetricSpec:
    for prefix in CHANGE_PREFIXES:
        watched = METRICS.get(name.removeprefix(prefix))
        if name.startswith(prefix) and watched is not None:
            return MetricSpec(
                name,
                True,
                "score standard deviations",
                watched.drift_types,
                f"{prefix[:-1]} of {watched.name}'s run-by-run scores",
                NON_NEGATIVE,
            )
    try:
        return METRICS[name]
    except KeyError:
        known = ", ".join(sorted(METRICS))
        raise InvalidInput("metric", f"{name!r} is not a known metric (known: {known})") from None


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one statistic measured on one run: the input of `MonitoringPolicy.evaluate`.

    `value` is None when it could not be computed; `sufficient` is False when a side had
    fewer usable rows than the minimum window (the check is then `insufficient_data`).
    `expected_no_drift` is the value expected with no drift at these sample sizes (PSI: the
    mean (1/n + 1/m)(bins - 1)); `pvalue` is the evidence against no drift: the probability
    of a value at least this extreme when nothing drifted, at these sizes (None when the
    metric has no test); `note` says why a value is missing or how an edge was ruled.
    """

    metric: str
    value: float | None
    feature: str | None = None
    segment: str | None = None
    reference_rows: int | None = None
    current_rows: int | None = None
    sufficient: bool = True
    expected_no_drift: float | None = None
    note: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    pvalue: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "feature": self.feature,
            "segment": self.segment,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "sufficient": self.sufficient,
            "expected_no_drift": self.expected_no_drift,
            "note": self.note,
            "details": dict(self.details),
            "pvalue": self.pvalue,
        }
