"""Data and prediction drift of a current window against a stored reference profile.

Reads only the current window (through the compute engine) and the profile. Rules, each also
stated in the measurement's `note` when it applies:

- Sample size: a side with fewer usable rows than `minimum_rows` makes the measurement
  insufficient (`sufficient=False` → level `insufficient_data`, never ok); the value is still
  reported when it can be computed, with the no-drift PSI expected at these sizes.
- Unusable values (NULL; and NaN, ±inf for numbers) are excluded from every statistic and
  counted in `details["current_unusable"]`; an all-unusable window has value None.
- Constant reference column: PSI bins are below / equal / above the constant (see
  `profiles`); Wasserstein is then reported in column units (there is no spread to divide by).
- Categories: the current categories not kept by name in the reference (unseen ones included)
  are pooled into `OTHER`, whose reference share is the reference's pooled rare categories
  (often 0, then PSI's epsilon applies; chi-square handles it through the pooled margin).
- Evidence: every measurement carries `pvalue`, the p-value of no drift at these sizes.
  PSI and Jensen-Shannon: the chi-square homogeneity test over the same bins (numeric: the
  reference's decile bins; categorical: the buckets). KS D, `ks_pvalue` and Wasserstein: the
  KS test of the same samples (Wasserstein has no test of its own at these costs; equal
  distributions are what both measure). `ks_pvalue` and `chi_square_pvalue` carry their
  test's effect in `details["effect"]` (KS D; categorical PSI) for the minimum-effect rule.
- Prediction drift is the same statistics on the model's score column, which the profile
  holds like any other column.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from lucid.contracts.validity.diagnostics import MOVED_LIMIT, bin_labels, moved_bins
from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.profiles import (
    OTHER,
    CategoricalProfile,
    NumericProfile,
    ReferenceProfile,
)
from lucid.monitoring.profiles import (
    column_bins,
    column_categories,
    require_columns,
    segment_label,
)
from lucid.monitoring.statistics import (
    PSI_EPSILON,
    SPECS,
    chi_square,
    jensen_shannon,
    ks_pvalue,
    psi,
    psi_expected_no_drift,
    psi_no_drift_quantile,
)
from lucid.ports import ComputeEngine

DATA_DRIFT_METRICS = frozenset(SPECS)
"""Every data-drift statistic a run can measure."""


def measure_data_drift(
    engine: ComputeEngine,
    table: str,
    profile: ReferenceProfile,
    *,
    metrics: Collection[str] = DATA_DRIFT_METRICS,
    minimum_rows: int = 500,
    segments: bool = True,
) -> list[Measurement]:
    """Measure `metrics` on every profiled column of `table`, overall and per segment.

    A segment present in the current window but absent from the reference is reported as
    insufficient data for every column, naming the segment.
    """
    wanted = set(metrics) & DATA_DRIFT_METRICS
    if not wanted:
        return []
    q = engine.drift_queries
    kinds = engine.columns(table)
    require_columns(kinds, list(profile.overall.columns), "current")
    found: list[Measurement] = []
    found += _measure_segment(engine, table, profile, None, None, wanted, minimum_rows)
    if segments and profile.segment_column is not None:
        require_columns(kinds, [profile.segment_column], "current")
        current_values = [
            str(v) for (v,) in engine.query(q.segment_values(table, profile.segment_column))
        ]
        labels = {segment_label(profile.segment_column, v): v for v in current_values}
        for key in profile.segments:
            if key is not None and key not in labels:
                labels[key] = key.split("=", 1)[1]
        for label in sorted(labels):
            where = q.segment_filter(profile.segment_column, labels[label])
            if label not in profile.segments:
                found += [
                    Measurement(
                        metric,
                        None,
                        feature=column,
                        segment=label,
                        reference_rows=0,
                        sufficient=False,
                        note="segment absent from the reference profile",
                    )
                    for column in profile.overall.columns
                    for metric in sorted(wanted)
                    if _applies(metric, profile.overall.columns[column].kind)
                ]
                continue
            found += _measure_segment(engine, table, profile, label, where, wanted, minimum_rows)
    return found


def _applies(metric: str, kind: str) -> bool:
    return kind in SPECS[metric].column_kinds


def _measure_segment(
    engine: ComputeEngine,
    table: str,
    profile: ReferenceProfile,
    segment: str | None,
    where: str | None,
    wanted: set[str],
    minimum_rows: int,
) -> list[Measurement]:
    """Every column of the segment in three steps (on Spark three queries, see
    `DriftQueries.groups`): bin counts, category counts, then the ECDF distances of the
    numeric columns that need them."""
    q = engine.drift_queries
    references = profile.segments[segment].columns
    numeric = [
        (column, reference.edges)
        for column, reference in references.items()
        if isinstance(reference, NumericProfile)
    ]
    categorical = [c for c, r in references.items() if isinstance(r, CategoricalProfile)]
    bins = column_bins(engine, table, numeric, where)
    categories = column_categories(engine, table, categorical, where)
    measured = [
        (column, reference.ecdf)
        for column, reference in references.items()
        if isinstance(reference, NumericProfile)
        and {"ks", "ks_pvalue", "wasserstein"} & wanted
        and reference.usable
        and sum(bins[column][1:])
    ]
    distances: dict[str, tuple[float, float]] = {}
    for group in q.groups(measured):
        for index, distance, w1 in engine.query(q.ecdf_distances(table, group, where)):
            distances[group[int(index)][0]] = (float(distance), float(w1))
    found: list[Measurement] = []
    for column, reference in references.items():
        chosen = sorted(m for m in wanted if _applies(m, reference.kind))
        if isinstance(reference, NumericProfile):
            found += _numeric(
                column,
                reference,
                bins[column],
                distances.get(column),
                segment,
                chosen,
                minimum_rows,
            )
        else:
            found += _categorical(
                column, reference, categories[column], segment, chosen, minimum_rows
            )
    return found


def _measurements(
    values: Mapping[str, float | None],
    *,
    column: str,
    segment: str | None,
    n: int,
    m: int,
    bins: int,
    minimum_rows: int,
    notes: list[str],
    details: dict[str, Any],
    pvalues: Mapping[str, float | None],
    effects: Mapping[str, float | None],
) -> list[Measurement]:
    tests = {
        metric: "ks" if metric in ("ks", "ks_pvalue", "wasserstein") else "chi_square"
        for metric, p in pvalues.items()
        if p is not None
    }
    sufficient = n >= minimum_rows and m >= minimum_rows
    if not sufficient:
        size = f"fewer than {minimum_rows} usable rows on a side ({n} reference, {m} current)"
        notes = [size, *notes]
    expected = psi_expected_no_drift(n, m, bins) if n and m and bins > 1 else None
    if expected is not None:
        details = {**details, "psi_no_drift_p95": psi_no_drift_quantile(n, m, bins), "bins": bins}
    return [
        Measurement(
            metric,
            value,
            feature=column,
            segment=segment,
            reference_rows=n,
            current_rows=m,
            sufficient=sufficient,
            expected_no_drift=expected if metric == "psi" else None,
            note="; ".join(notes) or None,
            details={
                **details,
                **({"test": tests[metric]} if metric in tests else {}),
                **({"effect": effects[metric]} if effects.get(metric) is not None else {}),
            },
            pvalue=pvalues.get(metric) if value is not None else None,
        )
        for metric, value in values.items()
    ]


def _numeric(
    column: str,
    reference: NumericProfile,
    counts: list[int],
    distances: tuple[float, float] | None,
    segment: str | None,
    metrics: list[str],
    minimum_rows: int,
) -> list[Measurement]:
    """The numeric column's measurements from its bin counts (unusable first) and, when
    measured, its (KS D, Wasserstein-1) ECDF distances."""
    notes: list[str] = []
    n = reference.usable
    unusable, current = counts[0], counts[1:]
    m = sum(current)
    if unusable:
        notes.append(f"{unusable} current rows NULL, NaN or infinite were left out")
    if n == 0:
        notes.append("the reference has no usable value")
    if m == 0:
        notes.append("the current window has no usable value")
    if reference.constant:
        notes.append(f"constant reference column ({reference.minimum})")
    values: dict[str, float | None] = dict.fromkeys(metrics)
    pvalues: dict[str, float | None] = {}
    effects: dict[str, float | None] = {}
    if n and m:
        binned = chi_square(reference.bin_counts, current).pvalue
        pvalues.update(psi=binned, jensen_shannon=binned)
        if "psi" in values:
            values["psi"] = psi(reference.bin_counts, current)
        if "jensen_shannon" in values:
            values["jensen_shannon"] = jensen_shannon(reference.bin_counts, current)
        if {"ks", "ks_pvalue", "wasserstein"} & set(values) and distances is not None:
            distance, w1 = distances
            tested = ks_pvalue(float(distance), n, m)
            pvalues.update(ks=tested, ks_pvalue=tested, wasserstein=tested)
            effects["ks_pvalue"] = float(distance)
            if not reference.ecdf_exact:
                notes.append(f"KS and Wasserstein use {len(reference.ecdf)} reference quantiles")
            if "ks" in values:
                values["ks"] = float(distance)
            if "ks_pvalue" in values:
                values["ks_pvalue"] = tested
            if "wasserstein" in values:
                spread = reference.std or 0.0
                values["wasserstein"] = float(w1) / spread if spread > 0 else float(w1)
                if spread <= 0:
                    notes.append("wasserstein in column units: the reference is constant")
    return _measurements(
        values,
        column=column,
        segment=segment,
        n=n,
        m=m,
        bins=reference.bins,
        minimum_rows=minimum_rows,
        notes=notes,
        details={
            "current_unusable": unusable,
            "moved": moved_bins(
                bin_labels(reference.edges), reference.bin_counts, current, epsilon=PSI_EPSILON
            ),
        },
        pvalues=pvalues,
        effects=effects,
    )


def _categorical(
    column: str,
    reference: CategoricalProfile,
    counts: list[tuple[Any, ...]],
    segment: str | None,
    metrics: list[str],
    minimum_rows: int,
) -> list[Measurement]:
    """The categorical column's measurements from its (category, count) rows."""
    notes: list[str] = []
    current_counts = {v: int(c) for v, c in counts}
    unusable = current_counts.pop(None, 0)
    buckets = reference.buckets
    current = dict.fromkeys(buckets, 0)
    unseen_rows = 0
    unseen: set[str] = set()
    for value, count in current_counts.items():
        key = str(value)
        if key in reference.categories:
            current[key] += count
        else:
            current[OTHER] += count
            unseen_rows += count
            unseen.add(key)
    if unseen:
        notes.append(
            f"{unseen_rows} current rows in {len(unseen)} categories not kept by the reference "
            f"(pooled in {OTHER})"
        )
    if unusable:
        notes.append(f"{unusable} current rows NULL were left out")
    ref_counts = reference.counts()
    cur_counts = [current[b] for b in buckets]
    n, m = reference.usable, sum(cur_counts)
    values: dict[str, float | None] = dict.fromkeys(metrics)
    pvalues: dict[str, float | None] = {}
    effects: dict[str, float | None] = {}
    if n and m:
        tested = chi_square(ref_counts, cur_counts).pvalue
        pvalues = dict.fromkeys(("psi", "jensen_shannon", "chi_square_pvalue"), tested)
        effects["chi_square_pvalue"] = psi(ref_counts, cur_counts)
        if "psi" in values:
            values["psi"] = psi(ref_counts, cur_counts)
        if "jensen_shannon" in values:
            values["jensen_shannon"] = jensen_shannon(ref_counts, cur_counts)
        if "chi_square_pvalue" in values:
            values["chi_square_pvalue"] = tested
    bins = sum(1 for r, c in zip(ref_counts, cur_counts, strict=True) if r or c)
    return _measurements(
        values,
        column=column,
        segment=segment,
        n=n,
        m=m,
        bins=max(bins, 1),
        minimum_rows=minimum_rows,
        notes=notes,
        details={
            "current_unusable": unusable,
            "unseen_categories": len(unseen),
            "moved": moved_bins(buckets, ref_counts, cur_counts, epsilon=PSI_EPSILON),
            **_new_categories(current_counts, unseen),
        },
        pvalues=pvalues,
        effects=effects,
    )


def _new_categories(counts: Mapping[Any, int], unseen: set[str]) -> dict[str, str]:
    """The most frequent current categories pooled in `OTHER` with their rows, as text."""
    if not unseen:
        return {}
    rows = {str(value): count for value, count in counts.items() if str(value) in unseen}
    top = sorted(rows.items(), key=lambda item: (-item[1], item[0]))[:MOVED_LIMIT]
    return {"new_categories": ", ".join(f"{name} ({count} rows)" for name, count in top)}
