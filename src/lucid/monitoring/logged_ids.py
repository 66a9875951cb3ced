"""The ids of a logged batch, kept compact: ten million ids as Python strings would cost
about a gigabyte, as Arrow text 400 MB, as 16 bytes each 160 MB."""

from __future__ import annotations

import bisect
import itertools
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    import pyarrow as pa


class LoggedIds(Sequence[str]):
    """The ids of a logged batch, kept as Arrow arrays: ten million Python strings would cost
    about a gigabyte. Canonical UUID texts (the ids Lucid makes) are kept as their 16 bytes
    (`compact_ids`), any other id as its text."""

    def __init__(self, ids: Sequence[pa.Array]) -> None:
        self._chunks = list(ids)
        self._ends = list(itertools.accumulate(len(chunk) for chunk in self._chunks))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __iter__(self) -> Iterator[str]:
        for chunk in self._chunks:
            yield from (_id_text(value) for value in chunk.to_pylist())

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        position = index % len(self)
        chunk = bisect.bisect_right(self._ends, position)
        start = self._ends[chunk - 1] if chunk else 0
        return _id_text(self._chunks[chunk][position - start].as_py())


def _id_text(value: str | bytes) -> str:
    return str(uuid.UUID(bytes=value)) if isinstance(value, bytes) else str(value)


_GROUPS = ((0, 8), (9, 13), (14, 18), (19, 23), (24, 36))
"""Where the hex digits of a canonical UUID text are (dashes between)."""


def compact_ids(ids: pa.Array) -> pa.Array:
    """`ids` as 16 bytes each when every one is a canonical lowercase UUID text (36
    characters, 16 bytes of memory rather than 40); otherwise `ids` as they are."""
    import numpy as np
    import pyarrow as pa

    count = len(ids)
    if not count or ids.null_count or not pa.types.is_string(ids.type):
        return ids
    offsets = np.frombuffer(ids.buffers()[1], np.int32, count + 1, ids.offset * 4)
    if offsets[-1] - offsets[0] != 36 * count or not (np.diff(offsets) == 36).all():
        return ids
    text = np.frombuffer(ids.buffers()[2], np.uint8)[offsets[0] : offsets[-1]].reshape(count, 36)
    # Lowercase hex digits only ('0'-'9', 'a'-'f'; unsigned wrap-around makes one compare
    # of each range), dashes where the groups end.
    digit = ((text - ord("0")) < 10) | ((text - ord("a")) < 6)
    dashes = text[:, [end for _, end in _GROUPS[:-1]]]
    if int(digit.sum()) != 32 * count or not (dashes == ord("-")).all():
        return ids
    values = (text & 15) + 9 * (text >> 6)
    raw = np.concatenate(
        [(values[:, start:end:2] << 4) | values[:, start + 1 : end : 2] for start, end in _GROUPS],
        axis=1,
    )
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), count, [None, pa.py_buffer(raw.tobytes())]
    )
