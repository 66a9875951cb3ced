"""Event sources: where a feature's events live, their declared schema, and the listing source
of an entity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from lucid.contracts.semantic.fields import (
    as_column,
    as_mapping,
    as_text,
    check_name,
    enum_values,
    refuse_unknown,
)
from lucid.errors import InvalidInput


class ColumnType(Enum):
    """The column types a source schema may declare."""

    STRING = "string"
    INTEGER = "integer"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    DATE = "date"


class SourceKind(Enum):
    PARQUET = "parquet"
    CSV = "csv"
    DUCKDB = "duckdb"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True, slots=True)
class Source:
    """A registered event source: where its rows are, which entity they describe, its schema.

    `location` is a file, folder or glob for Parquet/CSV; `database#table` for DuckDB; and
    `postgresql://…#table` for PostgreSQL. `ingestion_time`, when given, names the column that
    says when each row became known (used to build training sets as known at a time).
    """

    name: str
    kind: SourceKind
    location: str
    entity: str
    entity_key: str
    event_time: str
    schema: Mapping[str, ColumnType]
    ingestion_time: str | None = None
    description: str = ""
    lists_entities: bool = False
    """Whether this source lists every id of its entity (at most one per entity): an id it
    does not hold is unknown to materialisation and the online read."""

    def __post_init__(self) -> None:
        check_name(self.name, "source.name")
        check_name(self.entity, f"source {self.name}.entity")
        for column in self.schema:
            as_column(column, f"source {self.name}.schema")
        for role in ("entity_key", "event_time", "ingestion_time"):
            if getattr(self, role) is not None or role != "ingestion_time":
                as_column(getattr(self, role), f"source {self.name}.{role}")
        if not self.schema:
            raise InvalidInput(f"source {self.name}.schema", "must declare at least one column")
        for role in ("entity_key", "event_time", "ingestion_time"):
            column = getattr(self, role)
            if column is not None and column not in self.schema:
                raise InvalidInput(
                    f"source {self.name}.{role}",
                    f"column {column!r} is not in the declared schema ({', '.join(self.schema)})",
                )
        for role in ("event_time", "ingestion_time"):
            column = getattr(self, role)
            if column is not None and self.schema[column] not in (
                ColumnType.TIMESTAMP,
                ColumnType.DATE,
            ):
                raise InvalidInput(
                    f"source {self.name}.{role}",
                    f"column {column!r} must be a timestamp or date, not "
                    f"{self.schema[column].value}",
                )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Source:
        where = f"source {check_name(data.get('name'), 'source.name')}"
        refuse_unknown(data, SOURCE_FIELDS, where)
        kind_text = data.get("kind")
        try:
            kind = SourceKind(kind_text)
        except ValueError:
            raise InvalidInput(
                f"{where}.kind", f"{kind_text!r} must be one of {enum_values(SourceKind)}"
            ) from None
        schema_data = as_mapping(data.get("schema"), f"{where}.schema")
        schema: dict[str, ColumnType] = {}
        for column, type_text in schema_data.items():
            as_column(column, f"{where}.schema")
            try:
                schema[column] = ColumnType(type_text)
            except (ValueError, TypeError):
                raise InvalidInput(
                    f"{where}.schema.{column}",
                    f"{type_text!r} must be one of {enum_values(ColumnType)}",
                ) from None
        return cls(
            name=check_name(data.get("name"), "source.name"),
            kind=kind,
            location=as_text(data.get("location"), f"{where}.location"),
            entity=check_name(data.get("entity"), f"{where}.entity"),
            entity_key=as_column(data.get("entity_key"), f"{where}.entity_key"),
            event_time=as_column(data.get("event_time"), f"{where}.event_time"),
            schema=schema,
            ingestion_time=None
            if data.get("ingestion_time") is None
            else as_column(data["ingestion_time"], f"{where}.ingestion_time"),
            description=as_text(data.get("description"), f"{where}.description", required=False),
            lists_entities=_flag(data.get("lists_entities", False), f"{where}.lists_entities"),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind.value,
            "location": self.location,
            "entity": self.entity,
            "entity_key": self.entity_key,
            "event_time": self.event_time,
            "schema": {column: kind.value for column, kind in self.schema.items()},
        }
        if self.ingestion_time:
            data["ingestion_time"] = self.ingestion_time
        if self.description:
            data["description"] = self.description
        if self.lists_entities:  # only when set: specs stored without it keep their form
            data["lists_entities"] = True
        return data


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, f"{value!r} must be true or false")
    return value


def listing_source(sources: Mapping[str, Source], entity: str) -> Source | None:
    """The source that lists every id of `entity`, if one is registered."""
    for source in sources.values():
        if source.lists_entities and source.entity == entity:
            return source
    return None


def second_listing(source: Source, others: Mapping[str, Source]) -> str | None:
    """Why `source` is refused beside `others` (the sources registered or being registered)
    when it would be a second source listing the ids of one entity; None when it is not."""
    if not source.lists_entities:
        return None
    for other in others.values():
        if other.name != source.name and other.lists_entities and other.entity == source.entity:
            return (
                f"source {source.name} lists the ids of {source.entity}, which source "
                f"{other.name} lists already; an entity has at most one listing source"
            )
    return None


SOURCE_FIELDS = (
    "name",
    "kind",
    "location",
    "entity",
    "entity_key",
    "event_time",
    "ingestion_time",
    "schema",
    "description",
    "lists_entities",
)


def schema_mismatches(
    declared: Mapping[str, ColumnType], actual: Mapping[str, ColumnType | str | None]
) -> list[str]:
    """Sentences for each declared column that is missing or has another type in the data.

    `actual` maps the data's columns to their type, or to the engine's name of a type Lucid
    does not map (None when the engine gives no name). Extra columns in the data are allowed.
    """
    problems = []
    for column, kind in declared.items():
        if column not in actual:
            problems.append(f"column {column!r} is declared but not in the data")
        elif actual[column] is not kind and not _compatible(kind, actual[column]):
            found = actual[column]
            problems.append(
                f"column {column!r} is declared {kind.value} but the data has {_type_named(found)}"
            )
    return problems


def _type_named(found: ColumnType | str | None) -> str:
    if isinstance(found, ColumnType):
        return found.value
    return f"the unsupported type {found}" if found else "an unsupported type"


def _compatible(declared: ColumnType, actual: ColumnType | str | None) -> bool:
    # An integer column may be read where a double is declared; nothing else converts silently.
    return declared is ColumnType.DOUBLE and actual is ColumnType.INTEGER
