"""Golden examples run offline: each in a fresh in-memory DuckDB whose source views hold only
the example's rows, typed by the source's declared schema."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from lucid.contracts.semantic.definition import FeatureDefinition
from lucid.contracts.semantic.examples import GoldenExample
from lucid.contracts.semantic.sources import ColumnType, Source
from lucid.contracts.times import to_naive_utc, to_utc
from lucid.engines.duckdb import DuckDBEngine
from lucid.engines.duckdb_types import DECLARED_TYPES
from lucid.engines.labels import naive_utc
from lucid.engines.relations import quote, view_name
from lucid.errors import InvalidInput


def run_example_offline(
    definition: FeatureDefinition, sources: Mapping[str, Source], example: GoldenExample
) -> object:
    """The value the definition computes for the example, on DuckDB."""
    engine = DuckDBEngine(Path(tempfile.gettempdir()))
    try:
        for name in definition.sources:
            source = sources[name]
            _load_example_rows(engine, source, example)
        at = to_utc(example.at, f"{definition.name}.examples.at")
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
