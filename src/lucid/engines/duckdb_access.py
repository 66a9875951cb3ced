"""What a DuckDB connection of Lucid may reach: no extension is installed or loaded on demand,
and once confined, only the files and folders it was given can be read or written.

A connection opens with `autoinstall_known_extensions` and `autoload_known_extensions` off (so
no query makes DuckDB download code) and community extensions refused. Before it runs SQL
that holds a definition's expression, it is confined: `allowed_directories` and
`allowed_paths` name what it may read (the sources it needs, the engine's scratch folder),
then `enable_external_access = false` turns every other file, glob and URL away, and
`lock_configuration = true` refuses any `SET` that would undo it. DuckDB checks these when a
file is opened, so a view over Parquet keeps working after the lock as long as its files are
allowed (DuckDB 1.3+; the settings cannot be widened once access is off).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lucid.contracts.semantic import Source, SourceKind
from lucid.engines.relations import literal

_GLOB = re.compile(r"[*?\[{]")


@dataclass(frozen=True)
class Readable:
    """The folders (everything under them) and single files a confined connection may open."""

    directories: frozenset[str] = frozenset()
    files: frozenset[str] = frozenset()

    def __or__(self, other: Readable) -> Readable:
        return Readable(self.directories | other.directories, self.files | other.files)

    def covers(self, other: Readable) -> bool:
        return other.directories <= self.directories and other.files <= self.files


def folder(path: Path | str) -> Readable:
    """Everything under `path` (a trailing `/` so that `data` does not also allow `data2`)."""
    return Readable(directories=frozenset({str(path).rstrip("/") + "/"}))


def file(path: Path | str) -> Readable:
    return Readable(files=frozenset({str(path)}))


def pattern(location: str) -> Readable:
    """What reading `location` needs: a file, or the folder a glob pattern starts from."""
    if not _GLOB.search(location):
        return file(location)
    fixed = _GLOB.split(location, maxsplit=1)[0]
    return folder(fixed if fixed.endswith("/") else str(Path(fixed).parent))


def source_readable(source: Source, location: str) -> Readable:
    """What a connection reads for `source` at `location` (its resolved path or glob)."""
    if source.kind is SourceKind.DUCKDB:
        return file(location) | file(f"{location}.wal")  # DuckDB looks for the WAL
    if source.kind is SourceKind.POSTGRESQL:
        return Readable()  # copied through the engine's scratch folder
    return pattern(location)


def connect(
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    spill_directory: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory connection in UTC that installs and loads no extension by itself."""
    connection = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
        },
    )
    connection.execute("SET TimeZone = 'UTC'")
    if memory_limit is not None:
        connection.execute(f"SET memory_limit = {literal(memory_limit)}")
    if spill_directory is not None:
        connection.execute(f"SET temp_directory = {literal(str(spill_directory))}")
    if threads is not None:
        connection.execute(f"SET threads = {int(threads)}")
    return connection


def confine(connection: duckdb.DuckDBPyConnection, readable: Readable) -> None:
    """From now on `connection` opens only what `readable` names, and keeps it so."""
    directories = ", ".join(literal(path) for path in sorted(readable.directories))
    files = ", ".join(literal(path) for path in sorted(readable.files))
    connection.execute(f"SET allowed_directories = [{directories}]")
    connection.execute(f"SET allowed_paths = [{files}]")
    connection.execute("SET enable_external_access = false")
    connection.execute("SET lock_configuration = true")
