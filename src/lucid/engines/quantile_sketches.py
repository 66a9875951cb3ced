"""Quantile sketches in SQL: what the drift queries of a sketching dialect (Spark) read
ranks from, instead of a sort of every value (see `lucid.engines.drift_sql`).

A column's value at 0-based rank k of n is read from its KLL sketch at the normalised rank
closest to (k + 0.5) / n among the `QUANTILE_GRID` ranks (j + 0.5) / G; the rank of the value
returned is off by at most (ε + 1 / (2G))·n, ε the sketch's normalised rank error
(`sketch_rank_error`). The current side of the ECDF distances is the ECDF of those G quantiles
of its sketch, each weighing 1/G: KS D is off by at most ε + 1/G and Wasserstein-1 by at most
(ε + 1/G) times the range of the values. A sketch holds every value of a column with fewer
than `k` of them (exact ranks). Long lists reach the engine as one text cast to a list
(`number_list`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

QUANTILE_GRID = 10_000
"""How many ranks, (j + 0.5) / QUANTILE_GRID, a quantile sketch is read at."""


def sketch_rank_error(k: int) -> float:
    """The normalised rank error of a single quantile read from a KLL sketch of parameter
    `k`, at 99 % confidence (Apache DataSketches' bound: 2.296 / k^0.9723)."""
    return float(2.296 / k**0.9723)


def number_list(numbers: Sequence[float] | Sequence[int], kind: str) -> str:
    """A list literal of `kind` (DOUBLE, BIGINT) written as one text split and cast: an engine
    folds it to a constant as it plans, where a literal of thousands of elements costs its
    planner seconds."""
    return f"CAST(string_split('{','.join(map(str, numbers))}', ',') AS {kind}[])"


def _grid() -> str:
    """The ranks a sketch is read at, as a DOUBLE list."""
    return number_list([(j + 0.5) / QUANTILE_GRID for j in range(QUANTILE_GRID)], "DOUBLE")


def sketched(
    relation: str,
    names: Sequence[str],
    k: int,
    stack: str,
    lists: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Rows (column index named `stack`, usable values n, the values at the `QUANTILE_GRID`
    ranks q, then per name of `lists` that column's expression of it): one KLL sketch of
    parameter `k` per column `names` of `relation` (DOUBLE, NULL when unusable), all built in
    one aggregation (one scan). Read it through a generator (UNNEST), which a projection
    cannot be merged into, so each sketch is read once."""
    sketches = ", ".join(f"kll_sketch_agg_double({x}, {k}) AS {x}" for x in names)
    extra = dict(lists or {})
    listed = ", ".join(
        ", ".join([str(i), x, *(values[i] for values in extra.values())])
        for i, x in enumerate(names)
    )
    more = "".join(f", {name}" for name in extra)
    return f"""
SELECT {stack}, kll_sketch_get_n_double(s) AS n,
    kll_sketch_get_quantile_double(s, {_grid()}) AS q{more}
FROM (
    SELECT stack({len(names)}, {listed}) AS ({stack}, s{more})
    FROM (SELECT {sketches} FROM {relation}) AS sketches
) AS stacked
"""


def merged_points(
    relation: str,
    names: Sequence[str],
    k: int,
    stack: str,
    references: Sequence[Sequence[tuple[float, float]]],
) -> str:
    """Rows (column index, v, c, r), the points `drift_sql.ecdf_distances` merges on a
    sketching dialect: per column of `names` the current side's `QUANTILE_GRID` quantiles
    (c = 1 each) and its reference (value, weight r) points, read from one row per column (the
    reference as lists, not a VALUES list Spark plans for seconds)."""
    lists = {
        "vs": [number_list([v for v, _ in points], "DOUBLE") for points in references],
        "ws": [number_list([w for _, w in points], "DOUBLE") for points in references],
    }
    source = sketched(relation, names, k, stack, lists)
    one, zero = "CAST(1 AS DOUBLE)", "CAST(0 AS DOUBLE)"
    current = f"array_repeat({one}, {QUANTILE_GRID}), array_repeat({zero}, array_length(vs))"
    return f"""
    SELECT {stack}, p.v AS v, p.c AS c, p.r AS r FROM (
        SELECT {stack}, unnest(arrays_zip(v, c, r)) AS p FROM (
            SELECT {stack}, list_concat(q, vs) AS v,
                list_concat({current}) AS c,
                list_concat(array_repeat({zero}, {QUANTILE_GRID}), ws) AS r
            FROM ({source}) AS sketched
        ) AS lists
    ) AS points"""
