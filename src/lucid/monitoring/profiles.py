"""Reference profiles: what a drift run needs to know about the reference, computed once.

A profile is built once per model version from its reference data and stored in the metadata
database; a run then reads only the current window and the stored profile. Per column:

- numeric: rows, usable rows (not NULL, NaN or ±inf), min, max, mean, population standard
  deviation, PSI bin edges and counts, and an ECDF summary — the distinct values with their
  counts when there are at most `ECDF_POINTS` of them (exact), otherwise `ECDF_POINTS`
  order statistics at the middle of equal-count slices, each weighing usable/`ECDF_POINTS`
  rows;
- categorical: rows, usable rows (not NULL), the `MAX_CATEGORIES` most frequent categories
  with their counts, and the count of every other category pooled in `OTHER`.

PSI bins are right-closed, (e[i-1], e[i]], with inner edges the distinct reference quantiles
at 1/B … (B-1)/B. When the lowest edge equals the reference minimum (a constant column, or
mass piled on the minimum), the largest double below the minimum is added as an edge, so
values under the reference range get a bin of their own instead of hiding in the lowest one.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lucid.contracts.validity.profiles import (
    DEFAULT_BINS,
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
    ReferenceProfile,
    SegmentKey,
    SegmentProfile,
)
from lucid.errors import InvalidInput
from lucid.monitoring.multivariate import profile_multivariate
from lucid.monitoring.performance import profile_performance
from lucid.ports import ComputeEngine

ECDF_POINTS = 1000
"""Points kept of the reference ECDF (exact at or below this many distinct values)."""

MAX_CATEGORIES = 200
"""Categories kept by name in a categorical profile; the rest are pooled in `OTHER`."""


def segment_label(column: str, value: str) -> str:
    return f"{column}={value}"


def build_profile(
    engine: ComputeEngine,
    table: str,
    *,
    columns: Sequence[str] | None = None,
    segment_column: str | None = None,
    bins: int = DEFAULT_BINS,
    label: str | None = None,
    score: str | None = None,
    cutoff: float = 0.5,
    multivariate: bool = True,
) -> ReferenceProfile:
    """Profile the reference `table` (already registered on `engine`).

    `columns` defaults to every column except the segment and label columns; the score
    (model output) column is profiled too, for prediction drift. With `label` and `score`
    the reference performance is profiled as well. With `multivariate`, the multivariate part
    over every profiled column but the score (`lucid.monitoring.multivariate`).
    """
    if bins < 2:
        raise InvalidInput("bins", f"must be at least 2, not {bins}")
    kinds = engine.columns(table)
    require_columns(kinds, [c for c in (segment_column, label, score) if c], "reference")
    chosen = (
        list(columns)
        if columns is not None
        else [c for c in kinds if c not in (segment_column, label)]
    )
    require_columns(kinds, chosen, "reference")
    q = engine.drift_queries
    segments: dict[SegmentKey, SegmentProfile] = {
        None: _profile_segment(engine, table, kinds, chosen, bins, None, label, score, cutoff)
    }
    overall = segments[None].columns
    features = {c: p for c, p in overall.items() if c != score}
    built = profile_multivariate(engine, table, features) if multivariate else None
    if segment_column is not None:
        for (value,) in engine.query(q.segment_values(table, segment_column)):
            where = q.segment_filter(segment_column, str(value))
            segments[segment_label(segment_column, str(value))] = _profile_segment(
                engine, table, kinds, chosen, bins, where, label, score, cutoff
            )
    return ReferenceProfile(segments, segment_column, bins, multivariate=built)


def require_columns(kinds: Mapping[str, str], wanted: Sequence[str], side: str) -> None:
    missing = [c for c in wanted if c not in kinds]
    if missing:
        raise InvalidInput(
            f"{side}.{missing[0]}",
            f"column is missing from the {side} data (it has: {', '.join(kinds) or 'none'})",
        )


def _profile_segment(
    engine: ComputeEngine,
    table: str,
    kinds: Mapping[str, str],
    columns: Sequence[str],
    bins: int,
    where: str | None,
    label: str | None,
    score: str | None,
    cutoff: float,
) -> SegmentProfile:
    numeric = [column for column in columns if kinds[column] == "numeric"]
    categorical = [column for column in columns if kinds[column] != "numeric"]
    found = profile_columns(engine, table, numeric, categorical, bins, where)
    profiles = {column: found[column] for column in columns}
    performance = None
    if label is not None and score is not None:
        performance = profile_performance(engine, table, label, score, cutoff, where)
    return SegmentProfile(profiles, performance)


def psi_edges(quantile_values: Sequence[float], minimum: float) -> tuple[float, ...]:
    """Inner PSI edges from reference quantiles (see the module docstring for the rule)."""
    edges = sorted(set(quantile_values))
    if edges and edges[0] <= minimum:
        edges.insert(0, math.nextafter(minimum, -math.inf))
    return tuple(edges)


Summary = tuple[Any, ...]
"""A numeric column's summary row: rows, usable, min, max, mean, std, approximate distinct."""


def profile_columns(
    engine: ComputeEngine,
    table: str,
    numeric: Sequence[str],
    categorical: Sequence[str],
    bins: int,
    where: str | None = None,
) -> dict[str, ColumnProfile]:
    """Profile every column in five steps, each reading its columns in as few queries as the
    engine prefers (`DriftQueries.groups`; Spark: one query per step): summaries, the exact
    ECDF (value counts) of columns with few distinct values, the quantiles and order
    statistics of the others (one sort on DuckDB, exact; one KLL sketch per column on Spark,
    within the error `docs/validity.md` states), bin counts, category counts."""
    q = engine.drift_queries
    summaries: dict[str, Summary] = {}
    for group in q.groups(numeric):
        [row] = engine.query(q.numeric_summaries(table, group, where))
        summaries |= {column: row[7 * i : 7 * i + 7] for i, column in enumerate(group)}
    usable = [column for column in numeric if summaries[column][1]]
    probabilities = [i / bins for i in range(1, bins)]
    ecdf, at_rank = _exact_ecdfs(engine, table, summaries, usable, where)
    many = [column for column in usable if column not in ecdf]
    _ranked_ecdfs(engine, table, summaries, many, probabilities, where, ecdf, at_rank)
    edges = {
        column: psi_edges(
            [_quantile(at_rank[column], int(summaries[column][1]), p) for p in probabilities],
            float(summaries[column][2]),
        )
        for column in usable
    }
    bins_of = column_bins(engine, table, [(column, edges[column]) for column in usable], where)
    categories = column_categories(engine, table, categorical, where)
    profiles: dict[str, ColumnProfile] = {}
    for column in numeric:
        rows, usable_rows, minimum, maximum, mean, std, _ = summaries[column]
        if not usable_rows:
            empty = NumericProfile(int(rows), 0, None, None, None, None, (), (), (), True)
            profiles[column] = empty
            continue
        profiles[column] = NumericProfile(
            int(rows),
            int(usable_rows),
            float(minimum),
            float(maximum),
            float(mean),
            float(std),
            edges[column],
            tuple(bins_of[column][1:]),
            ecdf[column],
            column not in many,
        )
    for column in categorical:
        profiles[column] = categorical_profile(categories[column])
    return profiles


def _exact_ecdfs(
    engine: ComputeEngine,
    table: str,
    summaries: Mapping[str, Summary],
    usable: Sequence[str],
    where: str | None,
) -> tuple[dict[str, tuple[tuple[float, float], ...]], dict[str, Callable[[int], float]]]:
    """The exact ECDF (value counts) of the columns with at most `ECDF_POINTS` distinct
    values, and each one's value at a rank."""
    ecdf: dict[str, tuple[tuple[float, float], ...]] = {}
    at_rank: dict[str, Callable[[int], float]] = {}
    # The distinct count is approximate (HyperLogLog): count exactly below twice the limit.
    few = [column for column in usable if summaries[column][6] <= 2 * ECDF_POINTS]
    q = engine.drift_queries
    for group in q.groups(few):
        values = stacked_rows(engine, q.value_counts(table, group, where), group)
        for column in group:
            if len(values[column]) <= ECDF_POINTS:
                ecdf[column] = tuple((float(v), float(c)) for v, c in values[column])
                at_rank[column] = _counted_ranks(ecdf[column])
    return ecdf, at_rank


def _ranked_ecdfs(
    engine: ComputeEngine,
    table: str,
    summaries: Mapping[str, Summary],
    many: Sequence[str],
    probabilities: Sequence[float],
    where: str | None,
    ecdf: dict[str, tuple[tuple[float, float], ...]],
    at_rank: dict[str, Callable[[int], float]],
) -> None:
    """Add to `ecdf` and `at_rank` the order-statistic ECDF of the columns with many distinct
    values, read with their quantile ranks in one sort."""
    ranks = {
        column: sorted(
            set(_order_statistic_ranks(int(summaries[column][1]), ECDF_POINTS))
            | _quantile_ranks(int(summaries[column][1]), probabilities)
        )
        for column in many
    }
    q = engine.drift_queries
    for group in q.groups(many):
        wanted = [(column, ranks[column]) for column in group]
        query = q.ranked_values(table, wanted, where)
        for column, rows in stacked_rows(engine, query, group).items():
            values_at = {int(rank): float(v) for rank, v in rows}
            at_rank[column] = values_at.__getitem__
            n = int(summaries[column][1])
            weight = n / ECDF_POINTS
            ecdf[column] = tuple(
                (values_at[rank], weight) for rank in _order_statistic_ranks(n, ECDF_POINTS)
            )


def _order_statistic_ranks(n: int, points: int) -> list[int]:
    """The 0-based ranks of the ECDF summary: the middle of each of `points` equal-count
    slices, floor((2i + 1)·n / 2·points) for i = 0 … points - 1 (n >= points)."""
    return [((2 * i + 1) * n) // (2 * points) for i in range(points)]


def _quantile_ranks(n: int, probabilities: Sequence[float]) -> set[int]:
    """The ranks a linear-interpolation quantile reads: floor and ceiling of (n - 1)·p."""
    return {r for p in probabilities for r in (math.floor((n - 1) * p), math.ceil((n - 1) * p))}


def _quantile(at_rank: Callable[[int], float], n: int, p: float) -> float:
    """The quantile at `p` by linear interpolation between order statistics (numpy's
    default method, DuckDB's quantile_cont): at h = (n - 1)·p, x[⌊h⌋] + (h - ⌊h⌋)·(x[⌈h⌉] -
    x[⌊h⌋])."""
    h = (n - 1) * p
    low, high = math.floor(h), math.ceil(h)
    below = at_rank(low)
    if high == low:
        return below
    return below + (h - low) * (at_rank(high) - below)


def _counted_ranks(counts: Sequence[tuple[float, float]]) -> Callable[[int], float]:
    """The value at a 0-based rank of the ascending values given as (value, count)."""
    cumulative = list(itertools.accumulate(int(count) for _, count in counts))

    def at_rank(rank: int) -> float:
        return counts[bisect.bisect_right(cumulative, rank)][0]

    return at_rank


def stacked_rows(
    engine: ComputeEngine, sql: str, columns: Sequence[str]
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of a stacked query (the column's index first), per column, in the rows'
    order."""
    grouped: dict[str, list[tuple[Any, ...]]] = {column: [] for column in columns}
    if columns:
        for index, *rest in engine.query(sql):
            grouped[columns[int(index)]].append(tuple(rest))
    return grouped


def column_bins(
    engine: ComputeEngine,
    table: str,
    columns: Sequence[tuple[str, Sequence[float]]],
    where: str | None = None,
) -> dict[str, list[int]]:
    """Per numeric column, counts per bin of its edges: index 0 is the unusable rows, then
    one count per bin (len(edges) + 1 bins)."""
    found = {}
    q = engine.drift_queries
    for group in q.groups(columns):
        [row] = engine.query(q.bin_counts(table, group, where))
        start = 0
        for column, edges in group:
            rows, usable, *above = (int(value) for value in row[start : start + 2 + len(edges)])
            start += 2 + len(edges)
            cumulative = [usable, *above, 0]
            found[column] = [rows - usable] + [
                cumulative[i] - cumulative[i + 1] for i in range(len(edges) + 1)
            ]
    return found


def column_categories(
    engine: ComputeEngine,
    table: str,
    columns: Sequence[str],
    where: str | None = None,
) -> dict[str, list[tuple[Any, int]]]:
    """Per categorical column, its (category as text or None, count) rows."""
    found: dict[str, list[tuple[Any, int]]] = {column: [] for column in columns}
    q = engine.drift_queries
    for group in q.groups(columns):
        width = len(group)
        for row in engine.query(q.category_counts(table, group, where)):
            index = [int(flag) for flag in row[:width]].index(0)
            found[group[index]].append((row[width + index], int(row[-1])))
    return found


def categorical_profile(counts: Sequence[tuple[Any, ...]]) -> CategoricalProfile:
    """A categorical profile from (category, count) rows (NULL: unusable)."""
    rows = sum(int(c) for _, c in counts)
    present = sorted(((str(v), int(c)) for v, c in counts if v is not None), key=lambda x: -x[1])
    kept = dict(present[:MAX_CATEGORIES])
    other = sum(c for _, c in present[MAX_CATEGORIES:])
    return CategoricalProfile(rows, sum(c for _, c in present), kept, other)
