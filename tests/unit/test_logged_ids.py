"""Logged ids kept compact read back as the texts they were."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pytest

from lucid.monitoring.logged_ids import LoggedIds, compact_ids
from lucid.monitoring.prediction_tables import time_ordered_ids


def test_lucid_uuids_are_kept_as_16_bytes_and_read_back_as_text() -> None:
    made = time_ordered_ids(6)
    texts = made.to_pylist()
    upper = pa.array([str(uuid.uuid4()).upper(), "p-1"])
    chunks = [compact_ids(made.slice(0, 4)), compact_ids(upper), compact_ids(made.slice(4))]
    assert [chunk.type for chunk in chunks] == [pa.binary(16), pa.string(), pa.binary(16)]
    ids = LoggedIds(chunks)
    expected = [*texts[:4], *upper.to_pylist(), *texts[4:]]
    assert len(ids) == 8
    assert list(ids) == expected
    assert [ids[i] for i in range(-8, 8)] == expected * 2
    assert ids[3:6] == expected[3:6]
    with pytest.raises(IndexError):
        ids[8]


def test_ids_that_are_not_canonical_uuids_stay_text() -> None:
    for texts in (["0" * 36], [str(uuid.uuid4()).replace("-", "_")], ["a", None]):
        given = pa.array(texts, pa.string())
        assert compact_ids(given) is given
