"""Segments of one append written batch by batch: a large file is logged in chunks, each
chunk's rows appended to one open Parquet file per UTC day, so memory holds a chunk rather
than the file. The files follow `lucid.storage.prediction_segments`' write rule when closed
(flushed, fsynced, renamed, folder synced) and are registered together by the caller.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from lucid.storage.prediction_segments import (
    _GROUP,
    Staged,
    _Hashing,
    _is_text,
    _sync_folder,
    _text,
)

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq


@dataclass
class _Open:
    """One segment file being written: its names, its writer and what its registration
    row needs (rows, served-at range)."""

    segment: str
    relative: str
    final: Path
    temporary: Path
    handle: BinaryIO
    hashed: _Hashing
    writer: pq.ParquetWriter
    rows: int = 0
    bounds: list[Any] = field(default_factory=list)


class SegmentWriter:
    """The segments of `model` one append writes under `root`: `write` a validated batch,
    `close` for the staged segments (written, not registered), `discard` to delete them."""

    def __init__(self, root: Path, model: str, created_at: str) -> None:
        self.root, self.model, self.created_at = root, model, created_at
        self._open: dict[str, _Open] = {}
        self._closed: list[Staged] = []

    def write(self, table: pa.Table) -> None:
        """Append `table`'s rows to the open segment of each UTC day they were served on; a
        batch whose columns differ from the open segment's starts a new segment."""
        import pyarrow as pa
        import pyarrow.compute as pc

        days = table.column("served_at").cast(pa.date32())
        bounds = pc.min_max(days)
        if bounds["min"] == bounds["max"]:
            self._append(str(bounds["min"]), table)
            return
        for day in pc.unique(days).sort().to_pylist():
            self._append(str(day), table.filter(pc.equal(days, day)))

    def _append(self, day: str, part: pa.Table) -> None:
        import pyarrow.compute as pc

        current = self._open.get(day)
        if current is not None and not current.writer.schema.equals(part.schema):
            self._closed.append(self._finish(day, self._open.pop(day)))
            current = None
        if current is None:
            current = self._open[day] = self._start(day, part.schema)
        current.writer.write_table(part, row_group_size=_GROUP)
        current.rows += part.num_rows
        served = pc.min_max(part.column("served_at"))
        current.bounds += [served["min"].as_py(), served["max"].as_py()]
        current.bounds[:] = [min(current.bounds), max(current.bounds)]

    def _start(self, day: str, schema: pa.Schema) -> _Open:
        import pyarrow.parquet as pq

        segment = str(uuid.uuid4())
        relative = f"model={quote(self.model, safe='')}/day={day}/{segment}.parquet"
        final = self.root / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.with_name(f".{segment}.tmp")
        handle = temporary.open("wb")
        hashed = _Hashing(handle)
        text = [f.name for f in schema if f.name not in ("id", "entity") and _is_text(f.type)]
        writer = pq.ParquetWriter(hashed, schema, compression="lz4", use_dictionary=text)
        return _Open(segment, relative, final, temporary, handle, hashed, writer)

    def _finish(self, day: str, current: _Open) -> Staged:
        try:
            current.writer.close()
            current.handle.flush()
            os.fsync(current.handle.fileno())
            current.handle.close()
            current.temporary.rename(current.final)
        finally:
            current.handle.close()
            current.temporary.unlink(missing_ok=True)
        _sync_folder(current.final.parent)
        first, last = (_text(moment) for moment in current.bounds)
        row = {
            "id": current.segment,
            "model": self.model,
            "day": day,
            "path": current.relative,
            "rows": current.rows,
            "sha256": current.hashed.digest.hexdigest(),
            "first_served_at": first,
            "last_served_at": last,
            "created_at": self.created_at,
        }
        return row, current.final

    def close(self) -> list[Staged]:
        """Finish every open segment; all the segments written, in the order they were
        started per day."""
        try:
            while self._open:
                day = next(iter(self._open))
                self._closed.append(self._finish(day, self._open.pop(day)))
        except BaseException:
            self.discard()
            raise
        return list(self._closed)

    def discard(self) -> None:
        """Delete every segment written, finished or not."""
        for current in self._open.values():
            with contextlib.suppress(Exception):  # the file is deleted either way
                current.writer.close()
            current.handle.close()
            current.temporary.unlink(missing_ok=True)
        self._open.clear()
        for _, path in self._closed:
            path.unlink(missing_ok=True)
        self._closed.clear()
