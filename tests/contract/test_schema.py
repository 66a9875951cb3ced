"""Schema revisions on every backend: migrate, refuse an outdated or unknown schema."""

from __future__ import annotations

import pytest
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
