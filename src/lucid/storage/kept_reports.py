"""Reports kept with the state of the database they were measured at, read back while that
state holds, without SQLAlchemy.

A kept report (table `kept_reports`, one row per name) is a measure that depends only on what
the metadata database holds, the project's settings and the clock: the scorecard of a period.
Lucid records an event with every change it makes to what such a report reads, and numbers
the served feature values, so the database's state is written by four queries
(`STATE_QUERIES`): the schema revision, the event log's head (seq and hash), the id of the
last served value (a row or sealed in a served segment: ids never go back, so it moves with
every value served and a seal keeps it), and the kept skew sums (tolerance, position, time).
The rules:

- a report is kept only when that state did not move while it was measured (a write landing
  meanwhile leaves nothing kept, and the next reader measures again);
- a kept report is read back only while the state is the one it was measured at, the schema
  is this Lucid's (`SCHEMA_HEAD`), and the clock is at or after its measure and before
  `valid_until`, the first moment its figures change with no write (a declared shift that
  starts later); otherwise it is measured again;
- a row changed behind Lucid's back, or a source file rewritten in place, is not seen: a
  measure from scratch (`lucid scorecard --recompute`) is.

A command reads a kept report before it loads the project's settings: `<project>/.lucid/
settings.json` holds the database URL and the `as_of` moment the settings resolved to, with a
digest of Lucid's version, the project's folder, `lucid.yaml` and every environment variable
their loading read (`ReadEnvironment`): the values of those that are settings, a URL's password
left out, and only whether each other one (a secret) is set. No password is written: a
database URL carrying one is read again from the variable it came from, and one written in
`lucid.yaml` keeps nothing. The file is trusted only while that digest holds, so a
command whose settings would now be refused measures again and is refused as before. The
database is read with its driver alone, read-only: `sqlite3` for SQLite, psycopg for
PostgreSQL (REPEATABLE READ).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import lucid
from lucid.project_folder import CONFIG_FILE
from lucid.storage.schema_head import SCHEMA_HEAD

if TYPE_CHECKING:
    from lucid.storage.database import Database

STATE_QUERIES: tuple[tuple[str, str], ...] = (
    ("schema", "SELECT version_num FROM alembic_version"),
    ("head", "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"),
    (
        "served",
        "SELECT MAX(id) FROM (SELECT MAX(id) AS id FROM served_features "
        "UNION ALL SELECT MAX(last_id) FROM served_segments) AS positions",
    ),
    ("skew", "SELECT tolerance, position, measured_at FROM skew_figures ORDER BY tolerance"),
)
"""What a kept report's validity is checked against, in plain SQL every driver runs."""

_READ_REPORT = "SELECT state, measured_at, valid_until, body FROM kept_reports WHERE name = %s"
"""The kept row, with the driver's placeholder put in."""
_FORMAT = 1
_SETTINGS_FILE = Path(".lucid") / "settings.json"
_SQLITE = "sqlite:///"


def database_state(execute: Callable[[str], Iterable[Sequence[Any]]]) -> str:
    """The state of the database as canonical JSON, from `execute` (SQL → rows)."""
    state = {name: [list(row) for row in execute(sql)] for name, sql in STATE_QUERIES}
    return json.dumps(state, sort_keys=True, separators=(",", ":"))


class ReadEnvironment(Mapping[str, str]):
    """An environment that remembers the names looked up in it (`read`), and whether it was
    listed whole (`listed`): what the settings read of it."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.read: set[str] = set()
        self.listed = False

    def __getitem__(self, name: str) -> str:
        self.read.add(name)
        return self._environ[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.read.add(name)
        return name in self._environ

    def __iter__(self) -> Iterator[str]:
        self.listed = True
        return iter(self._environ)

    def __len__(self) -> int:
        self.listed = True
        return len(self._environ)


@dataclass(frozen=True)
class KeptReports:
    """The kept reports of one database, measured and kept through SQLAlchemy."""

    db: Database

    def state(self) -> str:
        """The database's state now (`database_state`), read in one snapshot."""
        with self.db.snapshot() as connection:
            return database_state(lambda sql: connection.exec_driver_sql(sql).all())

    def keep(
        self,
        name: str,
        body: Mapping[str, Any],
        *,
        state: str,
        measured_at: str,
        valid_until: str | None,
    ) -> bool:
        """Keep `body` under `name`, measured at `state`, unless the state has moved since;
        False when it has or the database refuses the write (a read-only role): nothing kept.
        """
        from sqlalchemy import delete, insert
        from sqlalchemy.exc import SQLAlchemyError

        from lucid.errors import LucidError
        from lucid.storage.tables import kept_reports

        row = {
            "name": name,
            "state": state,
            "measured_at": measured_at,
            "valid_until": valid_until,
            "body": json.dumps(body),
        }
        try:
            with self.db.transaction() as connection:
                if database_state(lambda sql: connection.exec_driver_sql(sql).all()) != state:
                    return False
                connection.execute(delete(kept_reports).where(kept_reports.c.name == name))
                connection.execute(insert(kept_reports), [row])
        except (SQLAlchemyError, LucidError):
            return False
        return True


def keep_settings(
    project_dir: Path,
    environ: ReadEnvironment,
    plain: Collection[str],
    database_url: str,
    as_of: str | None,
) -> bool:
    """Write what the settings resolved to for `read_kept`. `plain` names the variables whose
    values are settings, not secrets: only theirs are digested (a URL's password left out);
    of any other variable read, whether it is set. A database URL carrying a password is not
    written: the variable it came from is named instead, and nothing is written when it came
    from `lucid.yaml`. False when nothing is written (that, the settings listed the whole
    environment, or the folder refused the file)."""
    if environ.listed:
        return False
    resolved: dict[str, Any] = {"as_of": as_of}
    if _without_password(database_url) == database_url:
        resolved["database_url"] = database_url
    else:
        named = [n for n in sorted(plain) if n in environ.read and environ.get(n) == database_url]
        if not named:
            return False
        resolved["database_url_variable"] = named[0]
    variables = _variables(environ.read, plain)
    digest = _settings_digest(project_dir, variables, environ, resolved)
    if digest is None:
        return False
    document = {"format": _FORMAT, "digest": digest, "environment": variables, **resolved}
    import tempfile  # here: reading a kept report never writes one

    path = project_dir / _SETTINGS_FILE
    try:
        path.parent.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as file:
            json.dump(document, file)
        os.replace(file.name, path)
    except OSError:
        return False
    return True


def _variables(read: Collection[str], plain: Collection[str]) -> dict[str, bool]:
    """Each variable read → whether its value is digested (else only whether it is set)."""
    return {name: name in plain for name in sorted(read)}


def read_kept(
    project_dir: Path, name: str, environ: Mapping[str, str], now: Callable[[], datetime]
) -> dict[str, Any] | None:
    """The report kept under `name` if it still holds (the rules above), else None."""
    settings = _kept_settings(project_dir, environ)
    if settings is None:
        return None
    database_url, as_of = settings
    found = _read_database(database_url, name)
    if found is None:
        return None
    state, row = found
    if row is None or row[0] != state or json.loads(state)["schema"] != [[SCHEMA_HEAD]]:
        return None
    moment = datetime.fromisoformat(as_of) if as_of else now()
    measured_at, valid_until = (datetime.fromisoformat(t) if t else None for t in row[1:3])
    if measured_at is None or moment < measured_at:
        return None
    if valid_until is not None and moment >= valid_until:
        return None
    body: dict[str, Any] = json.loads(row[3])
    return body


Found = tuple[str, Sequence[Any] | None]
"""The database's state and the row kept under a name (None: none)."""


def _read_database(database_url: str, name: str) -> Found | None:
    """The database's state and the row kept under `name`, read in one read-only snapshot
    with the DB-API driver itself; None when the database cannot be read so."""
    if database_url.startswith(_SQLITE + "/"):
        return _read_sqlite(Path(database_url[len(_SQLITE) :]), name)
    scheme, _, rest = database_url.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return _read_postgresql(f"postgresql://{rest}", name)
    return None


def _read_sqlite(path: Path, name: str) -> Found | None:
    try:
        with closing(sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)) as connection:
            connection.execute("BEGIN")
            state = database_state(lambda sql: connection.execute(sql).fetchall())
            return state, connection.execute(_READ_REPORT % "?", (name,)).fetchone()
    except (sqlite3.Error, ValueError):
        return None


def _read_postgresql(conninfo: str, name: str) -> Found | None:
    try:
        import psycopg  # the `postgres` extra
    except ImportError:
        return None
    try:
        with psycopg.connect(conninfo, connect_timeout=5) as connection:
            connection.read_only = True
            connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with connection.cursor() as cursor:
                state = database_state(lambda sql: cursor.execute(sql).fetchall())
                return state, cursor.execute(_READ_REPORT % "%s", (name,)).fetchone()
    except psycopg.Error:
        return None


def _kept_settings(project_dir: Path, environ: Mapping[str, str]) -> tuple[str, str | None] | None:
    """(database URL, as_of) as the settings resolved them, while their digest holds."""
    try:
        document = json.loads((project_dir / _SETTINGS_FILE).read_text(encoding="utf-8"))
        if document["format"] != _FORMAT:
            return None
        resolved = {
            key: document[key]
            for key in ("as_of", "database_url", "database_url_variable")
            if key in document
        }
        digest = _settings_digest(project_dir, document["environment"], environ, resolved)
        if digest is None or digest != document["digest"]:
            return None
        if "database_url_variable" in resolved:
            url = environ.get(str(resolved["database_url_variable"]))
            return None if url is None else (url, resolved["as_of"])
        return str(resolved["database_url"]), resolved["as_of"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _settings_digest(
    project_dir: Path,
    variables: Mapping[str, bool],
    environ: Mapping[str, str],
    resolved: Mapping[str, Any],
) -> str | None:
    """SHA-256 of Lucid's version, the folder, `lucid.yaml`'s bytes, the variables (the
    value of a digested one, a URL's password left out; whether each other one is set) and
    what the settings `resolved` to; None without a readable `lucid.yaml`."""
    try:
        config = (project_dir / CONFIG_FILE).read_bytes()
    except OSError:
        return None
    values = {
        name: _without_password(environ.get(name)) if digested else name in environ
        for name, digested in variables.items()
    }
    material = [
        _FORMAT,
        lucid.__version__,
        str(project_dir),
        hashlib.sha256(config).hexdigest(),
        values,
        dict(resolved),
    ]
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _without_password(value: str | None) -> str | None:
    """`value`, a URL's password replaced by `***`."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return value
    if password is None:
        return value
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{password}@", ":***@", 1)))
