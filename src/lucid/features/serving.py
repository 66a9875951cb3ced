"""Online serving: materialise approved features, read them with their TTL, log what is served,
and measure training-serving skew by recomputing served values offline.

Serving reads exactly the pinned versions (`name@version`). A value older than its feature's
TTL is served as missing with `status="stale"`, never as a fresh value.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lucid.contracts.events import format_time, parse_time
from lucid.contracts.semantic import (
    Duration,
    FeatureRef,
    Governed,
    SkewStats,
    Source,
    ValueType,
    check_servable,
    is_stale,
    overall_skew,
)
from lucid.errors import Conflict, InvalidInput
from lucid.storage.database import Database
from lucid.storage.online_store import MATERIALISED, OnlineStore, StoredValue
from lucid.storage.tables import served_features

if TYPE_CHECKING:
    from lucid.engines.duckdb import DuckDBEngine

StoredPairs = dict[tuple[str, str], StoredValue]
"""What an online store holds of (entity, feature reference) pairs."""


@dataclass(frozen=True, slots=True)
class ServedValue:
    """One feature value as served: `status` is fresh, stale (too old: value None) or missing."""

    entity: str
    feature: str
    value: Any
    as_of: float | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "feature": self.feature,
            "value": self.value,
            "as_of": _epoch_text(self.as_of) if self.as_of is not None else None,
            "status": self.status,
        }


class FeatureServer:
    """Reads pinned feature versions from the online store for serving."""

    def __init__(
        self,
        store: OnlineStore,
        resolve: Callable[[FeatureRef], Governed],
        db: Database,
    ) -> None:
        self._store = store
        self._resolve = resolve
        self._db = db
        # Each list of features as asked -> its plan. A name@version never changes once
        # stored, and resolving the references on every call cost about half of a one-entity
        # read. Only servable features are planned.
        self._plans: dict[tuple[str, ...], ServingPlan] = {}

    def forget(self) -> None:
        """Resolve every feature again on its next read."""
        self._plans = {}

    def plan(self, features: Sequence[str]) -> ServingPlan:
        """How `features` are read and served; refuses one that is not servable."""
        asked = tuple(features)
        plan = self._plans.get(asked)
        if plan is None:
            if not asked:
                raise InvalidInput("features", "name at least one pinned feature (name@version)")
            refs, specs = [], []
            for feature in asked:
                governed = self._resolve(FeatureRef.parse(feature))
                check_servable(governed)
                definition = governed.definition
                refs.append(str(definition.ref))
                specs.append((definition.ttl, definition.value_type, definition.empty_value))
            plan = self._plans[asked] = ServingPlan(tuple(refs), tuple(specs))
        return plan

    def get_online_features(
        self,
        entity_ids: Sequence[str],
        features: Sequence[str],
        *,
        log: bool = False,
        now: datetime | None = None,
    ) -> list[dict[str, ServedValue]]:
        """For each entity, each pinned feature's served value (in the order asked)."""
        plan = self.plan(features)
        entities = [str(entity) for entity in entity_ids]
        stored = self._store.read(entities, plan.refs)
        if markers := plan.markers_wanted(entities, stored):
            stored |= self._store.read([MATERIALISED], markers)
        moment = now.timestamp() if now is not None else time.time()
        served = plan.served(entities, stored, moment)
        if log:
            self._log(served, moment)
        return served

    async def get_online_features_async(
        self, entity_ids: Sequence[str], features: Sequence[str], *, now: datetime
    ) -> list[dict[str, ServedValue]]:
        """`get_online_features` (unlogged) on an event loop, which the store's network wait
        does not hold up."""
        plan = self.plan(features)
        entities = [str(entity) for entity in entity_ids]
        stored = await self._store.read_async(entities, plan.refs)
        if markers := plan.markers_wanted(entities, stored):
            stored |= await self._store.read_async([MATERIALISED], markers)
        return plan.served(entities, stored, now.timestamp())

    def _log(self, served: list[dict[str, ServedValue]], moment: float) -> None:
        log_served_values(
            self._db,
            [value for row in served for value in row.values()],
            datetime.fromtimestamp(moment, UTC),
        )


Spec = tuple[Duration | None, ValueType, Any]
"""A served feature's TTL, value type and empty value."""


@dataclass(frozen=True, slots=True)
class ServingPlan:
    """The normal references (`name@version`) of the features asked, in order, and their specs."""

    refs: tuple[str, ...]
    specs: tuple[Spec, ...]

    def markers_wanted(self, entities: Sequence[str], stored: StoredPairs) -> list[str]:
        """The features whose last materialisation must be read: an entity has no stored value
        of them, and they have an empty value to serve in that case."""
        return [
            ref
            for ref, (_, _, empty) in zip(self.refs, self.specs, strict=True)
            if empty is not None and any((entity, ref) not in stored for entity in entities)
        ]

    def served(
        self, entities: Sequence[str], stored: StoredPairs, moment: float
    ) -> list[dict[str, ServedValue]]:
        """Each entity's served values at epoch `moment` from what the store holds (with the
        materialisation markers `markers_wanted` named)."""
        served = []
        for entity in entities:
            row: dict[str, ServedValue] = {}
            for ref, (ttl, value_type, empty) in zip(self.refs, self.specs, strict=True):
                found = stored.get((entity, ref))
                if found is None and empty is not None:
                    # Absent at the last materialisation: the entity had no event then.
                    marker = stored.get((MATERIALISED, ref))
                    found = (empty, marker[1]) if marker is not None else None
                if found is None:
                    row[ref] = ServedValue(entity, ref, None, None, "missing")
                elif is_stale(found[1], ttl, moment):
                    row[ref] = ServedValue(entity, ref, None, found[1], "stale")
                else:
                    value = value_type.coerce(found[0])
                    row[ref] = ServedValue(entity, ref, value, found[1], "fresh")
            served.append(row)
        return served


def log_served_values(db: Database, values: Sequence[ServedValue], at: datetime) -> None:
    """Log values served to a model at `at`: what training-serving skew is measured on."""
    rows = served_value_rows(values, at)
    if rows:
        with db.write_transaction() as connection:
            connection.execute(served_features.insert(), rows)


def served_value_rows(values: Sequence[ServedValue], at: datetime) -> list[dict[str, Any]]:
    """The `served_features` rows of values served at `at`."""
    served_at = format_time(at)
    return [
        {
            "served_at": served_at,
            "entity": value.entity,
            "feature": value.feature,
            "value": json.dumps(value.value),
            "as_of": _epoch_text(value.as_of) if value.as_of is not None else None,
            "status": value.status,
        }
        for value in values
    ]


def fresh_rows(served: Sequence[dict[str, ServedValue]]) -> list[dict[str, Any]]:
    """Each entity's values by pin, refused (nothing predicted) if one is missing or stale."""
    rows = []
    for row in served:
        for value in row.values():
            if value.status != "fresh" or value.value is None:
                raise Conflict(
                    f"{value.feature} is {value.status} for entity {value.entity}; a model "
                    "is never fed a missing or stale value, nothing was predicted."
                )
        rows.append({ref: value.value for ref, value in row.items()})
    return rows


def _epoch_text(epoch: float) -> str:
    return format_time(datetime.fromtimestamp(epoch, UTC))


def materialise(
    store: OnlineStore,
    engine: DuckDBEngine,
    governed: Sequence[Governed],
    sources: dict[str, Source],
    at: datetime,
) -> dict[str, int]:
    """Write each feature's value as known at `at` for every entity its sources know."""
    written = {}
    as_of = at.timestamp()
    for item in governed:
        check_servable(item)
        cursor = engine.latest_values(item.definition, sources, at)
        ref = str(item.definition.ref)

        def rows(cursor: Any = cursor) -> Any:
            while batch := cursor.fetchmany(10_000):
                for entity, _, value, _data_time in batch:
                    yield entity, value, as_of

        written[ref] = store.write(ref, rows())
        store.write(ref, [(MATERIALISED, None, as_of)])
    return written


@dataclass(frozen=True)
class SkewReport:
    features: list[SkewStats]
    overall: SkewStats
    tolerance: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "tolerance": self.tolerance,
            "overall": self.overall.to_dict(),
            "features": [stats.to_dict() for stats in self.features],
        }


def measure_skew(
    db: Database,
    engine: DuckDBEngine,
    resolve: Callable[[FeatureRef], Governed],
    sources: dict[str, Source],
    *,
    tolerance: float = 1e-6,
    since: datetime | None = None,
    features: Sequence[str] | None = None,
) -> SkewReport:
    """Recompute offline, at each served time and as known then, every logged served value."""
    if tolerance < 0:
        raise InvalidInput("tolerance", f"must be ≥ 0, not {tolerance}")
    query = served_features.select().order_by(served_features.c.id)
    if since is not None:
        query = query.where(served_features.c.served_at >= format_time(since, "since"))
    if features is not None:
        query = query.where(served_features.c.feature.in_(list(features)))
    with db.transaction() as connection:
        logged = connection.execute(query).all()
    by_feature: dict[str, list[Any]] = {}
    for row in logged:
        by_feature.setdefault(row.feature, []).append(row)
    stats = []
    for feature, rows in sorted(by_feature.items()):
        definition = resolve(FeatureRef.parse(feature)).definition
        spine = [(row.entity, parse_time(row.served_at)) for row in rows]
        offline = engine.compute(definition, sources, spine, as_known_at=True)
        pairs = [
            (
                json.loads(row.value) if row.status == "fresh" else None,
                offline.get((row.entity, parse_time(row.served_at).replace(tzinfo=None))),
            )
            for row in rows
        ]
        stats.append(SkewStats.of(feature, pairs, tolerance))
    return SkewReport(stats, overall_skew(stats), tolerance)
