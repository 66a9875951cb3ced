"""Snapshot (`last`) terms: the latest kept event at or before each spine row, as DuckDB's ASOF
JOIN or, for engines without one (Spark), as a running last over spine and events."""

from __future__ import annotations

from lucid.contracts.semantic import (
    FeatureDefinition,
    Source,
    Term,
)
from lucid.engines.relations import SPINE_AS_OF, SPINE_ENTITY, entity_key, kept_rows, quote


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


def asof_cte(
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
        f"  ASOF LEFT JOIN (SELECT {entity_key(source, 'r')} AS __k, "
        f"{latest_event(term, 'r', source, flagged=False)} AS __o FROM {relation} r "
        f"WHERE r.{time} IS NOT NULL AND {kept_rows(definition, source, term.filters)}) e\n"
        f"    ON e.__k = s.{SPINE_ENTITY} AND e.__o <= {{{', '.join(bound)}}}\n)"
    )


def running_last_cte(
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
    key = entity_key(source, "r")
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
        f"        AND {kept_rows(definition, source, term.filters)}\n"
        f"    ) AS __rows\n"
        f"  ) AS __running\n"
        f"  WHERE __l = 1\n)"
    )
