"""Materialisation: the latest value of approved features, computed offline as known at a
time, written to the online store for serving."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from lucid.contracts.semantic.governance import Governed, Status, check_servable
from lucid.contracts.semantic.sources import Source, listing_source
from lucid.contracts.semantic.versions import FeatureRef
from lucid.features.catalog import DefinitionCatalog
from lucid.features.serving import epoch
from lucid.ports.offline import OfflineEngine, Rows
from lucid.ports.online import MATERIALISED, OnlineStore, Row


def materialize(
    catalog: DefinitionCatalog,
    store: OnlineStore,
    engine: OfflineEngine,
    features: Sequence[str] | None,
    at: datetime,
) -> dict[str, int]:
    """Write the latest values (as known at `at`; naive means UTC) of the given pinned
    features, or of every approved definition, to the online store; a value stored for a
    later time stays. Returns how many values each feature stored."""
    if features:
        chosen = [catalog.resolve(FeatureRef.parse(feature)) for feature in features]
    else:
        chosen = [g for g in catalog.definitions() if g.status is Status.APPROVED]
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return materialise(store, engine, chosen, catalog.sources(), at)


def materialise(
    store: OnlineStore,
    engine: OfflineEngine,
    governed: Sequence[Governed],
    sources: dict[str, Source],
    at: datetime,
) -> dict[str, int]:
    """Write each feature's value and data time as known at `at` (naive: UTC) for every entity
    its sources know, or exactly the ids of its entity's listing source when it has one; the
    store keeps a newer value in place. Returns how many values each feature stored."""
    written = {}
    as_of = epoch(at)
    for item in governed:
        check_servable(item)
        keys = listing_source(sources, item.definition.entity)
        cursor = engine.latest_values(item.definition, sources, at, keys=keys)
        ref = str(item.definition.ref)
        written[ref] = store.write(ref, _rows(cursor, as_of))
        # After the values: a reader comparing a value's as_of with the marker's never sees
        # the marker ahead of the values it stands for.
        store.write(ref, [(MATERIALISED, None, as_of, None)])
    return written


def _rows(cursor: Rows, as_of: float) -> Iterator[Row]:
    while batch := cursor.fetchmany(10_000):
        for entity, _, value, data_time in batch:
            yield entity, value, as_of, _epoch_of(data_time)


def _epoch_of(data_time: Any) -> float | None:
    """Epoch seconds of an engine's data time (a timestamp, naive meaning UTC, or a number)."""
    if data_time is None:
        return None
    if isinstance(data_time, datetime):
        return epoch(data_time)
    return float(data_time)
