"""One SQLAlchemy engine per metadata database, configured for SQLite (WAL) or PostgreSQL.

Writers that must see the latest state before they write (the event log's chain head, a
registry's single production version) open a `locked_transaction`: on SQLite it is a
`BEGIN IMMEDIATE` (the database-wide write lock, taken before the first read); on PostgreSQL a
transaction-scoped advisory lock named after what it protects.

Work that outlives one transaction (following up a run, sending a digest, leading the
scheduler) holds a `session_lock`: a PostgreSQL session advisory lock on a connection of its
own, or on SQLite an exclusive `flock` on a file beside the database. Both die with their
process, so a crashed holder never blocks the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from lucid.errors import ConfigurationError, StorageUnavailable
from lucid.extras import require
from lucid.storage.driver_errors import translated
from lucid.storage.wal_checkpoints import Checkpointer

SQLITE_BUSY_TIMEOUT_MS = 60_000
WRITER_POLL_S = (0.00002, 0.0002)
"""The first and the longest pause between two tries of an SQLite writer's turn, in s."""
_WRITE_LOCK_OPTION = "lucid_write_lock"
_LOCKED: ContextVar[dict[int, Connection] | None] = ContextVar("lucid_locked", default=None)
"""The open locked transaction of each database (by id) in this context."""


def normalise_url(url: str) -> str:
    """Use psycopg 3 for `postgresql://` URLs; leave every other URL as given."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def redact(url: str) -> str:
    """The URL with any password hidden, fit for an error message."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


class Database:
    """A metadata database: its engine and the transaction shapes Lucid uses."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise ConfigurationError(
                f"database_url {url!r} is not a database URL (expected sqlite:///path or "
                "postgresql://user@host/db)."
            ) from None
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigurationError(
                f"database_url uses {self.dialect!r}; Lucid's metadata store runs on sqlite or "
                "postgresql."
            )
        if self.dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
            folder = Path(parsed.database).parent
            if not folder.is_dir():
                raise StorageUnavailable(
                    f"The folder {folder} of the SQLite database {parsed.database} does not exist."
                )
        self._pragmas: list[str] = []  # more settings for each new SQLite connection
        self.engine: Engine = _create_engine(self.url, self.dialect, self._pragmas)
        self._writers = threading.RLock()  # this process's SQLite writers, one at a time
        self._writing = 0  # how deep the thread holding `_writers` is
        self._writers_file: Any = None  # the file the processes' writers take turns on
        self._checkpointer: Checkpointer | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A plain transaction, committed on success and rolled back on error."""
        with self._translate_errors(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read transaction whose statements all see the same committed state: on SQLite a
        deferred `BEGIN` (WAL keeps the snapshot of its first read), on PostgreSQL REPEATABLE
        READ. Reads that join what one transaction moves between tables take one."""
        if self.is_sqlite:
            with self.transaction() as connection:
                yield connection
            return
        with self._translate_errors(), self.engine.connect() as connection:
            connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection

    @contextmanager
    def write_transaction(self) -> Iterator[Connection]:
        """A transaction that writes: on SQLite it takes the database's write lock up front
        (`BEGIN IMMEDIATE`), after the other writers of this process, so concurrent request
        threads queue here instead of sleeping in SQLite's busy handler or failing to
        upgrade a read into a write. A plain transaction on PostgreSQL."""
        if not self.is_sqlite:
            with self.transaction() as connection:
                yield connection
            return
        with self._writer(), self._translate_errors(), self.engine.connect() as connection:
            connection.execution_options(**{_WRITE_LOCK_OPTION: True})
            with connection.begin():
                yield connection

    @contextmanager
    def locked_transaction(self, lock_name: str) -> Iterator[Connection]:
        """A transaction holding the write lock `lock_name` from its first statement.

        Opened inside another locked transaction of this database in the same context (a use
        case calling another), it joins that transaction: the same connection, its lock also
        taken there, committed by the outermost block. A second connection would wait forever
        for the lock its own caller holds.
        """
        opened = _LOCKED.get() or {}
        outer = opened.get(id(self))
        if outer is not None:
            if not self.is_sqlite:
                outer.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(lock_name)}
                )
            yield outer
            return
        with contextlib.ExitStack() as stack:
            if self.is_sqlite:
                stack.enter_context(self._writer())
            connection = stack.enter_context(self._locked(lock_name))
            token = _LOCKED.set({**opened, id(self): connection})
            try:
                yield connection
            finally:
                _LOCKED.reset(token)

    @contextmanager
    def _locked(self, lock_name: str) -> Iterator[Connection]:
        with self._translate_errors(), self.engine.connect() as connection:
            connection.execution_options(**{_WRITE_LOCK_OPTION: True})
            with connection.begin():
                if not self.is_sqlite:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(lock_name)}
                    )
                yield connection

    @contextmanager
    def raw_transaction(self, lock_name: str | None = None) -> Iterator[Any]:
        """A transaction on the bare DBAPI connection, yielding a cursor; with `lock_name`,
        it holds that write lock from the start, as `locked_transaction` does.

        For hot paths only (the event log's single append and its verification scan):
        SQLAlchemy's per-statement overhead there is larger than SQLite's own commit.
        Parameters use the named style of the driver (`:name` for sqlite3, `%(name)s` for
        psycopg).
        """
        with self._raw(immediate=bool(lock_name), advisory=lock_name) as cursor:
            yield cursor

    @contextmanager
    def raw_write_transaction(self) -> Iterator[Any]:
        """`write_transaction` on the bare DBAPI connection, yielding a cursor (the
        prediction journal's inserts). Parameters use the driver's positional style (`?` for
        sqlite3, `%s` for psycopg)."""
        with self._raw(immediate=True, advisory=None) as cursor:
            yield cursor

    @contextmanager
    def _raw(self, *, immediate: bool, advisory: str | None) -> Iterator[Any]:
        with contextlib.ExitStack() as stack:
            if immediate and self.is_sqlite:
                stack.enter_context(self._writer())
            stack.enter_context(self._translate_errors())
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                if self.is_sqlite:
                    cursor.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
                elif advisory:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(advisory),))
                yield cursor
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
            finally:
                connection.close()

    def read_scalar(self, sql: str) -> Any:
        """The first column of the first row of one read on the bare driver, or None. For
        hot paths only (a serving worker asks one on every prediction); `sql` takes no
        parameters."""
        with self._translate_errors():
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute(sql)
                row = cursor.fetchone()
                cursor.close()
            finally:
                connection.close()
        return None if row is None else row[0]

    @contextmanager
    def _writer(self) -> Iterator[None]:
        """An SQLite writer's turn: after this process's other writers (a thread lock), then
        after other processes' (an `flock` on a file beside the database, polled from 20 µs
        up to 200 µs apart). SQLite's own busy handler sleeps up to 100 ms between tries, and
        serving workers commit many times a second."""
        with self._writers:
            self._writing += 1
            try:
                if self._writing == 1:
                    deadline, pause = self._turn_deadline(), WRITER_POLL_S[0]
                    while not self._try_writers_file():
                        self._still_waiting(deadline)
                        time.sleep(pause)
                        pause = min(pause * 2, WRITER_POLL_S[1])
                yield
            finally:
                self._leave_turn()

    @asynccontextmanager
    async def writer_turn(self) -> AsyncIterator[None]:
        """The writer's turn of `_writer` for a writer on an event loop, which runs its other
        tasks between two tries instead of sleeping; held by the loop's thread, so the body
        must not await. Nothing to take on PostgreSQL."""
        if not self.is_sqlite:
            yield
            return
        deadline, pause = self._turn_deadline(), WRITER_POLL_S[0]
        while True:
            if self._writers.acquire(blocking=False):
                if self._writing > 0 or self._try_writers_file():
                    break
                self._writers.release()  # never held across an await
            self._still_waiting(deadline)
            await asyncio.sleep(pause)
            pause = min(pause * 2, WRITER_POLL_S[1])
        self._writing += 1
        try:
            yield
        finally:
            self._leave_turn()
            self._writers.release()

    def _try_writers_file(self) -> bool:
        """Whether this process holds the writers' file now (in memory: no file to take)."""
        if self._writers_file is None:
            folder = self._locks_folder()
            if folder is None:
                return True  # one process: the thread lock is enough
            self._writers_file = (folder / "writers.lock").open("a+b")
        # Tried, not a blocking flock: a wait is bounded like SQLite's busy timeout, and
        # short waits (another worker's commit) still end within about their own length.
        try:
            fcntl.flock(self._writers_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _leave_turn(self) -> None:
        if self._writing == 1 and self._writers_file is not None:
            fcntl.flock(self._writers_file.fileno(), fcntl.LOCK_UN)
        self._writing -= 1

    @staticmethod
    def _turn_deadline() -> float:
        return time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000

    def _still_waiting(self, deadline: float) -> None:
        if time.monotonic() > deadline:
            raise StorageUnavailable(
                f"Another writer has held the SQLite database {redact(self.url)} for "
                f"{SQLITE_BUSY_TIMEOUT_MS / 1000:g} s; nothing was written."
            )

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as error:
            if _is_connection_failure(error):
                raise StorageUnavailable(
                    f"Cannot reach the metadata database at {redact(self.url)}: "
                    f"{str(error.orig).strip().splitlines()[0]}"
                ) from error
            raise
        except Exception as error:
            refusal = translated(error)  # a value the database refused, as a sentence
            if refusal is None:
                raise
            raise refusal from error

    @contextmanager
    def session_lock(self, name: str, *, wait: bool = True) -> Iterator[HeldLock | None]:
        """Hold the lock `name` across transactions until the block ends (or the process
        dies). With `wait=False` it yields None at once when another holder has it."""
        if self.is_sqlite:
            held = self._file_lock(name, wait)
        else:
            held = self._advisory_session_lock(name, wait)
        if held is None:
            yield None
            return
        try:
            yield held
        finally:
            held.release()

    def _locks_folder(self) -> Path | None:
        """The folder of lock files beside an SQLite database file; None in memory."""
        database = make_url(self.url).database
        if database in (None, "", ":memory:"):
            return None
        folder = Path(f"{database}.locks")
        folder.mkdir(exist_ok=True)
        return folder

    def _file_lock(self, name: str, wait: bool) -> HeldLock | None:
        folder = self._locks_folder()
        if folder is None:
            return _thread_lock(f"{id(self)}:{name}", wait)
        path = folder / f"{hashlib.sha256(name.encode()).hexdigest()[:24]}.lock"
        handle = path.open("a+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.close()
            return None
        return HeldLock(lambda: handle.close(), lambda: True)

    def _advisory_session_lock(self, name: str, wait: bool) -> HeldLock | None:
        key = advisory_key(f"session:{name}")
        with self._translate_errors():
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            if wait:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            elif not connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": key}
            ).scalar_one():
                connection.close()
                return None
        except BaseException:
            connection.close()
            raise

        def release() -> None:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            except Exception:  # the connection is gone, and the lock with it
                pass
            finally:
                connection.close()

        def alive() -> bool:
            try:
                connection.execute(text("SELECT 1"))
            except Exception:  # the server or the connection is gone: so is the lock
                return False
            return True

        return HeldLock(release, alive)

    def checkpoint_in_background(self) -> Checkpointer | None:
        """SQLite: this process's commits do not checkpoint the WAL; a thread does
        (`lucid.storage.wal_checkpoints`), until `dispose`. A checkpoint in a commit syncs the
        database file while that writer, and every writer queued behind it, waits; serving
        workers commit many times a second on their event loop. None on PostgreSQL or in
        memory."""
        database = make_url(self.url).database
        if not self.is_sqlite or database in (None, "", ":memory:") or self._checkpointer:
            return self._checkpointer
        self._pragmas.append("PRAGMA wal_autocheckpoint=0")
        self.engine.dispose()  # pooled connections reopen with it
        self._checkpointer = Checkpointer(database, self._writer)
        return self._checkpointer

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.engine.dispose()
        if self._writers_file is not None:
            self._writers_file.close()
            self._writers_file = None


class HeldLock:
    """A session lock being held: `alive()` says whether it still is (a PostgreSQL lock is
    lost with its connection), `release()` lets it go."""

    def __init__(self, release: Callable[[], None], alive: Callable[[], bool]) -> None:
        self._release = release
        self.alive = alive
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._release()


_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def _thread_lock(key: str, wait: bool) -> HeldLock | None:
    """A session lock of an in-memory SQLite database: one process, so a threading lock."""
    with _THREAD_LOCKS_GUARD:
        lock = _THREAD_LOCKS.setdefault(key, threading.Lock())
    if not lock.acquire(blocking=wait):
        return None
    return HeldLock(lock.release, lambda: True)


def advisory_key(lock_name: str) -> int:
    """A stable signed 64-bit key for a PostgreSQL advisory lock."""
    digest = hashlib.sha256(f"lucid:{lock_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _is_connection_failure(error: OperationalError) -> bool:
    message = str(error.orig).lower()
    return any(
        marker in message
        for marker in ("connection", "could not connect", "unable to open", "timeout expired")
    )


def _create_engine(url: str, dialect: str, pragmas: list[str]) -> Engine:
    if dialect == "postgresql":
        require("psycopg", "postgres", "a postgresql:// database_url")
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
        # Lucid emits BEGIN itself (see _begin) so that writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a killed process; only a power cut may lose
        # the last commits (the WAL is synced at checkpoints).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE_LOCK_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
