"""Schema revisions of the metadata database: where it is, where it must be, upgrading it.

Opening a project only reads `alembic_version` and compares it with `SCHEMA_HEAD`, so that
every command does not pay for importing Alembic; a test keeps `SCHEMA_HEAD` equal to the
head of the migration scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from lucid.errors import SchemaOutdated
from lucid.storage.database import Database, redact

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA_HEAD = "0020"
"""The revision this version of Lucid needs: the head of `migrations/versions`."""


def _alembic_config() -> Config:
    from alembic.config import Config  # imported here: only migrating needs Alembic

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The revision this version of Lucid needs."""
    return SCHEMA_HEAD


def script_revisions() -> list[str]:
    """Every revision of the migration scripts, newest first (reads the scripts)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config())
    return [script.revision for script in scripts.walk_revisions()]


def current_revision(db: Database) -> str | None:
    """The revision the database is at; None when it has no Lucid schema yet."""
    with db.transaction() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return row[0] if row else None


def upgrade(db: Database) -> tuple[str | None, str]:
    """Migrate the database to the head revision; returns (revision before, revision after)."""
    from alembic import command

    before = current_revision(db)
    _refuse_unknown(db, before)
    config = _alembic_config()
    with db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
    return before, SCHEMA_HEAD


def ensure_current(db: Database) -> None:
    """Refuse to work on a database that is not at the head revision, saying what to run."""
    current = current_revision(db)
    if current == SCHEMA_HEAD:
        return
    _refuse_unknown(db, current)
    state = "has no Lucid schema yet" if current is None else f"is at schema revision {current}"
    raise SchemaOutdated(
        f"The metadata database at {redact(db.url)} {state}; this Lucid needs revision "
        f"{SCHEMA_HEAD}. Run `lucid db upgrade` to migrate it."
    )


def _refuse_unknown(db: Database, revision: str | None) -> None:
    if revision is not None and revision not in script_revisions():
        raise SchemaOutdated(
            f"The metadata database at {redact(db.url)} is at schema revision {revision}, which "
            "this Lucid does not know: it was migrated by a newer Lucid; upgrade Lucid."
        )
