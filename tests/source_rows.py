"""Event sources written for the feature engine's tests: a source's rows as the Parquet file its
location names, typed by its schema, and a feature definition with the tests' defaults."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from lucid.contracts.semantic import (
    ColumnType,
    Duration,
    FeatureDefinition,
    Source,
    Term,
    ValueType,
    Version,
    WindowedAggregation,
)

ARROW_TYPES = {
    ColumnType.STRING: pa.string(),
    ColumnType.DOUBLE: pa.float64(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.BOOLEAN: pa.bool_(),
}


def write_source(
    project: Path,
    source: Source,
    rows: Sequence[Sequence[Any] | Mapping[str, Any]],
    zone: str | None = None,
) -> None:
    """`rows` (tuples in the order of the source's schema, or mappings by column; times naive
    UTC) as the Parquet file at the source's location under `project`: that file when the
    location ends in `.parquet`, else `part-0.parquet` in that folder. With `zone`, time
    columns are zone-aware timestamps (the same instants)."""
    location = project / source.location
    target = location if location.suffix == ".parquet" else location / "part-0.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    time_type = pa.timestamp("us", tz=zone) if zone else pa.timestamp("us")
    schema = pa.schema(
        [
            (column, time_type if kind is ColumnType.TIMESTAMP else ARROW_TYPES[kind])
            for column, kind in source.schema.items()
        ]
    )
    named = [
        row if isinstance(row, Mapping) else dict(zip(source.schema, row, strict=True))
        for row in rows
    ]
    columns = {column: [_stored(row[column], zone) for row in named] for column in source.schema}
    pq.write_table(pa.table(columns, schema=schema), target)


def _stored(value: Any, zone: str | None) -> Any:
    if zone and isinstance(value, datetime):
        return value.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    return value


def feature_definition(
    name: str, kind: ValueType, *terms: Term, window: str = "30d", **fields: Any
) -> FeatureDefinition:
    """A feature over `terms` for the entity `customer`, version 1.0.0, with a `window`
    (default 30 days) and any other field given."""
    return FeatureDefinition(
        name=name,
        version=Version(1, 0, 0),
        concept=fields.pop("concept", name),
        description="test",
        owner="test",
        entity=fields.pop("entity", "customer"),
        value_type=kind,
        window=Duration.parse(window, "window"),
        computation=WindowedAggregation(terms),
        **fields,
    )
