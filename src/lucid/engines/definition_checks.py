"""Checks of a definition against its sources before any SQL is written: sources, entity,
columns, and a SQL aggregate that must be one aggregate over its source's columns."""

from __future__ import annotations

from collections.abc import Mapping

from lucid.contracts.semantic import (
    FeatureDefinition,
    Source,
    SqlAggregate,
)
from lucid.engines.sql_aggregates import checked_expression
from lucid.errors import InvalidInput


def check_sql_aggregate(feature: str, computation: SqlAggregate, source: Source) -> str:
    """The expression as it is run, once it is one aggregate over the source's own columns
    (`lucid.engines.sql_aggregates`); otherwise `InvalidInput` naming the feature's `sql`."""
    return checked_expression(feature, computation.expression, source.name, set(source.schema))


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
        check_sql_aggregate(definition.name, computation, sources[computation.source])
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
