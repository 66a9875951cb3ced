"""Training sets: point-in-time correct feature values for label rows, and the SQL they run."""

from __future__ import annotations

from collections.abc import Sequence

from lucid.contracts.semantic.governance import check_trainable
from lucid.contracts.semantic.versions import FeatureRef
from lucid.errors import InvalidInput
from lucid.features.catalog import DefinitionCatalog
from lucid.ports.offline import FeatureCompiler, Labels, OfflineEngine, TrainingSet


def training_set(
    catalog: DefinitionCatalog,
    engine: OfflineEngine,
    labels: Labels,
    features: Sequence[str],
    *,
    entity_column: str = "entity_id",
    time_column: str = "timestamp",
) -> TrainingSet:
    """Point-in-time correct training set over `labels` (a Parquet/CSV path, rows, a pandas
    DataFrame or an Arrow table) for the pinned `features` (`name@version`), as known at
    each label's time."""
    if not features:
        raise InvalidInput("features", "name at least one pinned feature (name@version)")
    definitions = []
    for feature in features:
        governed = catalog.resolve(FeatureRef.parse(feature))
        check_trainable(governed)
        definitions.append(governed.definition)
    return engine.training_set(
        labels,
        definitions,
        catalog.sources(),
        entity_column=entity_column,
        time_column=time_column,
    )


def training_sql(
    catalog: DefinitionCatalog, compiler: FeatureCompiler, reference: str, *, dialect: str
) -> str:
    """The query a training set runs for a stored definition on the engine of `dialect`
    (`duckdb` or `spark`): as known at each row of the relation `spine(__lucid_entity,
    __lucid_as_of)`, over the sources' views `source_<name>`, in that engine's form."""
    if dialect not in compiler.dialects:
        raise InvalidInput("dialect", f"{dialect!r} must be one of {', '.join(compiler.dialects)}")
    definition = catalog.get(reference).definition
    return compiler.training_sql(definition, catalog.sources(), dialect=dialect)
