"""Snapshot (`last`) features of a DuckDB training set, joined to the label rows themselves:
one ASOF JOIN per source and set of kept rows, whatever the number of features it serves.

A group's ASOF JOIN carries only the entity key and the event time, so each label row learns
the time of the latest kept event at or before it. An equality join on (entity, that time)
then brings the events of that instant. When one of them holds several events (a tie), one
aggregate per label row applies `last`'s tie rule (docs/features.md, Ties) to each column
apart: the greatest value, a NULL above every value. The DuckDB engine runs the two joins as
two statements, each held as a temporary table, and that aggregate only when some label row
got more than one event (`Settle`). The events are sorted once per group instead of once per
feature, and the label rows are never reduced to a spine and joined back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from lucid.contracts.semantic import (
    Aggregate,
    FeatureDefinition,
    Source,
    Term,
    WindowedAggregation,
)
from lucid.engines.definition_checks import check_columns
from lucid.engines.feature_sql import VALUE_TYPES, normaliser_sql
from lucid.engines.relations import LABEL_ROW, entity_key, kept_rows, quote

_INTEGERS = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
    | {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)


def snapshot_term(definition: FeatureDefinition, source: Source) -> Term | None:
    """The definition's one `last` term when a group can serve it: a single term over a
    source without an ingestion time (as known at, the range join serves the others)."""
    computation = definition.computation
    if not isinstance(computation, WindowedAggregation) or len(computation.terms) != 1:
        return None
    [term] = computation.terms
    if term.aggregate is not Aggregate.LAST or source.ingestion_time is not None:
        return None
    return term


@dataclass
class SnapshotGroup:
    """The `last` features read from one source's same kept rows, and the columns they read."""

    source: Source
    kept: str
    features: list[tuple[FeatureDefinition, Term]] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(term.column or "" for _, term in self.features))


def snapshot_groups(
    features: Sequence[FeatureDefinition], sources: Mapping[str, Source]
) -> list[SnapshotGroup]:
    """The features a group serves, grouped by source and kept rows (exclusions, filters)."""
    groups: dict[tuple[str, str], SnapshotGroup] = {}
    for definition in features:
        source = sources[definition.sources[0]]
        term = snapshot_term(definition, source)
        if term is None:
            continue
        check_columns(definition, sources)
        kept = kept_rows(definition, source, term.filters)
        group = groups.setdefault((source.name, kept), SnapshotGroup(source, kept))
        group.features.append((definition, term))
    return list(groups.values())


def compared_entity(label_type: str | None, key_type: str | None) -> bool:
    """Whether the label's entity column and the source's key compare as they are: both
    integers or both text. Otherwise both are compared as text (docs/features.md: `42` in
    an integer key column and `"42"` in a label file are the same entity)."""
    if label_type is None or key_type is None:
        return False
    if label_type == key_type == "VARCHAR":
        return True
    return label_type in _INTEGERS and key_type in _INTEGERS


@dataclass(frozen=True)
class Stage:
    """One group's stage over the label rows: `times`, the query adding the time of the
    latest kept event (`latest_times`); `events(timed)`, the query adding that instant's
    events to relation `timed` holding `times`' rows (`latest_events`); `tie_rule(rows)`, the
    aggregate settling a tie in relation `rows` holding `events`' rows (`settled`)."""

    times: str
    events: Callable[[str], str]
    tie_rule: Callable[[str], str]


Settle = Callable[[Stage], str]
"""How a stage goes on: the relation holding one row per label row, `Stage.events`' rows
settled under the tie rule."""


def settle_in_query(stage: Stage) -> str:
    """One statement: the tie rule's aggregate over the stage's rows, whatever they hold."""
    return stage.tie_rule(f"({stage.events(f'({stage.times})')})")


def joined_snapshots(
    labels: str,
    columns: Sequence[str],
    groups: Sequence[SnapshotGroup],
    relation: Callable[[Source], str],
    *,
    entity_column: str,
    time_column: str,
    native: Callable[[Source], bool],
    settle: Settle = settle_in_query,
) -> tuple[str, dict[str, str]]:
    """The label rows (relation `labels`: `columns` and `__lucid_row`) with every group
    joined, one stage after the other, as a relation (`labels` itself without a group), and
    each grouped feature's value as SQL over that relation (aliased `l`). `native(source)`:
    whether the source's key and the label's entity column compare as they are."""
    driving, values = labels, {}
    carried = [quote(column) for column in columns]
    moment = f"CAST(l.{quote(time_column)} AS TIMESTAMP)"
    for number, group in enumerate(groups):
        common: dict[str, Any] = {
            "group": group,
            "number": number,
            "relation": relation,
            "entity_column": entity_column,
            "native": native(group.source),
        }
        stage = Stage(
            times=latest_times(
                driving, moment=f"CAST(p.{quote(time_column)} AS TIMESTAMP)", **common
            ),
            events=partial(latest_events, **common),
            tie_rule=partial(settled, carried=list(carried), group=group, number=number),
        )
        driving = settle(stage)
        carried += [f"__lucid_t{number}"]
        carried += [f"__lucid_g{number}_{j}" for j in range(len(group.columns))]
        for definition, term in group.features:
            values[definition.name] = snapshot_value(definition, term, group, number, moment)
    return driving, values


def _events(
    group: SnapshotGroup, relation: Callable[[Source], str], *, native: bool, values: bool
) -> str:
    """The group's kept events as a query: `__k`, `__t` and, with `values`, `__v<j>` per
    column."""
    source = group.source
    time = quote(source.event_time)
    key = f"r.{quote(source.entity_key)}" if native else entity_key(source, "r")
    columns = "".join(f", r.{quote(column)} AS __v{j}" for j, column in enumerate(group.columns))
    kept = f"r.{time} IS NOT NULL AND {group.kept}"
    return (
        f"SELECT {key} AS __k, r.{time} AS __t{columns if values else ''} "
        f"FROM {relation(source)} r WHERE {kept}"
    )


def _label_entity(entity_column: str, *, native: bool) -> str:
    """The label row's entity (alias `p`) as the events' `__k` compares with it."""
    label = f"p.{quote(entity_column)}"
    return label if native else f"CAST({label} AS VARCHAR)"


def latest_times(
    previous: str,
    group: SnapshotGroup,
    number: int,
    relation: Callable[[Source], str],
    *,
    entity_column: str,
    moment: str,
    native: bool,
) -> str:
    """The rows of relation `previous` (one row per label row) with `__lucid_t<number>`, the
    time of the group's latest kept event at or before each row's `moment` (SQL over alias
    `p`; NULL without one)."""
    events = _events(group, relation, native=native, values=False)
    label = _label_entity(entity_column, native=native)
    return (
        f"SELECT p.*, e.__t AS __lucid_t{number} FROM {previous} p\n"
        f"ASOF LEFT JOIN ({events}) e\n"
        f"  ON e.__k = {label} AND e.__t <= {moment}"
    )


def latest_events(
    timed: str,
    group: SnapshotGroup,
    number: int,
    relation: Callable[[Source], str],
    *,
    entity_column: str,
    native: bool,
) -> str:
    """The rows of relation `timed` (`latest_times`' rows) with `__lucid_g<number>_<j>`,
    each column of an event of that entity at that time: one row per label row, or one per
    event when several share that time (a tie)."""
    events = _events(group, relation, native=native, values=True)
    label = _label_entity(entity_column, native=native)
    chosen = "".join(f", e.__v{j} AS __lucid_g{number}_{j}" for j in range(len(group.columns)))
    return (
        f"SELECT p.*{chosen} FROM {timed} p\n"
        f"LEFT JOIN ({events}) e\n"
        f"  ON e.__k = {label} AND e.__t = p.__lucid_t{number}"
    )


def settled(rows: str, carried: Sequence[str], group: SnapshotGroup, number: int) -> str:
    """A parenthesised query: one row per label row of relation `rows` (`latest_events`),
    each of the group's columns under the tie rule: the greatest value, a NULL above every
    value (NULL for a row without an event)."""
    tied = "".join(
        f",\n  CASE WHEN COUNT(p.{name}) < COUNT(*) THEN NULL ELSE MAX(p.{name}) END AS {name}"
        for name in (f"__lucid_g{number}_{j}" for j in range(len(group.columns)))
    )
    kept = "".join(f"any_value(p.{name}) AS {name}, " for name in carried)
    index = f"__lucid_t{number}"
    return (
        f"(SELECT {kept}p.{LABEL_ROW}, any_value(p.{index}) AS {index}{tied}\n"
        f"FROM {rows} p\nGROUP BY p.{LABEL_ROW})"
    )


def snapshot_value(
    definition: FeatureDefinition, term: Term, group: SnapshotGroup, number: int, moment: str
) -> str:
    """A group's feature as its value: the latest event's, if inside the window, normalised,
    weighted and typed as its definition says, NULL when stale under its TTL."""
    index = f"l.__lucid_t{number}"
    column = f"l.__lucid_g{number}_{group.columns.index(term.column or '')}"
    inside = f"{index} > {moment} - INTERVAL '{definition.window.seconds}' SECOND"
    part = normaliser_sql(term.normalise, f"CASE WHEN {inside} THEN {column} END")
    weighted = part if term.weight == 1.0 else f"{term.weight!r} * {part}"
    value = f"CAST({weighted} AS {VALUE_TYPES[definition.value_type]})"
    if definition.ttl is None:
        return value
    oldest = f"{moment} - INTERVAL '{definition.ttl.seconds}' SECOND"
    return f"CASE WHEN {inside} AND {index} >= {oldest} THEN {value} END"
