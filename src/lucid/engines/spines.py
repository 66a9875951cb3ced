"""The queries around a feature's: a training set's (its labels as the spine, every feature
joined back onto each label row) and a materialisation's spine (one row per entity id)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from lucid.contracts.semantic import (
    FeatureDefinition,
    Source,
)
from lucid.engines.dialects import SOURCE_DIALECT
from lucid.engines.feature_sql import feature_sql
from lucid.engines.label_snapshots import (
    Settle,
    compared_entity,
    joined_snapshots,
    settle_in_query,
    snapshot_groups,
)
from lucid.engines.relations import LABEL_ROW as LABEL_ROW  # the Spark engine reads it here
from lucid.engines.relations import (
    SPINE_AS_OF,
    SPINE_ENTITY,
    entity_key,
    literal,
    quote,
)
from lucid.errors import InvalidInput


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
    label_types: Mapping[str, str] | None = None,
    key_types: Mapping[str, str] | None = None,
    settle: Settle = settle_in_query,
) -> tuple[str, str]:
    """The spine query over `labels` and the training-set query joining every feature, as
    known at each label's time, back onto each label row (duplicates and order kept).

    `labels` is a relation with the label columns and `__lucid_row`; the caller registers
    the spine query as `spine` before running the training-set query. On DuckDB, the `last`
    features of a source without an ingestion time are joined to the label rows themselves,
    one ASOF JOIN per source and kept rows (`lucid.engines.label_snapshots`); with
    `label_types` (each label column's DuckDB type) and `key_types` (each source's entity key
    column's), entity ids of the same kind are compared without turning them into text;
    `settle` says how each group's stage goes on (`lucid.engines.label_snapshots.Settle`).
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
    groups = snapshot_groups(features, sources) if dialect == SOURCE_DIALECT else []
    driving, grouped = joined_snapshots(
        labels,
        known,
        groups,
        relation,
        entity_column=entity_column,
        time_column=time_column,
        native=lambda source: compared_entity(
            (label_types or {}).get(entity_column), (key_types or {}).get(source.name)
        ),
        settle=settle,
    )
    joins, selected = [], [f"l.{quote(column)}" for column in known]
    for index, definition in enumerate(features):
        if definition.name in grouped:
            selected.append(f"{grouped[definition.name]} AS {quote(definition.name)}")
            continue
        query = training_feature_sql(
            definition, sources, spine, relation, dialect=dialect, prefix=f"f{index}_"
        )
        joins.append(
            f"LEFT JOIN ({query}) f{index} ON f{index}.entity_id = {entity} "
            f"AND f{index}.as_of = {moment}"
        )
        selected.append(f"f{index}.value AS {quote(definition.name)}")
    sql = (
        f"SELECT {', '.join(selected)}\nFROM {driving} l\n"
        + "".join(join + "\n" for join in joins)
        + f"ORDER BY l.{LABEL_ROW}"
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
            f"SELECT DISTINCT {entity_key(source, 'r')} AS k FROM {relation(source)} r"
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
            f"SELECT DISTINCT {entity_key(keys, 'r')} AS k FROM {relation(keys)} r "
            f"WHERE {' AND '.join(known)}"
        )
    return (
        f"SELECT k AS {SPINE_ENTITY}, {moment} AS {SPINE_AS_OF} FROM ({listed}) AS __keys "
        "WHERE k IS NOT NULL"
    )
