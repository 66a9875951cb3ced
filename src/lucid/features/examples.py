"""Golden examples: each definition's small input → expected-output cases, run on the compute
engine over the example's own events, and through an online store round trip.

An example runs in a fresh in-memory DuckDB whose source views hold only the example's rows,
typed by the source's declared schema, so it checks the definition — not the data lake.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from lucid.contracts.semantic import (
    ColumnType,
    FeatureDefinition,
    GoldenExample,
    Source,
    values_match,
)
from lucid.contracts.times import to_naive_utc, to_utc
from lucid.engines.duckdb import DECLARED_TYPES, DuckDBEngine, naive_utc
from lucid.engines.feature_sql import quote, view_name
from lucid.errors import InvalidInput
from lucid.ports.online import OnlineStore
from lucid.storage.online_store import SqliteOnlineStore


def example_time(text: str, field: str) -> datetime:
    """An example's time text as an aware UTC datetime (naive text is read as UTC)."""
    return to_utc(text, field)


def run_example_offline(
    definition: FeatureDefinition, sources: Mapping[str, Source], example: GoldenExample
) -> object:
    """The value the definition computes for the example, on DuckDB."""
    engine = DuckDBEngine(Path(tempfile.gettempdir()))
    try:
        for name in definition.sources:
            source = sources[name]
            _load_example_rows(engine, source, example)
        at = example_time(example.at, f"{definition.name}.examples.at")
        values = engine.compute(definition, sources, [(example.entity, at)], as_known_at=True)
        return values.get((example.entity, naive_utc(at)))
    finally:
        engine.close()


def _load_example_rows(engine: DuckDBEngine, source: Source, example: GoldenExample) -> None:
    name = view_name(source)
    columns = ", ".join(
        f"{quote(column)} {DECLARED_TYPES[kind]}" for column, kind in source.schema.items()
    )
    engine.connection.execute(f"CREATE TEMP TABLE {name} ({columns})")
    rows = example.events.get(source.name, ())
    names, values = list(source.schema), []
    for number, row in enumerate(rows):
        where = f"{example.entity} example events.{source.name}[{number}]"
        unknown = sorted(set(row) - set(source.schema))
        if unknown:
            raise InvalidInput(where, f"column {unknown[0]!r} is not in source {source.name}")
        values.append([_example_value(row.get(c), source.schema[c], f"{where}.{c}") for c in names])
    if values:
        marks = ", ".join("?" * len(names))
        engine.connection.executemany(f"INSERT INTO {name} VALUES ({marks})", values)
    engine.mark_loaded(name)


def _example_value(value: object, kind: ColumnType, field: str) -> object:
    """An example event's value as its column holds it: a time in naive UTC (an offset in
    the text is honoured, as in every other source)."""
    if value is None or kind is not ColumnType.TIMESTAMP:
        return value
    return to_naive_utc(value, field)


def run_example_online(
    definition: FeatureDefinition, value: object, at: datetime, store: OnlineStore | None = None
) -> object:
    """The value after a write/read round trip through an online store (SQLite by default)."""
    ref = str(definition.ref)
    if store is not None:
        store.write(ref, [("__example__", value, at.timestamp(), None)])
        stored = store.read(["__example__"], [ref]).get(("__example__", ref), (None, 0.0, None))[0]
        return definition.value_type.coerce(stored)
    with tempfile.TemporaryDirectory() as folder:
        temporary = SqliteOnlineStore(Path(folder) / "online.db")
        try:
            return run_example_online(definition, value, at, temporary)
        finally:
            temporary.close()


def example_failures(definition: FeatureDefinition, sources: Mapping[str, Source]) -> list[str]:
    """A sentence for each golden example the definition does not reproduce."""
    failures = []
    for number, example in enumerate(definition.examples, start=1):
        label = f"golden example {number} of {definition.ref}"
        if example.description:
            label += f" ({example.description})"
        offline = run_example_offline(definition, sources, example)
        if not values_match(example.expected, offline):
            failures.append(
                f"{label} expects {example.expected!r} for {example.entity} at {example.at} but "
                f"the definition computes {offline!r}"
            )
            continue
        at = example_time(example.at, "at")
        online = run_example_online(definition, offline, at)
        if not values_match(example.expected, online):
            failures.append(f"{label}: the online store returns {online!r}, not {offline!r}")
    return failures
