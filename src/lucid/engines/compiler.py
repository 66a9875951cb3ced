"""The feature compiler (`lucid.ports.offline.FeatureCompiler`): definitions checked and shown
as SQL for every dialect, and golden examples run on DuckDB and a scratch SQLite online store,
whatever engine the project computes on. The SQL writers are imported by the methods that use
them, so a feature store that never compiles a definition does not import them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from lucid.engines.dialects import DIALECTS

if TYPE_CHECKING:
    from lucid.contracts.semantic.definition import FeatureDefinition
    from lucid.contracts.semantic.examples import GoldenExample
    from lucid.contracts.semantic.sources import Source
    from lucid.ports.online import OnlineStore


class SqlFeatureCompiler:
    """Feature SQL as `lucid.engines.feature_sql` writes it; examples on an in-memory DuckDB."""

    dialects: tuple[str, ...] = DIALECTS

    def __init__(self, scratch_store: Callable[[], AbstractContextManager[OnlineStore]]) -> None:
        """`scratch_store()` opens an empty online store, removed when the block ends."""
        self._scratch_store = scratch_store

    def check(self, definition: FeatureDefinition, sources: Mapping[str, Source]) -> None:
        from lucid.engines.definition_checks import check_columns

        check_columns(definition, sources)

    def training_sql(
        self, definition: FeatureDefinition, sources: Mapping[str, Source], *, dialect: str
    ) -> str:
        from lucid.engines.dialects import to_dialect
        from lucid.engines.relations import view_name
        from lucid.engines.spines import training_feature_sql

        sql = training_feature_sql(definition, sources, "spine", view_name, dialect=dialect)
        return to_dialect(sql, dialect)

    def run_example(
        self, definition: FeatureDefinition, sources: Mapping[str, Source], example: GoldenExample
    ) -> object:
        from lucid.engines.golden_examples import run_example_offline  # lazy: DuckDB is heavy

        return run_example_offline(definition, sources, example)

    def scratch_store(self) -> AbstractContextManager[OnlineStore]:
        return self._scratch_store()
