"""Feature definitions compiled to SQL: the one place that writes feature queries.

The query computes a feature for every row of a *spine* — a relation with the columns
`__lucid_entity` and `__lucid_as_of` — and returns `entity_id, as_of, value, data_time`. It is
written in DuckDB's dialect; `lucid.engines.dialects.to_dialect` turns it into another engine's
(Spark) with sqlglot.

Window rule: an event counts for time `t` when `t - window < event_time <= t`; an event one
second after `t` never counts. As known at: when a source declares an ingestion-time column
and `as_known_at` is set, an event also needs `ingestion_time <= t`. Exclusions remove rows whose
condition is true; a NULL condition does not exclude.

Data time (docs/features.md): the event time of the latest event behind a value — for `last`
the chosen event, for other aggregates the latest kept event in the window, across terms the
latest; NULL for an empty window. With a TTL the value is NULL unless
`as_of - data_time <= ttl`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from lucid.contracts.semantic import (
    Aggregate,
    Condition,
    FeatureDefinition,
    Normaliser,
    NormaliserKind,
    Source,
    SqlAggregate,
    Term,
    ValueType,
    WindowedAggregation,
)
from lucid.engines.definition_checks import check_columns, check_sql_aggregate
from lucid.engines.relations import (
    SPINE_AS_OF,
    SPINE_ENTITY,
    entity_key,
    kept_rows,
    literal,
    quote,
)
from lucid.engines.snapshot_sql import asof_cte, latest_event, running_last_cte

VALUE_TYPES = {
    ValueType.FLOAT: "DOUBLE",
    ValueType.INTEGER: "BIGINT",
    ValueType.BOOLEAN: "BOOLEAN",
    ValueType.STRING: "VARCHAR",
}


def normaliser_sql(normaliser: Normaliser, value: str) -> str:
    """The declared normaliser applied to a SQL value."""
    as_double = f"CAST({value} AS DOUBLE)"
    if normaliser.kind is NormaliserKind.CAP:
        # Not LEAST: it skips a NULL, and an empty window's NULL would score the cap itself.
        cap = repr(normaliser.parameter)
        return f"(CASE WHEN {as_double} > {cap} THEN {cap} ELSE {as_double} END / {cap})"
    if normaliser.kind is NormaliserKind.LOG1P:
        return f"LN(1 + {as_double})"
    if normaliser.kind is NormaliserKind.SATURATING:
        return f"({as_double} / ({as_double} + {normaliser.parameter!r}))"
    return value


def aggregate_sql(term: Term, alias: str, source: Source) -> str:
    if term.aggregate is Aggregate.COUNT:
        return "COUNT(e.__lucid_matched)"
    column = f"{alias}.{quote(term.column or '')}"
    if term.aggregate is Aggregate.LAST:
        return f"MAX({latest_event(term, alias, source)})"
    if term.aggregate is Aggregate.COUNT_DISTINCT:
        return f"COUNT(DISTINCT {column})"
    expression = f"{term.aggregate.value.upper()}({column})"
    return f"COALESCE({expression}, 0)" if term.aggregate.zero_when_empty else expression


def feature_sql(
    definition: FeatureDefinition,
    sources: Mapping[str, Source],
    spine: str,
    relation: Callable[[Source], str],
    *,
    as_known_at: bool = False,
    asof_join: bool = True,
    prefix: str = "",
    at: datetime | None = None,
) -> str:
    """The query computing `definition` for every distinct (entity, as_of) of `spine`: its
    rows are `entity_id, as_of, value, data_time` (data time and TTL: the module's docstring).

    `relation(source)` gives the SQL relation (table, view or table function) of a source.
    Snapshot (`last`) terms are DuckDB's ASOF JOIN; `asof_join=False` writes them instead as
    the UNION ALL of spine and event rows with a running `LAST_VALUE ... IGNORE NULLS`, for
    engines that have no ASOF JOIN (Spark): the same result, faster there than a range join
    (bench/scale.py, docs/architecture.md). As known at (a source with an ingestion time) both
    engines use the range join, taking the greatest `latest_event` struct.
    `prefix` names this query's CTEs apart when several are nested in one statement (Spark
    refuses duplicate CTE names once sqlglot hoists them).
    `at` (naive UTC) says every spine row's as_of is that one time (a materialisation): the
    range joins' bounds are then also constant filters on the source, which the engine pushes
    into its scan, so only the window's files and row groups are read. The result is the same.
    """
    check_columns(definition, sources)
    terms = _terms(definition, sources)
    # Named apart from the spine relation, which `lucid features show --sql` calls `spine`.
    ctes = [f"{prefix}spine_rows AS (SELECT DISTINCT {SPINE_ENTITY}, {SPINE_AS_OF} FROM {spine})"]
    value_parts, times = [], []
    for index, (maybe_term, source, normaliser, weight) in enumerate(terms):
        known_at = as_known_at and source.ingestion_time is not None
        if not known_at and maybe_term is not None and maybe_term.aggregate is Aggregate.LAST:
            snapshot = asof_cte if asof_join else running_last_cte
            ctes.append(snapshot(index, definition, source, maybe_term, relation(source), prefix))
        else:
            ctes.append(
                _term_cte(
                    index, definition, source, maybe_term, relation(source), known_at, prefix, at
                )
            )
        part = normaliser_sql(normaliser, f"{prefix}t{index}.agg")
        value_parts.append(part if weight == 1.0 else f"{weight!r} * {part}")
        times.append(f"{prefix}t{index}.dt")
    # Each term has exactly one row per spine row (grouped by it, its ASOF LEFT JOIN, or its
    # spine rows of the UNION ALL), so the terms join to the first one; joining them back to
    # the spine would cost a join more.
    joins = "".join(
        f"\nJOIN {prefix}t{i} ON {prefix}t{i}.{SPINE_ENTITY} IS NOT DISTINCT FROM "
        f"{prefix}t0.{SPINE_ENTITY} AND {prefix}t{i}.{SPINE_AS_OF} = {prefix}t0.{SPINE_AS_OF}"
        for i in range(1, len(terms))
    )
    # GREATEST skips NULLs on DuckDB and Spark: the latest data time of the non-empty terms.
    data_time = times[0] if len(times) == 1 else f"GREATEST({', '.join(times)})"
    value = f"CAST({' + '.join(value_parts)} AS {VALUE_TYPES[definition.value_type]})"
    if definition.ttl is not None:
        oldest = f"{prefix}t0.{SPINE_AS_OF} - INTERVAL '{definition.ttl.seconds}' SECOND"
        value = f"CASE WHEN {data_time} >= {oldest} THEN {value} END"
    return (
        "WITH " + ",\n".join(ctes) + "\n"
        f"SELECT {prefix}t0.{SPINE_ENTITY} AS entity_id, {prefix}t0.{SPINE_AS_OF} AS as_of, "
        f"{value} AS value, {data_time} AS data_time\n"
        f"FROM {prefix}t0{joins}"
    )


def _terms(
    definition: FeatureDefinition, sources: Mapping[str, Source]
) -> list[tuple[Term | None, Source, Normaliser, float]]:
    """Each term of the computation with its source, normaliser and weight (`None` for the
    definition's SQL aggregate, its only term)."""
    computation = definition.computation
    if isinstance(computation, WindowedAggregation):
        return [
            (term, sources[term.source], term.normalise, term.weight) for term in computation.terms
        ]
    return [(None, sources[computation.source], Normaliser(), 1.0)]


def _term_cte(
    index: int,
    definition: FeatureDefinition,
    source: Source,
    term: Term | None,
    relation: str,
    known_at: bool,
    prefix: str,
    at: datetime | None = None,
) -> str:
    """A term as a range join of the spine with the source's kept events, grouped by spine
    row (`term` None: the definition's SQL aggregate); with `at` (every spine row's as_of),
    the source's rows are first narrowed to the window ending at `at`."""
    time = f"e.{quote(source.event_time)}"
    on = [
        f"{entity_key(source, 'e')} = s.{SPINE_ENTITY}",
        f"{time} > s.{SPINE_AS_OF} - INTERVAL '{definition.window.seconds}' SECOND",
        f"{time} <= s.{SPINE_AS_OF}",
    ]
    if known_at:
        on.append(f"e.{quote(source.ingestion_time or '')} <= s.{SPINE_AS_OF}")
    filters: tuple[Condition, ...] = ()
    if term is None:
        assert isinstance(definition.computation, SqlAggregate)
        aggregate = check_sql_aggregate(definition.name, definition.computation, source)
    else:
        aggregate, filters = aggregate_sql(term, "e", source), term.filters
    kept = kept_rows(definition, source, filters)
    if at is not None:
        moment = f"CAST({literal(at.isoformat(sep=' '))} AS TIMESTAMP)"
        bounds = [
            f"r.{quote(source.event_time)} > {moment} - INTERVAL '{definition.window.seconds}'"
            " SECOND",
            f"r.{quote(source.event_time)} <= {moment}",
        ]
        if known_at:
            bounds.append(f"r.{quote(source.ingestion_time or '')} <= {moment}")
        kept = " AND ".join([*bounds, f"({kept})"])
    last = term is not None and term.aggregate is Aggregate.LAST
    selected = (
        f"{aggregate} AS __last"
        if last
        else f"{aggregate} AS agg, CAST(MAX({time}) AS TIMESTAMP) AS dt"
    )
    grouped = (
        f"  SELECT s.{SPINE_ENTITY}, s.{SPINE_AS_OF}, {selected}\n"
        f"  FROM {prefix}spine_rows s\n"
        f"  LEFT JOIN (SELECT r.*, TRUE AS __lucid_matched FROM {relation} r "
        f"WHERE {kept}) e\n"
        f"    ON {' AND '.join(on)}\n"
        f"  GROUP BY s.{SPINE_ENTITY}, s.{SPINE_AS_OF}"
    )
    if not last:
        return f"{prefix}t{index} AS (\n{grouped}\n)"
    return (
        f"{prefix}t{index} AS (\n"
        f"  SELECT {SPINE_ENTITY}, {SPINE_AS_OF}, __g.__last.v AS agg,\n"
        f"    CAST(__g.__last.t AS TIMESTAMP) AS dt\n"
        f"  FROM (\n{grouped}\n  ) AS __g\n)"
    )
