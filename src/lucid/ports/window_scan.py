"""A window of logged predictions handed to the compute engine unread: the engine scans the
segment files (filtered on served-at and version, columns renamed and converted) and unions
them with the window's few SQL rows, so a run streams the window rather than holding it.

The engine that can scan Parquet itself (DuckDB) builds one view from it; another engine
calls `materialize` and registers the resulting Arrow table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pyarrow as pa

Conversion = Literal["double", "text", "boolean_text", "null_double", "null_text"]
"""How a segment column becomes a window column: cast to a number (DOUBLE), cast to text,
a boolean written `true`/`false`, or a null of the column's kind (the column is absent or of
the other kind)."""


def file_list(files: Sequence[str]) -> str:
    """`files` as a DuckDB list literal of quoted paths."""
    return "[" + ", ".join("'" + file.replace("'", "''") + "'" for file in files) + "]"


def parquet_scan(files: Sequence[str]) -> str:
    """A DuckDB table expression reading the Parquet `files` (columns united by name): what
    the prediction log and the DuckDB engine both scan segments with."""
    return f"read_parquet({file_list(files)}, union_by_name = true)"


@dataclass(frozen=True, slots=True)
class OutcomeScan:
    """A model's outcomes as a window's segments join them by prediction id: its few SQL
    rows (`rows`: `prediction_id`, `label`) and its outcome segment files (`prediction_id`,
    `label`, ... columns), one outcome per prediction across both."""

    rows: pa.Table
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SegmentScan:
    """The registered segment files holding a window's predictions, unread.

    `rows` is how many predictions the files hold (the window's share may be fewer). Rows of
    `files` served in [start, end) (naive UTC wall times, as the files hold them) and
    of `version` when given. `schema` is the files' columns united by name, as the reader
    gives them; `outcomes` are the model's outcomes, joined by id when the window has labels
    (None otherwise)."""

    files: tuple[str, ...]
    rows: int
    start: str
    end: str
    version: str | None
    schema: pa.Schema
    outcomes: OutcomeScan | None


@dataclass(frozen=True, slots=True)
class ScanColumn:
    """One window column: its name, the segment column it comes from (None when absent) and
    the conversion."""

    name: str
    source: str | None
    conversion: Conversion


@dataclass(frozen=True, slots=True)
class WindowScan:
    """A window as the engine measures it: the SQL rows (`rows`, already shaped: `columns`'
    names, then `score` and, with `label`, `label`) followed by the segments of `segments`
    converted column by column. `materialize` returns the same window as one Arrow table."""

    segments: SegmentScan
    columns: tuple[ScanColumn, ...]
    label: bool
    rows: pa.Table
    materialize: Callable[[], pa.Table]
