"""Shared fixtures: every storage test runs on SQLite and on the real PostgreSQL server.

PostgreSQL tests get a schema of their own (dropped afterwards) in the database named by
LUCID_TEST_POSTGRES_URL (default: the local server's `test` database). Under CI=true a
PostgreSQL that cannot be reached fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from lucid.errors import StorageUnavailable
from lucid.project import init_project
from lucid.storage import schema
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.online_store import OnlineStore, RedisOnlineStore, SqliteOnlineStore

POSTGRES_URL = os.environ.get(
    "LUCID_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI=true and is unavailable: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema, dropped afterwards."""
    name = f"lucid_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE SCHEMA "{name}"')
    except psycopg.OperationalError as error:
        _postgres_unavailable(str(error).strip())
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{name}" CASCADE')


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules marked `long` first, then the others by their number of tests, the largest
    first, each module's tests in their own order. `pytest-xdist --dist loadfile` hands the
    modules out in this order (`--no-loadscope-reorder`): a module of minutes handed out last
    would leave the other workers idle while it runs."""
    tests: dict[str, int] = {}
    long: set[str] = set()
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        tests[module] = tests.get(module, 0) + 1
        if item.get_closest_marker("long") is not None:
            long.add(module)

    def order(item: pytest.Item) -> tuple[bool, int]:
        module = item.nodeid.split("::", 1)[0]
        return module not in long, -tests[module]

    items.sort(key=order)  # stable: a module's tests keep their order


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh PostgreSQL URL whose search_path is a new, empty schema."""
    with fresh_postgres_schema() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty metadata database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metadata.db'}"
    return str(request.getfixturevalue("postgres_schema"))


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated metadata database on each backend."""
    database = Database(database_url)
    schema.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def event_log(db: Database) -> SqlEventLog:
    return SqlEventLog(db)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_lucid(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    """Run the real `lucid` command in a new process."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    completed = subprocess.run(
        [sys.executable, "-m", "lucid", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


REDIS_URL = os.environ.get("LUCID_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Redis is required under CI=true and is unavailable: {reason}")
    pytest.skip(f"Redis unavailable: {reason}")


@pytest.fixture(params=["sqlite", "redis"])
def online_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    """An empty online store, once as an SQLite file and once on the real Redis server."""
    if request.param == "sqlite":
        store: OnlineStore = SqliteOnlineStore(tmp_path / "online.db")
    else:
        try:
            store = RedisOnlineStore(REDIS_URL, f"test_{uuid.uuid4().hex[:12]}")
        except StorageUnavailable as error:
            _redis_unavailable(error.sentence)
    yield store
    store.clear()
    store.close()


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local[2] Spark session for the whole run (starting one takes seconds)."""
    try:
        from lucid.engines.spark import spark_session

        session = spark_session("local[2]")
    except Exception as error:  # Java missing, port refused: say why, fail under CI
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Spark is required under CI=true and could not start: {error}")
        pytest.skip(f"Spark could not start: {error}")
    yield session
    session.stop()


def new_project(folder: Path, database_url: str | None = None) -> dict[str, str]:
    """Initialise a project in `folder` (on `database_url`, else its SQLite file), created by
    dana; the environment that opens it."""
    environ = {"LUCID_PROJECT": str(folder)}
    if database_url is not None:
        environ["LUCID_DATABASE_URL"] = database_url
    with init_project(folder, actor="dana", environ=environ):
        pass
    return environ
