"""Reading a file of predictions or outcomes for `lucid monitor` commands: a Parquet or CSV
file as an Arrow table, or a Parquet file chunk by chunk so that memory holds a chunk; an
unreadable file is refused naming it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lucid.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa


CHUNK_ROWS = 262_144
"""Rows of a Parquet file validated and written at a time (memory stays bounded)."""

_READ_BUFFER = 1 << 20
"""Bytes a Parquet column is read by at a time."""


def read_table(path: Path) -> pa.Table:
    """A Parquet or CSV file as an Arrow table (for `lucid monitor` commands)."""
    import pyarrow as pa

    rows, chunks = file_chunks(path)
    return pa.concat_tables(list(chunks)) if rows else next(iter(chunks))


def file_chunks(path: Path) -> tuple[int, Iterator[pa.Table]]:
    """A Parquet or CSV file's row count and its rows as tables of at most `CHUNK_ROWS`
    (a CSV file at once); an unreadable file is refused naming it."""
    if not path.is_file():
        raise InvalidInput("path", f"file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".txt"):
        raise InvalidInput("path", f"file {path} must be .parquet or .csv")
    with _unreadable(path):
        if suffix == ".parquet":
            import pyarrow.parquet as parquet

            # Without pre-buffering (with it the reader kept every chunk read: 10 M rows,
            # 3.5 GB) and with buffered column reads (without, it holds a row group's columns).
            file = parquet.ParquetFile(path, pre_buffer=False, buffer_size=_READ_BUFFER)
            rows = file.metadata.num_rows
            return rows, _parquet_chunks(path, file)
        import pyarrow.csv as csv

        table = csv.read_csv(path)
    return table.num_rows, iter([table])


def _parquet_chunks(path: Path, file: Any) -> Iterator[pa.Table]:
    import pyarrow as pa

    with _unreadable(path):
        if file.metadata.num_rows == 0:
            yield file.schema_arrow.empty_table()
        for batch in file.iter_batches(batch_size=CHUNK_ROWS):
            yield pa.Table.from_batches([batch])


@contextmanager
def _unreadable(path: Path) -> Iterator[None]:
    try:
        yield
    except Exception as error:  # pyarrow raises several unrelated types for unreadable files
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InvalidInput("path", f"file {path} could not be read ({first})") from None
