"""Online serving: read materialised features with their TTL, log what is served, and measure
training-serving skew by recomputing served values offline (materialisation:
`lucid.features.materialize`).

Serving reads exactly the pinned versions (`name@version`). A value whose data is older than
its feature's TTL is served with `status="stale"` and no value, never as a fresh value. An id
that the entity's listing source did not hold at the latest materialisation is `unknown`.
Times without a zone mean UTC.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lucid.contracts.semantic.examples import ValueType
from lucid.contracts.semantic.governance import Governed, check_servable
from lucid.contracts.semantic.skew import (
    LoggedValue,
    ServedValue,
    SkewStats,
    SkewSums,
    overall_skew,
)
from lucid.contracts.semantic.sources import Source, listing_source
from lucid.contracts.semantic.versions import Duration, FeatureRef
from lucid.errors import Conflict, InvalidInput, NotFound
from lucid.ports.offline import OfflineEngine
from lucid.ports.online import MATERIALISED, OnlineStore, StoredValue
from lucid.ports.unit_of_work import UnitsOfWork

StoredPairs = dict[tuple[str, str], StoredValue]
"""What an online store holds of (entity, feature reference) pairs."""


class FeatureServer:
    """Reads pinned feature versions from the online store for serving."""

    def __init__(
        self,
        store: OnlineStore,
        resolve: Callable[[FeatureRef], Governed],
        uows: UnitsOfWork,
        sources: Callable[[], Mapping[str, Source]] | None = None,
    ) -> None:
        self._store = store
        self._resolve = resolve
        self._uows = uows
        self._sources = sources  # to find each entity's listing source; None: no listing
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
            refs, specs, listings = [], [], {}
            sources = self._sources() if self._sources is not None else {}
            for feature in asked:
                governed = self._resolve(FeatureRef.parse(feature))
                check_servable(governed)
                definition = governed.definition
                ref = str(definition.ref)
                refs.append(ref)
                specs.append((definition.ttl, definition.value_type, definition.empty_value))
                listing = listing_source(sources, definition.entity)
                if listing is not None:
                    listings[ref] = (definition.entity, listing.name)
            plan = self._plans[asked] = ServingPlan(tuple(refs), tuple(specs), listings)
        return plan

    def get_online_features(
        self,
        entity_ids: Sequence[str],
        features: Sequence[str],
        *,
        log: bool = False,
        now: datetime | None = None,
    ) -> list[dict[str, ServedValue]]:
        """For each entity, each pinned feature's served value (in the order asked); raises
        NotFound for an id its entity's listing source does not hold."""
        plan = self.plan(features)
        entities = [str(entity) for entity in entity_ids]
        moment = epoch(now) if now is not None else time.time()
        served = plan.served(entities, self._stored(plan, entities), moment)
        if plan.listings:
            plan.check_known(served)
        if log:
            self._log(served, moment)
        return served

    def get_online_features_now(
        self, entity_ids: Sequence[str], features: Sequence[str], *, now: datetime
    ) -> list[dict[str, ServedValue]]:
        """`get_online_features_async` read at once, for a store whose reads do not wait
        (`OnlineStore.reads_wait`): an unknown id is answered with status `unknown`."""
        plan = self.plan(features)
        entities = [str(entity) for entity in entity_ids]
        return plan.served(entities, self._stored(plan, entities), epoch(now))

    def _stored(self, plan: ServingPlan, entities: list[str]) -> StoredPairs:
        """The stored values `plan` serves the entities from, and the materialisation markers
        it needs."""
        if plan.listings:  # known ids are told by the materialisation marker
            return self._store.read([*entities, MATERIALISED], plan.refs)
        stored = self._store.read(entities, plan.refs)
        if markers := plan.markers_wanted(entities, stored):
            stored |= self._store.read([MATERIALISED], markers)
        return stored

    async def get_online_features_async(
        self, entity_ids: Sequence[str], features: Sequence[str], *, now: datetime
    ) -> list[dict[str, ServedValue]]:
        """`get_online_features` (unlogged) on an event loop, which the store's network wait
        does not hold up. An unknown id is answered with status `unknown` rather than raised:
        the entities of one read may come from several requests, each answered on its own."""
        plan = self.plan(features)
        entities = [str(entity) for entity in entity_ids]
        if plan.listings:
            stored = await self._store.read_async([*entities, MATERIALISED], plan.refs)
        else:
            stored = await self._store.read_async(entities, plan.refs)
            if markers := plan.markers_wanted(entities, stored):
                stored |= await self._store.read_async([MATERIALISED], markers)
        return plan.served(entities, stored, epoch(now))

    def _log(self, served: list[dict[str, ServedValue]], moment: float) -> None:
        log_served_values(
            self._uows,
            [value for row in served for value in row.values()],
            datetime.fromtimestamp(moment, UTC),
        )


Spec = tuple[Duration | None, ValueType, Any]
"""A served feature's TTL, value type and empty value."""

UNKNOWN: StoredValue = (None, 0.0, None)
"""What `ServingPlan.served` reads for an id not listed at the latest materialisation."""


def epoch(moment: datetime) -> float:
    """Epoch seconds of `moment`; a naive time means UTC, never the machine's zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


_CASTS: dict[ValueType, Callable[[Any], Any]] = {
    ValueType.BOOLEAN: bool,
    ValueType.INTEGER: int,
    ValueType.FLOAT: float,
}
"""`ValueType.coerce` of a stored value that is not None (any other type: `str`)."""


@dataclass(frozen=True, slots=True)
class ServingPlan:
    """The normal references (`name@version`) of the features asked, in order, their specs,
    and, for those whose entity has a listing source, (entity, listing source name)."""

    refs: tuple[str, ...]
    specs: tuple[Spec, ...]
    listings: dict[str, tuple[str, str]]
    columns: tuple[tuple[str, float | None, Callable[[Any], Any], Any], ...] = field(
        init=False, repr=False, compare=False
    )
    """Per feature: its reference, TTL in seconds (None: none), cast and empty value; what
    `served` reads on every call."""

    def __post_init__(self) -> None:
        columns = tuple(
            (ref, None if ttl is None else ttl.seconds, _CASTS.get(value_type, str), empty)
            for ref, (ttl, value_type, empty) in zip(self.refs, self.specs, strict=True)
        )
        object.__setattr__(self, "columns", columns)

    def markers_wanted(self, entities: Sequence[str], stored: StoredPairs) -> list[str]:
        """The features whose last materialisation must be read: an entity has no stored value
        of them, and they have an empty value to serve in that case."""
        if len(stored) == len(entities) * len(self.refs):
            return []  # every pair stored (the read returns one row per pair at most)
        return [
            ref
            for ref, _, _, empty in self.columns
            if empty is not None and any((entity, ref) not in stored for entity in entities)
        ]

    def served(
        self, entities: Sequence[str], stored: StoredPairs, moment: float
    ) -> list[dict[str, ServedValue]]:
        """Each entity's served values at epoch `moment` from what the store holds (with the
        materialisation markers `markers_wanted` named, or every marker when a feature has a
        listing source)."""
        if self.listings:
            stored = self._mark_unknown(entities, stored)
        served = []
        for entity in entities:
            row: dict[str, ServedValue] = {}
            for ref, ttl, cast, empty in self.columns:
                found = stored.get((entity, ref))
                if found is None and empty is not None:
                    # Absent at the last materialisation: the entity had no event then.
                    marker = stored.get((MATERIALISED, ref))
                    found = (empty, marker[1], None) if marker is not None else None
                if found is None:
                    row[ref] = ServedValue(entity, ref, None, None, "missing")
                elif found is UNKNOWN:
                    row[ref] = ServedValue(entity, ref, None, None, "unknown")
                elif ttl is not None and (found[2] is None or moment - found[2] > ttl):
                    row[ref] = ServedValue(entity, ref, None, found[1], "stale")  # `is_stale`
                else:
                    value = None if found[0] is None else cast(found[0])
                    row[ref] = ServedValue(entity, ref, value, found[1], "fresh")
            served.append(row)
        return served

    def _mark_unknown(self, entities: Sequence[str], stored: StoredPairs) -> StoredPairs:
        """`stored`, with UNKNOWN for each listed feature's ids that the latest materialisation
        did not write. An id is known when its value's as_of is at least the marker's: equal
        once a materialisation is done, later while a newer one is being written; an id the
        listing dropped keeps an older value, and one it never held has none."""
        marked = dict(stored)
        for ref in self.listings:
            marker = stored.get((MATERIALISED, ref))
            if marker is None:
                continue  # never materialised: missing
            for entity in entities:
                found = stored.get((entity, ref))
                if found is None or found[1] < marker[1]:
                    marked[(entity, ref)] = UNKNOWN
        return marked

    def check_known(self, served: Sequence[dict[str, ServedValue]]) -> None:
        """Raise NotFound naming the ids served as unknown and their entity."""
        unknown: dict[str, list[str]] = {}
        for row in served:
            for ref, value in row.items():
                if value.status == "unknown" and value.entity not in unknown.get(ref, []):
                    unknown.setdefault(ref, []).append(value.entity)
        for ref, ids in unknown.items():
            raise not_known(ids, *self.listings[ref], ref)


def not_known(ids: Sequence[str], entity: str, listing: str, feature: str) -> NotFound:
    """The refusal of ids that the listing source of their entity did not hold."""
    named = ", ".join(repr(entity_id) for entity_id in ids)
    verb = "is" if len(ids) == 1 else "are"
    return NotFound(
        f"{entity} {named} {verb} not known: source {listing}, which lists every {entity}, "
        f"did not hold {'it' if len(ids) == 1 else 'them'} when {feature} was last "
        "materialised."
    )


def log_served_values(uows: UnitsOfWork, values: Sequence[ServedValue], at: datetime) -> None:
    """Log values served to a model at `at`: what training-serving skew is measured on."""
    if values:
        with uows() as uow:
            uow.features.log_served(values, at)


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
    uows: UnitsOfWork,
    engine: OfflineEngine,
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
    with uows.read() as uow:
        logged = uow.features.served(since=since, features=features)
    stats = [
        SkewStats.of(feature, pairs, tolerance)
        for feature, pairs in _recomputed(logged, engine, resolve, sources)
    ]
    return SkewReport(stats, overall_skew(stats), tolerance)


def skew_sums(
    uows: UnitsOfWork,
    engine: OfflineEngine,
    resolve: Callable[[FeatureRef], Governed],
    sources: dict[str, Source],
    *,
    tolerance: float,
    after: int,
    until: int,
) -> list[SkewSums]:
    """Each feature's skew sums over the served values logged after position `after` and at
    or before `until`, recomputed as `measure_skew` does."""
    with uows.read() as uow:
        logged = uow.features.served(after=after, until=until)
    return [
        SkewSums.of(feature, pairs, tolerance)
        for feature, pairs in _recomputed(logged, engine, resolve, sources)
    ]


def _recomputed(
    logged: Sequence[LoggedValue],
    engine: OfflineEngine,
    resolve: Callable[[FeatureRef], Governed],
    sources: dict[str, Source],
) -> Iterator[tuple[str, list[tuple[Any, Any]]]]:
    """Per feature (by name), the (served, offline) pair of each logged value: a missing or
    stale one served as None, offline computed at its served time as known then."""
    by_feature: dict[str, list[LoggedValue]] = {}
    for row in logged:
        by_feature.setdefault(row.feature, []).append(row)
    for feature, rows in sorted(by_feature.items()):
        definition = resolve(FeatureRef.parse(feature)).definition
        spine = [(row.entity, row.served_at) for row in rows]
        offline = engine.compute(definition, sources, spine, as_known_at=True)
        yield (
            feature,
            [
                (
                    row.value if row.status == "fresh" else None,
                    offline.get((row.entity, row.served_at.replace(tzinfo=None))),
                )
                for row in rows
            ],
        )
