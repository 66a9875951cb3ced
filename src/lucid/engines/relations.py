"""How feature SQL names and reads relations: quoted identifiers and literals, the sources' views,
the spine's columns, a source's entity key and its kept rows (exclusions and filters)."""

from __future__ import annotations

from lucid.contracts.semantic import (
    ColumnType,
    Condition,
    FeatureDefinition,
    Operator,
    Scalar,
    Source,
)

SPINE_ENTITY = "__lucid_entity"
SPINE_AS_OF = "__lucid_as_of"
LABEL_ROW = "__lucid_row"
"""A training set's label relation's row number: the set keeps the labels' order."""


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


def entity_key(source: Source, alias: str) -> str:
    """The source's entity key as text, the spine's entity type."""
    key = f"{alias}.{quote(source.entity_key)}"
    return (
        key if source.schema[source.entity_key] is ColumnType.STRING else f"CAST({key} AS VARCHAR)"
    )


def kept_rows(definition: FeatureDefinition, source: Source, filters: tuple[Condition, ...]) -> str:
    conditions = [
        f"NOT COALESCE({condition_sql(exclusion.where, 'r')}, FALSE)"
        for exclusion in definition.exclusions
        if exclusion.applies_to(source.name)
    ]
    conditions.extend(condition_sql(condition, "r") for condition in filters)
    return " AND ".join(conditions) if conditions else "TRUE"
