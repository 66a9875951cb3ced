"""A table's rows read in record batches, and a uniform sample of them taken in one pass."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from lucid.errors import InvalidInput
from lucid.ports import ComputeEngine

if TYPE_CHECKING:
    import pyarrow as pa


def position_keys(start: int, count: int, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per row position start … start + count - 1: SplitMix64 of
    the position and the seed, so a row's key does not depend on how the rows are batched."""
    with np.errstate(over="ignore"):
        z = np.arange(start, start + count, dtype=np.uint64)
        z += np.uint64((seed * 0x9E3779B97F4A7C15) % 2**64)
        z += np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


class RowSample:
    """A uniform sample of at most `size` rows of a stream of record batches: the rows of the
    smallest `position_keys`, kept in that order (the first k rows are a uniform sample of
    k). Holds at most about twice `size` rows."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed, self.seen = size, seed, 0
        self._keys: list[np.ndarray] = []
        self._parts: list[pa.Table] = []
        self._schema: pa.Schema | None = None
        self._bound = math.inf

    def add(self, batch: pa.RecordBatch) -> None:
        import pyarrow as pa

        self._schema = batch.schema
        keys = position_keys(self.seen, batch.num_rows, self.seed)
        self.seen += batch.num_rows
        chosen = keys < self._bound
        if not chosen.any():
            return
        self._keys.append(keys[chosen])
        self._parts.append(pa.Table.from_batches([batch.filter(pa.array(chosen))]))
        if sum(len(k) for k in self._keys) > 2 * self.size:
            self._compact()

    def _compact(self) -> None:
        import pyarrow as pa

        if not self._parts:
            return
        keys = np.concatenate(self._keys)
        order = np.argsort(keys, kind="stable")[: self.size]
        self._keys = [keys[order]]
        self._parts = [pa.concat_tables(self._parts).take(pa.array(order))]
        if len(order) == self.size:
            self._bound = float(keys[order[-1]])

    def table(self) -> pa.Table:
        """The sampled rows, smallest key first (no column before the first batch)."""
        import pyarrow as pa

        self._compact()
        if self._parts:
            return self._parts[0]
        return pa.table({}) if self._schema is None else self._schema.empty_table()


def read_batches(
    engine: ComputeEngine,
    table: str,
    numeric: Sequence[str],
    categorical: Sequence[str],
    chunk_rows: int,
    side: str,
) -> Iterator[pa.RecordBatch]:
    """The rows of `table` (the `side` data: reference or current) in record batches."""
    found = engine.columns(table)
    missing = [c for c in (*numeric, *categorical) if c not in found]
    if missing:
        raise InvalidInput(
            f"{side}.{missing[0]}",
            f"column is missing from the {side} data (it has: {', '.join(found) or 'none'})",
        )
    sql = engine.drift_queries.feature_rows(table, numeric, categorical)
    return engine.batches(sql, chunk_rows)
