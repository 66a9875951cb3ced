"""The columnar part of the prediction log: immutable Parquet segments under the log's folder,
one model and one UTC day each (`model=<model>/day=<YYYY-MM-DD>/<id>.parquet`).

Write rule: a segment is written under a temporary name, flushed to disk (fsync), renamed to
its final name, and only then registered by one row of `prediction_segments` (rows, SHA-256
of its bytes, served-at range). The committed registration is the acknowledgement: a file
without one (a crash between the rename and the commit) is an orphan and is never read; a
refused registration deletes the files it wrote. A segment is never rewritten.

A segment holds `id`, `version`, `entity`, `served_at` (a UTC timestamp in microseconds,
without a zone), `score`, `arm` and one column per feature, named `feature.<name>`
(`FEATURE_PREFIX`). Its registration keeps the served-at range as canonical UTC text.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar
from urllib.parse import quote

from sqlalchemy import Connection, Select, Table, func, insert, select

from lucid.contracts.events import format_time
from lucid.ports.monitoring import FEATURE_PREFIX
from lucid.ports.window_scan import parquet_scan
from lucid.storage.database import Database
from lucid.storage.tables import prediction_segments

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["FEATURE_PREFIX", "PredictionSegments", "SegmentRegistry"]

Staged = tuple[dict[str, Any], Path]
"""A segment file written and not yet registered: its registration row and its path."""

_GROUP = 131_072
"""Rows per Parquet row group: a reader holds one group per thread, not the segment."""


class SegmentRegistry:
    """Segment files kept under `root`, each part of the log once one row of `registry`
    registers it (the write rule above)."""

    registry: ClassVar[Table]

    def __init__(self, db: Database, root: Path) -> None:
        self.db = db
        self.root = root

    def register(self, staged: Sequence[Staged]) -> None:
        """Register staged segments in one transaction; on failure their files are deleted."""
        if not staged:
            return
        try:
            with self.db.write_transaction() as connection:
                self.register_in(connection, staged)
        except BaseException:
            self.discard(staged)
            raise

    def register_in(self, connection: Connection, staged: Sequence[Staged]) -> None:
        """Register staged segments in the transaction of `connection` (the caller discards
        them when it does not commit)."""
        connection.execute(insert(self.registry), [row for row, _ in staged])

    @staticmethod
    def discard(staged: Sequence[Staged]) -> None:
        """Delete staged segment files (never registered, so never read)."""
        for _, path in staged:
            path.unlink(missing_ok=True)


class PredictionSegments(SegmentRegistry):
    """The registered segments of the log kept in `root`."""

    registry = prediction_segments

    def append(self, model: str, table: pa.Table, created_at: str) -> int:
        """Write `table` (validated predictions of `model`) as one segment per UTC day and
        register them in one transaction; the number of segments."""
        staged = self.stage(model, table, created_at)
        self.register(staged)
        return len(staged)

    def stage(self, model: str, table: pa.Table, created_at: str) -> list[Staged]:
        """Write `table` as one segment file per UTC day, not yet registered (so not yet
        read); `register` makes them part of the log, `discard` deletes them."""
        import pyarrow as pa
        import pyarrow.compute as pc

        days = table.column("served_at").cast(pa.date32())
        bounds = pc.min_max(days)
        unique = (
            [bounds["min"]]
            if bounds["min"] == bounds["max"]
            else pc.unique(days).sort().to_pylist()
        )
        written: list[Staged] = []
        try:
            for day in unique:
                part = table if len(unique) == 1 else table.filter(pc.equal(days, day))
                written.append(self._write(model, str(day), part, created_at))
        except BaseException:
            self.discard(written)
            raise
        return written

    def _write(self, model: str, day: str, part: pa.Table, created_at: str) -> Staged:
        import pyarrow.compute as pc

        segment = str(uuid.uuid4())
        relative = f"model={quote(model, safe='')}/day={day}/{segment}.parquet"
        text = [f.name for f in part.schema if f.name not in ("id", "entity") and _is_text(f.type)]
        sha256, final = write_file(self.root / relative, part, text)
        bounds = pc.min_max(part.column("served_at"))
        first, last = (_text(bounds[end].as_py()) for end in ("min", "max"))
        row = {
            "id": segment,
            "model": model,
            "day": day,
            "path": relative,
            "rows": part.num_rows,
            "sha256": sha256,
            "first_served_at": first,
            "last_served_at": last,
            "created_at": created_at,
        }
        return row, final

    def files(
        self,
        model: str | None = None,
        start: str | None = None,
        end: str | None = None,
        connection: Connection | None = None,
    ) -> list[str]:
        """The registered segment files (absolute paths) of `model` (every model when None)
        holding a prediction served in [start, end) when given; read in the transaction of
        `connection` when given (a snapshot that also reads the rows)."""
        query = select(prediction_segments.c.path).order_by(
            prediction_segments.c.first_served_at, prediction_segments.c.id
        )
        if model is not None:
            query = query.where(prediction_segments.c.model == model)
        if start is not None:
            query = query.where(prediction_segments.c.last_served_at >= start)
        if end is not None:
            query = query.where(prediction_segments.c.first_served_at < end)
        return registered_paths(self.db, self.root, query, connection)

    def rows(self, model: str, connection: Connection) -> int:
        """Predictions of `model` held in segments, read in the transaction of `connection`."""
        return held_rows(prediction_segments, model, connection)

    def altered(self, model: str | None = None) -> list[str]:
        """The registered segments (relative paths) whose bytes are missing or no longer
        hash to their registered SHA-256."""
        return altered_files(self.db, self.root, prediction_segments, model)


def registered_paths(
    db: Database, root: Path, query: Select[Any], connection: Connection | None
) -> list[str]:
    """The registered relative paths `query` selects, as absolute paths under `root`; read
    in the transaction of `connection` when given."""
    if connection is not None:
        return [str(root / path) for path in connection.execute(query).scalars()]
    with db.transaction() as opened:
        return [str(root / path) for path in opened.execute(query).scalars()]


def held_rows(registry: Table, model: str, connection: Connection) -> int:
    """The rows of `model`'s segments registered in `registry`, read on `connection`."""
    count = connection.execute(
        select(func.coalesce(func.sum(registry.c.rows), 0)).where(registry.c.model == model)
    ).scalar_one()
    return int(count)


def altered_files(db: Database, root: Path, registry: Table, model: str | None) -> list[str]:
    """The files registered in `registry` (of `model` when given; paths relative to `root`)
    whose bytes are missing or no longer hash to their registered SHA-256."""
    query = select(registry.c.path, registry.c.sha256)
    if model is not None:
        query = query.where(registry.c.model == model)
    with db.transaction() as connection:
        registered = list(connection.execute(query))
    found = []
    for path, sha256 in registered:
        file = root / path
        if not file.is_file() or hashlib.sha256(file.read_bytes()).hexdigest() != sha256:
            found.append(str(path))
    return found


def write_file(final: Path, part: pa.Table, dictionary: list[str]) -> tuple[str, Path]:
    """Write `part` as the Parquet file `final` by the write rule (temporary name, fsync,
    rename, folder synced), `dictionary` the columns dictionary-encoded; its SHA-256."""
    import pyarrow.parquet as pq

    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = final.with_name(f".{final.stem}.tmp")
    try:
        with temporary.open("wb") as handle:
            hashed = _Hashing(handle)
            pq.write_table(
                part, hashed, compression="lz4", use_dictionary=dictionary, row_group_size=_GROUP
            )
            handle.flush()
            os.fsync(handle.fileno())
        temporary.rename(final)
    finally:
        temporary.unlink(missing_ok=True)
    _sync_folder(final.parent)
    return hashed.digest.hexdigest(), final


class _Hashing(io.RawIOBase):
    """A binary file that hashes (SHA-256) every byte written through it."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return self.handle.write(data)

    def close(self) -> None:  # the caller closes the file after fsync
        pass


def _is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _text(moment: datetime) -> str:
    """Canonical UTC text of a naive UTC time."""
    return format_time(moment.replace(tzinfo=UTC))


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename) to disk; a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


scan = parquet_scan
"""A DuckDB table expression reading segment files (columns united by name)."""


SERVED_TEXT = "strftime(s.served_at, '%Y-%m-%dT%H:%M:%S.%fZ')"
"""DuckDB's canonical UTC text of a segment row's `served_at` (the row aliased `s`)."""


def wall(text: str) -> str:
    """The naive UTC wall time of canonical UTC text (`CAST(? AS TIMESTAMP)` reads it)."""
    return text[:-1] if text.endswith("Z") else text
