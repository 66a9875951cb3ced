"""Checks of a definition against its sources before any SQL is written: sources, entity,
columns, and a SQL aggregate that must be one aggregate over its source's columns."""

from __future__ import annotations

from collections.abc import Mapping

from lucid.contracts.semantic import (
    FeatureDefinition,
    Source,
    SqlAggregate,
)
from lucid.engines.dialects import SOURCE_DIALECT
from lucid.errors import InvalidInput


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
