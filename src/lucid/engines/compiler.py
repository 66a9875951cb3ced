"""The feature compiler (`lucid.ports.offline.FeatureCompiler`): definitions checked and shown
as SQL for every dialect, and golden examples run on DuckDB and a scratch SQLite online store,
whatever engine the project computes on."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from lucid.contracts.semantic.definition import FeatureDefinition
from lucid.contracts.semantic.examples import GoldenExample
from lucid.contracts.semantic.sources import Source
from lucid.engines.definition_checks import check_columns
from lucid.engines.dialects import to_dialect
from lucid.engines.feature_sql import DIALECTS
from lucid.engines.relations import view_name
from lucid.engines.spines import training_feature_sql
from lucid.ports.online import OnlineStore


class SqlFeatureCompiler:
    """Feature SQL as `lucid.engines.feature_sql` writes it; examples on an in-memory DuckDB."""

    dialects: tuple[str, ...] = DIALECTS

    def check(self, definition: FeatureDefinition, sources: Mapping[str, Source]) -> None:
        check_columns(definition, sources)

    def training_sql(
        self, definition: FeatureDefinition, sources: Mapping[str, Source], *, dialect: str
    ) -> str:
        sql = training_feature_sql(definition, sources, "spine", view_name, dialect=dialect)
        return to_dialect(sql, dialect)

    def run_example(
        self, definition: FeatureDefinition, sources: Mapping[str, Source], example: GoldenExample
    ) -> object:
        from lucid.engines.golden_examples import run_example_offline  # lazy: DuckDB is heavy

        return run_example_offline(definition, sources, example)

    @contextmanager
    def scratch_store(self) -> Iterator[OnlineStore]:
        from lucid.storage.online_store import SqliteOnlineStore

        with tempfile.TemporaryDirectory() as folder:
            store = SqliteOnlineStore(Path(folder) / "online.db")
            try:
                yield store
            finally:
                store.close()
