"""Schema revisions on every backend: migrate, refuse an outdated or unknown schema."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from lucid.errors import SchemaOutdated, StorageUnavailable
from lucid.storage import schema
from lucid.storage.database import Database
from lucid.storage.tables import metadata


def test_an_empty_database_says_exactly_what_to_run(database_url: str) -> None:
    db = Database(database_url)
    with pytest.raises(SchemaOutdated, match=r"has no Lucid schema yet.*Run `lucid db upgrade`"):
        schema.ensure_current(db)
    assert schema.upgrade(db) == (None, schema.head_revision())
    schema.ensure_current(db)
    assert schema.upgrade(db) == (schema.head_revision(), schema.head_revision())
    db.dispose()


def test_migrations_create_exactly_the_declared_tables(db: Database) -> None:
    inspector = inspect(db.engine)
    declared = set(metadata.tables)
    assert declared <= set(inspector.get_table_names())
    for name, table in metadata.tables.items():
        stored = {column["name"] for column in inspector.get_columns(name)}
        assert stored == {column.name for column in table.columns}, name


def _drift(db: Database) -> list[Any]:
    """What autogenerate would write to bring the database to the models: tables, columns,
    types, nullability, server defaults, indexes and unique constraints."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def test_the_migrated_schema_is_the_models_schema(db: Database) -> None:
    assert _drift(db) == []


def test_the_comparison_sees_a_missing_index_and_a_changed_type(db: Database) -> None:
    with db.transaction() as connection:
        connection.execute(text("DROP INDEX ix_events_type"))
        connection.execute(text("ALTER TABLE webhook_deliveries DROP COLUMN http_status"))
        connection.execute(text("ALTER TABLE webhook_deliveries ADD COLUMN http_status TEXT"))
    # autogenerate lists table-level changes as tuples, column changes as lists of tuples
    found = {
        (change[0], change[2] if change[0] == "modify_type" else change[1].name)
        for change in (item[0] if isinstance(item, list) else item for item in _drift(db))
    }
    assert found == {("add_index", "ix_events_type"), ("modify_type", "webhook_deliveries")}


def test_a_database_from_a_newer_lucid_is_refused(db: Database) -> None:
    with db.transaction() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(
        SchemaOutdated, match=r"9999, which this Lucid does not know.*upgrade Lucid"
    ):
        schema.ensure_current(db)
    with pytest.raises(SchemaOutdated, match="upgrade Lucid"):
        schema.upgrade(db)


def test_an_unreachable_server_is_a_sentence() -> None:
    db = Database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(
        StorageUnavailable, match=r"Cannot reach the metadata database at postgresql"
    ):
        schema.current_revision(db)


def test_the_declared_head_is_the_newest_migration() -> None:
    assert schema.script_revisions()[0] == schema.SCHEMA_HEAD
