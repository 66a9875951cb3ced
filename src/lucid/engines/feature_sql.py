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

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from lucid.contracts.semantic import (
    Aggregate,
    ColumnType,
    Condition,
    FeatureDefinition,
    Normaliser,
    NormaliserKind,
    Operator,
    Scalar,
    Source,
    SqlAggregate,
    Term,
    ValueType,
    WindowedAggregation,
)
from lucid.engines.dialects import SOURCE_DIALECT
from lucid.errors import InvalidInput

SPINE_ENTITY = "__lucid_entity"
SPINE_AS_OF = "__lucid_as_of"
DIALECTS = (SOURCE_DIALECT, "spark")
"""The engines' dialects: DuckDB's runs snapshots as ASOF JOINs, Spark's as a running last."""

_VALUE_TYPES = {
    ValueType.FLOAT: "DOUBLE",
    ValueType.INTEGER: "BIGINT",
    ValueType.BOOLEAN: "BOOLEAN",
    ValueType.STRING: "VARCHAR",
}


def view_name(source: Source) -> str:
    """The relation name feature SQL uses for a source, on every engine."""
    return f"source_{source.name}"


def quote(identifier: str) -> str:
    """A quoted SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: Scalar) -> str:
    """A SQL literal for a filter value."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def condition_sql(condition: Condition, alias: str) -> str:
    column = f"{alias}.{quote(condition.column)}"
    if condition.op is Operator.IS_NULL:
        return f"{column} IS NULL"
    if condition.op is Operator.NOT_NULL:
        return f"{column} IS NOT NULL"
    if isinstance(condition.value, tuple):
        values = ", ".join(literal(item) for item in condition.value)
        keyword = "IN" if condition.op is Operator.IN else "NOT IN"
        return f"{column} {keyword} ({values})"
    assert condition.value is not None
    operator = "<>" if condition.op is Operator.NE else condition.op.value
    return f"{column} {operator} {literal(condition.value)}"


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


def latest_event(term: Term, alias: str, source: Source, *, flagged: bool = True) -> str:
    """An event as a struct whose order is the order of `last`: the greatest is the latest
    kept event (docs/features.md, Ties): event time, then ingestion time when declared, then
    the value, a NULL ranking above every value (as in PostgreSQL's order).

    `t` is the event time and `v` the value. The `ni` and `n` flags (true for a NULL) put a
    NULL above every value whatever the engine's order of NULLs inside a struct (Spark ranks
    them low). `flagged=False` leaves them out, for DuckDB alone, which ranks a NULL inside a
    struct above every value itself: the ASOF JOIN compares a narrower struct, ~5 % faster.
    """
    fields = [f"'t': {alias}.{quote(source.event_time)}"]
    value = f"{alias}.{quote(term.column or '')}"
    if source.ingestion_time is not None:
        ingested = f"{alias}.{quote(source.ingestion_time)}"
        fields += [f"'ni': {ingested} IS NULL"] if flagged else []
        fields += [f"'i': {ingested}"]
    fields += [f"'n': {value} IS NULL"] if flagged else []
    fields += [f"'v': {value}"]
    return "{" + ", ".join(fields) + "}"


def check_sql_aggregate(computation: SqlAggregate, source: Source) -> None:
    """Refuse a SQL expression that is not one aggregate over the source's own columns."""
    import sqlglot  # imported here: sqlglot takes half a second to import
    from sqlglot import exp

    field = "computation.sql.expression"
    try:
        tree = sqlglot.parse_one(f"SELECT {computation.expression}", read=SOURCE_DIALECT)
    except sqlglot.errors.ParseError as error:
        raise InvalidInput(field, f"is not valid SQL: {str(error).splitlines()[0]}") from None
    if not isinstance(tree, exp.Select) or len(tree.expressions) != 1 or tree.args.get("from"):
        raise InvalidInput(field, "must be a single expression, not a query")
    if any(isinstance(node, exp.Select) for node in tree.expressions[0].walk()):
        raise InvalidInput(field, "must not contain a subquery")
    if not any(isinstance(node, exp.AggFunc) for node in tree.expressions[0].walk()):
        raise InvalidInput(field, "must aggregate the window's events (e.g. SUM, COUNT, AVG)")
    unknown = sorted({column.name for column in tree.find_all(exp.Column)} - set(source.schema))
    if unknown:
        raise InvalidInput(
            field, f"uses column(s) {', '.join(unknown)} that source {source.name} does not have"
        )


def check_columns(definition: FeatureDefinition, sources: Mapping[str, Source]) -> None:
    """Refuse a definition that names a source, entity or column its sources do not have."""
    missing = sorted(name for name in definition.sources if name not in sources)
    if missing:
        raise InvalidInput(
            f"{definition.name}.computation",
            f"source(s) {', '.join(missing)} not registered",
        )
    for name in definition.sources:
        source = sources[name]
        if source.entity != definition.entity:
            raise InvalidInput(
                f"{definition.name}.entity",
                f"{definition.entity} differs from the entity of source {name} ({source.entity})",
            )
    computation = definition.computation
    if isinstance(computation, SqlAggregate):
        check_sql_aggregate(computation, sources[computation.source])
    else:
        for term in computation.terms:
            columns = [c.column for c in term.filters] + ([term.column] if term.column else [])
            _require_columns(sources[term.source], columns, f"{definition.name} term {term.source}")
    for exclusion in definition.exclusions:
        targets = exclusion.sources or definition.sources
        for name in targets:
            _require_columns(
                sources[name],
                [exclusion.where.column],
                f"{definition.name}.exclusions.{exclusion.name}",
            )


def _require_columns(source: Source, columns: list[str], where: str) -> None:
    for column in columns:
        if column not in source.schema:
            raise InvalidInput(
                where,
                f"column {column!r} is not in source {source.name} ({', '.join(source.schema)})",
            )


def feature_sql(
    definition: FeatureDefinition,
    sources: Mapping[str, Source],
    spine: str,
    relation: Callable[[Source], str],
    *,
    as_known_at: bool = False,
    asof_join: bool = True,
    prefix: str = "",
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
    """
    check_columns(definition, sources)
    computation = definition.computation
    terms: list[tuple[Term | None, Source, Normaliser, float]] = []
    if isinstance(computation, WindowedAggregation):
        for term in computation.terms:
            terms.append((term, sources[term.source], term.normalise, term.weight))
    else:
        terms.append((None, sources[computation.source], Normaliser(), 1.0))
    # Named apart from the spine relation, which `lucid features show --sql` calls `spine`.
    ctes = [f"{prefix}spine_rows AS (SELECT DISTINCT {SPINE_ENTITY}, {SPINE_AS_OF} FROM {spine})"]
    value_parts, times = [], []
    for index, (maybe_term, source, normaliser, weight) in enumerate(terms):
        known_at = as_known_at and source.ingestion_time is not None
        if not known_at and maybe_term is not None and maybe_term.aggregate is Aggregate.LAST:
            snapshot = _asof_cte if asof_join else _running_last_cte
            ctes.append(snapshot(index, definition, source, maybe_term, relation(source), prefix))
        else:
            ctes.append(
                _term_cte(index, definition, source, maybe_term, relation(source), known_at, prefix)
            )
        part = normaliser_sql(normaliser, f"{prefix}t{index}.agg")
        value_parts.append(part if weight == 1.0 else f"{weight!r} * {part}")
        times.append(f"{prefix}t{index}.dt")
    # Each term has exactly one row per spine row (grouped by it, its ASOF LEFT JOIN, or its
    # spine rows of the UNION ALL), so
    # the terms join to the first one; joining them back to the spine would cost a join more.
    joins = "".join(
        f"\nJOIN {prefix}t{i} ON {prefix}t{i}.{SPINE_ENTITY} IS NOT DISTINCT FROM "
        f"{prefix}t0.{SPINE_ENTITY} AND {prefix}t{i}.{SPINE_AS_OF} = {prefix}t0.{SPINE_AS_OF}"
        for i in range(1, len(terms))
    )
    # GREATEST skips NULLs on DuckDB and Spark: the latest data time of the non-empty terms.
    data_time = times[0] if len(times) == 1 else f"GREATEST({', '.join(times)})"
    value = f"CAST({' + '.join(value_parts)} AS {_VALUE_TYPES[definition.value_type]})"
    if definition.ttl is not None:
        oldest = f"{prefix}t0.{SPINE_AS_OF} - INTERVAL '{definition.ttl.seconds}' SECOND"
        value = f"CASE WHEN {data_time} >= {oldest} THEN {value} END"
    return (
        "WITH " + ",\n".join(ctes) + "\n"
        f"SELECT {prefix}t0.{SPINE_ENTITY} AS entity_id, {prefix}t0.{SPINE_AS_OF} AS as_of, "
        f"{value} AS value, {data_time} AS data_time\n"
        f"FROM {prefix}t0{joins}"
    )


def _term_cte(
    index: int,
    definition: FeatureDefinition,
    source: Source,
    term: Term | None,
    relation: str,
    known_at: bool,
    prefix: str,
) -> str:
    """A term as a range join of the spine with the source's kept events, grouped by spine
    row (`term` None: the definition's SQL aggregate)."""
    time = f"e.{quote(source.event_time)}"
    on = [
        f"{_entity_key(source, 'e')} = s.{SPINE_ENTITY}",
        f"{time} > s.{SPINE_AS_OF} - INTERVAL '{definition.window.seconds}' SECOND",
        f"{time} <= s.{SPINE_AS_OF}",
    ]
    if known_at:
        on.append(f"e.{quote(source.ingestion_time or '')} <= s.{SPINE_AS_OF}")
    filters: tuple[Condition, ...] = ()
    if term is None:
        assert isinstance(definition.computation, SqlAggregate)
        aggregate = definition.computation.expression
    else:
        aggregate, filters = aggregate_sql(term, "e", source), term.filters
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
        f"WHERE {_kept_rows(definition, source, filters)}) e\n"
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


def training_feature_sql(
    definition: FeatureDefinition,
    sources: Mapping[str, Source],
    spine: str,
    relation: Callable[[Source], str],
    *,
    dialect: str,
    prefix: str = "",
) -> str:
    """The query a training set runs for one feature on the engine of `dialect`: as known at
    every row of `spine`, in that engine's form (still in DuckDB's dialect; see `to_dialect`).
    `lucid features show --sql` prints it."""
    return feature_sql(
        definition,
        sources,
        spine,
        relation,
        as_known_at=True,
        asof_join=dialect == SOURCE_DIALECT,
        prefix=prefix,
    )


LABEL_ROW = "__lucid_row"
"""The label relation's row number: the training set keeps the labels' order."""


def training_set_sql(
    features: Sequence[FeatureDefinition],
    sources: Mapping[str, Source],
    relation: Callable[[Source], str],
    *,
    labels: str,
    label_columns: Sequence[str],
    entity_column: str,
    time_column: str,
    spine: str,
    dialect: str = SOURCE_DIALECT,
) -> tuple[str, str]:
    """The spine query over `labels` and the training-set query joining every feature, as
    known at each label's time, back onto each label row (duplicates and order kept).

    `labels` is a relation with the label columns and `__lucid_row`; the caller registers
    the spine query as `spine` before running the training-set query.
    """
    known = [column for column in label_columns if column != LABEL_ROW]
    for role, column in (("entity_column", entity_column), ("time_column", time_column)):
        if column not in known:
            raise InvalidInput(
                role, f"{column!r} is not a column of the labels ({', '.join(sorted(known))})"
            )
    names = [definition.name for definition in features]
    clash = sorted({name for name in names if names.count(name) > 1} | (set(names) & set(known)))
    if clash:
        raise InvalidInput(
            "features",
            f"{', '.join(clash)} would appear twice in the training set: pin one version of "
            "each feature, and keep label columns apart from feature names",
        )
    entity = f"CAST(l.{quote(entity_column)} AS VARCHAR)"
    moment = f"CAST(l.{quote(time_column)} AS TIMESTAMP)"
    spine_sql = f"SELECT {entity} AS {SPINE_ENTITY}, {moment} AS {SPINE_AS_OF} FROM {labels} l"
    joins, selected = [], [f"l.{quote(column)}" for column in known]
    for index, definition in enumerate(features):
        query = training_feature_sql(
            definition, sources, spine, relation, dialect=dialect, prefix=f"f{index}_"
        )
        joins.append(
            f"LEFT JOIN ({query}) f{index} ON f{index}.entity_id = {entity} "
            f"AND f{index}.as_of = {moment}"
        )
        selected.append(f"f{index}.value AS {quote(definition.name)}")
    sql = (
        f"SELECT {', '.join(selected)}\nFROM {labels} l\n"
        + "\n".join(joins)
        + f"\nORDER BY l.{LABEL_ROW}"
    )
    return spine_sql, sql


def entity_spine_sql(
    definition: FeatureDefinition,
    sources: Mapping[str, Source],
    relation: Callable[[Source], str],
    at: datetime,
    keys: Source | None = None,
) -> str:
    """The spine of a materialisation at `at` (naive UTC): one row per entity id, as text.

    Without `keys`, every id any of the feature's sources holds. With `keys` (the source that
    lists the feature's entity, docs/features.md "Entities"), exactly the ids it holds as
    known at `at`: event time, and ingestion time when declared, at or before `at`.
    """
    moment = f"CAST({literal(at.isoformat(sep=' '))} AS TIMESTAMP)"
    if keys is None:
        listed = " UNION ".join(
            f"SELECT DISTINCT {_entity_key(source, 'r')} AS k FROM {relation(source)} r"
            for source in (sources[name] for name in definition.sources)
        )
    else:
        if keys.entity != definition.entity:
            raise InvalidInput(
                "keys",
                f"source {keys.name} lists {keys.entity}, not {definition.name}'s entity "
                f"({definition.entity})",
            )
        known = [f"r.{quote(keys.event_time)} <= {moment}"]
        if keys.ingestion_time is not None:
            known.append(f"r.{quote(keys.ingestion_time)} <= {moment}")
        listed = (
            f"SELECT DISTINCT {_entity_key(keys, 'r')} AS k FROM {relation(keys)} r "
            f"WHERE {' AND '.join(known)}"
        )
    return (
        f"SELECT k AS {SPINE_ENTITY}, {moment} AS {SPINE_AS_OF} FROM ({listed}) AS __keys "
        "WHERE k IS NOT NULL"
    )


def _entity_key(source: Source, alias: str) -> str:
    """The source's entity key as text, the spine's entity type."""
    key = f"{alias}.{quote(source.entity_key)}"
    return (
        key if source.schema[source.entity_key] is ColumnType.STRING else f"CAST({key} AS VARCHAR)"
    )


def _kept_rows(
    definition: FeatureDefinition, source: Source, filters: tuple[Condition, ...]
) -> str:
    conditions = [
        f"NOT COALESCE({condition_sql(exclusion.where, 'r')}, FALSE)"
        for exclusion in definition.exclusions
        if exclusion.applies_to(source.name)
    ]
    conditions.extend(condition_sql(condition, "r") for condition in filters)
    return " AND ".join(conditions) if conditions else "TRUE"


def _asof_cte(
    index: int,
    definition: FeatureDefinition,
    source: Source,
    term: Term,
    relation: str,
    prefix: str,
) -> str:
    """A snapshot term as DuckDB's ASOF JOIN: the value of the latest kept event at or before
    t (NULL when that event's value is NULL), if that event is inside the window.

    The join orders events by `latest_event`, so of several events at the latest time the tie
    rule's winner is taken. The spine side is that struct at t with NULL ingestion time and
    value: DuckDB ranks a NULL inside a struct above every value, so it bounds every event at
    t and none after it.
    """
    time = quote(source.event_time)
    inside = f"e.__o.t > s.{SPINE_AS_OF} - INTERVAL '{definition.window.seconds}' SECOND"
    bound = [f"'t': s.{SPINE_AS_OF}"]
    if source.ingestion_time is not None:
        bound += ["'i': NULL"]
    bound += ["'v': NULL"]
    return (
        f"{prefix}t{index} AS (\n"
        f"  SELECT s.{SPINE_ENTITY}, s.{SPINE_AS_OF},\n"
        f"    CASE WHEN {inside} THEN e.__o.v END AS agg,\n"
        f"    CASE WHEN {inside} THEN CAST(e.__o.t AS TIMESTAMP) END AS dt\n"
        f"  FROM {prefix}spine_rows s\n"
        f"  ASOF LEFT JOIN (SELECT {_entity_key(source, 'r')} AS __k, "
        f"{latest_event(term, 'r', source, flagged=False)} AS __o FROM {relation} r "
        f"WHERE r.{time} IS NOT NULL AND {_kept_rows(definition, source, term.filters)}) e\n"
        f"    ON e.__k = s.{SPINE_ENTITY} AND e.__o <= {{{', '.join(bound)}}}\n)"
    )


def _running_last_cte(
    index: int,
    definition: FeatureDefinition,
    source: Source,
    term: Term,
    relation: str,
    prefix: str,
) -> str:
    """A snapshot term without ASOF JOIN, with the ASOF JOIN's result: spine rows and kept
    events in one UNION ALL, each spine row taking the running last event of its entity.

    Events sort before a spine row of the same time (`__l` 0 before 1), so an event at exactly
    t counts; events of the same time sort by `last`'s tie rule (ingestion time, then value,
    NULLs last), so the last of them wins. The event is carried as a struct (`latest_event`),
    never NULL, so `IGNORE NULLS` skips only the spine rows while a NULL value of the latest
    event stays NULL. Events without key or time never match, as in the join.
    """
    time, window = quote(source.event_time), definition.window.seconds
    key = _entity_key(source, "r")
    ties = "".join(
        f", __e.{field} NULLS LAST"
        for field in (("i", "v") if source.ingestion_time is not None else ("v",))
    )
    inside = f"__e.t > __t - INTERVAL '{window}' SECOND"
    return (
        f"{prefix}t{index} AS (\n"
        f"  SELECT __k AS {SPINE_ENTITY}, __t AS {SPINE_AS_OF},\n"
        f"    CASE WHEN {inside} THEN __e.v END AS agg,\n"
        f"    CASE WHEN {inside} THEN CAST(__e.t AS TIMESTAMP) END AS dt\n"
        f"  FROM (\n"
        f"    SELECT __k, __t, __l, LAST_VALUE(__e IGNORE NULLS) OVER (PARTITION BY __k\n"
        f"      ORDER BY __t, __l{ties}\n"
        f"      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __e\n"
        f"    FROM (\n"
        f"      SELECT s.{SPINE_ENTITY} AS __k, s.{SPINE_AS_OF} AS __t, 1 AS __l, NULL AS __e\n"
        f"      FROM {prefix}spine_rows s\n"
        f"      UNION ALL\n"
        f"      SELECT {key} AS __k, r.{time} AS __t, 0 AS __l,\n"
        f"        {latest_event(term, 'r', source)} AS __e\n"
        f"      FROM {relation} r\n"
        f"      WHERE {key} IS NOT NULL AND r.{time} IS NOT NULL\n"
        f"        AND {_kept_rows(definition, source, term.filters)}\n"
        f"    ) AS __rows\n"
        f"  ) AS __running\n"
        f"  WHERE __l = 1\n)"
    )
