"""Schema revisions of the metadata database: where it is, where it must be, upgrading it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from lucid.errors import SchemaOutdated
from lucid.storage.database import Database, redact

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The revision this version of Lucid needs."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "Lucid ships at least one migration"
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at; None when it has no Lucid schema yet."""
    with db.transaction() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(db: Database) -> tuple[str | None, str]:
    """Migrate the database to the head revision; returns (revision before, revision after)."""
    before = current_revision(db)
    _refuse_unknown(db, before)
    config = _alembic_config()
    with db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
    return before, head_revision()


def ensure_current(db: Database) -> None:
    """Refuse to work on a database that is not at the head revision, saying what to run."""
    current = current_revision(db)
    head = head_revision()
    if current == head:
        return
    _refuse_unknown(db, current)
    state = "has no Lucid schema yet" if current is None else f"is at schema revision {current}"
    raise SchemaOutdated(
        f"The metadata database at {redact(db.url)} {state}; this Lucid needs revision {head}. "
        "Run `lucid db upgrade` to migrate it."
    )


def _refuse_unknown(db: Database, revision: str | None) -> None:
    if revision is None:
        return
    scripts = ScriptDirectory.from_config(_alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if revision not in known:
        raise SchemaOutdated(
            f"The metadata database at {redact(db.url)} is at schema revision {revision}, which "
            "this Lucid does not know: it was migrated by a newer Lucid; upgrade Lucid."
        )
