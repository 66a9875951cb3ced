"""The semantic contract's use cases: plan, apply, approve, deprecate, import legacy, audit.

Each write reads the stored state, decides with the pure rules of `contracts.semantic`, then
stores its rows and its events in one transaction under the event log's lock: a refusal
leaves nothing behind, and no two approvals can race past the one-canonical-per-concept rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from lucid.contracts.events import NewEvent, Subject, format_time, parse_time
from lucid.contracts.semantic import (
    Approval,
    AuditReport,
    FeatureApprovalGiven,
    FeatureApproved,
    FeatureDefinition,
    FeatureDeprecated,
    FeatureProposed,
    FeatureRef,
    Governed,
    LegacyFeatureImported,
    PlanAction,
    PlanItem,
    Source,
    SourceRegistered,
    Status,
    audit,
    check_approval,
    check_canonical,
    check_servable,
    check_trainable,
    plan_definition,
    schema_mismatches,
    second_listing,
)
from lucid.engines.feature_sql import (
    DIALECTS,
    check_columns,
    to_dialect,
    training_feature_sql,
    view_name,
)
from lucid.errors import Conflict, InvalidInput, LucidError, NotFound
from lucid.features.definition_files import DefinitionSet
from lucid.features.examples import example_failures
from lucid.features.serving import (
    FeatureServer,
    ServedValue,
    SkewReport,
    fresh_rows,
    materialise,
    measure_skew,
)
from lucid.storage import feature_registry as registry
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK, SqlEventLog
from lucid.storage.tables import served_features

if TYPE_CHECKING:
    from lucid.engines.duckdb import DuckDBEngine, Labels, TrainingSet
    from lucid.ports.online import OnlineStore


@dataclass(frozen=True)
class SourcePlanItem:
    name: str
    action: PlanAction
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.name, "action": self.action.value, "reason": self.reason}


@dataclass(frozen=True)
class Plan:
    """What `apply` would do with a definition set, item by item, before anything is stored."""

    sources: list[SourcePlanItem] = field(default_factory=list)
    features: list[PlanItem] = field(default_factory=list)

    @property
    def refusals(self) -> list[str]:
        items: list[SourcePlanItem | PlanItem] = [*self.sources, *self.features]
        return [item.reason for item in items if item.action is PlanAction.REFUSE]

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": [item.to_dict() for item in self.sources],
            "features": [item.to_dict() for item in self.features],
            "refusals": self.refusals,
        }


GATE_SKEW_WINDOW = timedelta(days=30)
"""How far back from the latest served value the promotion gate measures skew."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FeatureStore:
    """Definitions and their governance, on the metadata database and the compute engine."""

    def __init__(
        self,
        db: Database,
        events: SqlEventLog,
        engine: Callable[[], DuckDBEngine],
        online: Callable[[], OnlineStore] | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._clock = clock
        self._db = db
        self._events = events
        self._engine_provider = engine
        self._online_provider = online
        self._server: FeatureServer | None = None

    @property
    def _engine(self) -> DuckDBEngine:
        # Built on first use: reading definitions and auditing them needs no compute engine.
        return self._engine_provider()

    # --- reading ---------------------------------------------------------------------------

    def sources(self) -> dict[str, Source]:
        with self._db.transaction() as connection:
            return registry.load_sources(connection)

    def definitions(self) -> list[Governed]:
        with self._db.transaction() as connection:
            return registry.load_governed(connection)

    def get(self, reference: str) -> Governed:
        """`name@version`, or `name` for its canonical (else latest) version."""
        with self._db.transaction() as connection:
            if "@" in reference:
                ref = FeatureRef.parse(reference)
                found = registry.find_governed(connection, ref)
                if found is None:
                    raise NotFound(f"Feature {ref} is not stored.")
                return found
            versions = registry.load_governed(connection, name=reference)
        if not versions:
            raise NotFound(f"Feature {reference} is not stored.")
        approved = [g for g in versions if g.status is Status.APPROVED]
        return approved[-1] if approved else versions[-1]

    def sql(self, reference: str, *, dialect: str = "duckdb", spine: str = "spine") -> str:
        """The query a training set runs for a stored definition on the engine of `dialect`
        (`duckdb` or `spark`): as known at each row of the relation `spine(__lucid_entity,
        __lucid_as_of)`, over the sources' views `source_<name>`, in that engine's form."""
        if dialect not in DIALECTS:
            raise InvalidInput("dialect", f"{dialect!r} must be one of {', '.join(DIALECTS)}")
        definition = self.get(reference).definition
        sql = training_feature_sql(definition, self.sources(), spine, view_name, dialect=dialect)
        return to_dialect(sql, dialect)

    def audit(self) -> AuditReport:
        return audit(self.definitions())

    def resolve(self, ref: FeatureRef) -> Governed:
        """The stored definition of a pinned version."""
        with self._db.transaction() as connection:
            found = registry.find_governed(connection, ref)
        if found is None:
            raise NotFound(f"Feature {ref} is not stored.")
        return found

    # --- computing -------------------------------------------------------------------------

    def get_training_set(
        self,
        labels: Labels,
        features: Sequence[str],
        *,
        entity_column: str = "entity_id",
        time_column: str = "timestamp",
    ) -> TrainingSet:
        """Point-in-time correct training set over `labels` (a Parquet/CSV path, rows, a pandas
        DataFrame or an Arrow table) for the pinned `features` (`name@version`), as known at
        each label's time."""
        if not features:
            raise InvalidInput("features", "name at least one pinned feature (name@version)")
        definitions = []
        for feature in features:
            governed = self.resolve(FeatureRef.parse(feature))
            check_trainable(governed)
            definitions.append(governed.definition)
        return self._engine.training_set(
            labels,
            definitions,
            self.sources(),
            entity_column=entity_column,
            time_column=time_column,
        )

    def _online(self) -> OnlineStore:
        if self._online_provider is None:
            raise InvalidInput("online_store_url", "no online store is configured")
        return self._online_provider()

    def materialize(
        self, features: Sequence[str] | None = None, *, at: datetime | None = None
    ) -> dict[str, int]:
        """Write the latest values (as known at `at`, default now; naive means UTC) of the given
        pinned features, or of every approved definition, to the online store; a value stored
        for a later time stays. Returns how many values each feature stored."""
        if features:
            chosen = [self.resolve(FeatureRef.parse(feature)) for feature in features]
        else:
            chosen = [g for g in self.definitions() if g.status is Status.APPROVED]
        moment = at or self._clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return materialise(self._online(), self._engine, chosen, self.sources(), moment)

    def get_online_features(
        self,
        entity_ids: Sequence[str],
        features: Sequence[str],
        *,
        log: bool = False,
        now: datetime | None = None,
    ) -> list[dict[str, ServedValue]]:
        """Serve the pinned features of each entity from the online store (TTL enforced; a
        naive `now` means UTC); raises NotFound for an id its entity's listing source did not
        hold at the latest materialisation."""
        moment = now if now is not None else self._clock()
        return self._feature_server().get_online_features(entity_ids, features, log=log, now=moment)

    async def get_online_features_async(
        self, entity_ids: Sequence[str], features: Sequence[str], *, now: datetime
    ) -> list[dict[str, ServedValue]]:
        """`get_online_features` (unlogged) on a serving worker's event loop: a network wait
        of the store lets the loop go on with other requests. An unknown id is served with
        status `unknown` (`check_known` raises for it): one read serves several requests."""
        return await self._feature_server().get_online_features_async(entity_ids, features, now=now)

    def check_known(
        self, features: Sequence[str], served: Sequence[dict[str, ServedValue]]
    ) -> None:
        """Raise NotFound naming each id served as unknown and its entity."""
        self._feature_server().plan(features).check_known(served)

    def connect_online(self) -> None:
        """Open the online store now: a serving worker's first prediction would otherwise wait
        for it (importing the Redis client alone takes a few hundred ms)."""
        self._feature_server()

    def _feature_server(self) -> FeatureServer:
        if self._server is None:
            self._server = FeatureServer(self._online(), self.resolve, self._db, self.sources)
        return self._server

    def forget_served_definitions(self) -> None:
        """Read each served feature's definition again on its next serving (after a
        deprecation, say)."""
        if self._server is not None:
            self._server.forget()

    def skew_report(
        self,
        *,
        tolerance: float = 1e-6,
        since: datetime | None = None,
        features: Sequence[str] | None = None,
    ) -> SkewReport:
        """Training-serving skew of the logged served values (of `features`, else all),
        recomputed offline at their served time."""
        refs = [str(FeatureRef.parse(f)) for f in features] if features is not None else None
        return measure_skew(
            self._db,
            self._engine,
            self.resolve,
            self.sources(),
            tolerance=tolerance,
            since=since,
            features=refs,
        )

    # --- what the model registry asks (lucid.ports.feature_catalog.FeatureCatalog) --------------

    def check_pins(self, pins: Sequence[str]) -> list[str]:
        """Canonical pins; refuse one that is not stored or was never approved."""
        canonical = []
        for pin in pins:
            governed = self.resolve(FeatureRef.parse(pin))
            check_servable(governed)
            canonical.append(str(governed.definition.ref))
        return canonical

    def skew(self, pins: Sequence[str]) -> dict[str, float]:
        """Each pinned feature's mismatch rate over its values served in the
        `GATE_SKEW_WINDOW` before the latest one (what the promotion gate judges: serving as
        it is now, not as it was a year ago)."""
        refs = [str(FeatureRef.parse(pin)) for pin in pins]
        with self._db.transaction() as connection:
            latest = connection.execute(
                select(func.max(served_features.c.served_at)).where(
                    served_features.c.feature.in_(refs)
                )
            ).scalar_one()
        since = parse_time(latest) - GATE_SKEW_WINDOW if latest is not None else None
        report = self.skew_report(features=pins, since=since)
        return {stats.feature: stats.mismatch_rate for stats in report.features}

    def online_rows(self, entity_ids: Sequence[str], pins: Sequence[str]) -> list[dict[str, Any]]:
        """Fresh served values by pin for each entity; a missing or stale one is refused."""
        return fresh_rows(self.get_online_features(entity_ids, pins, log=True))

    # --- planning and applying -------------------------------------------------------------

    def plan(self, definitions: DefinitionSet) -> Plan:
        with self._db.transaction() as connection:
            return self._plan(connection, definitions)

    def _plan(self, connection: Connection, definitions: DefinitionSet) -> Plan:
        stored_sources = registry.load_sources(connection)
        plan = Plan()
        known = dict(stored_sources)
        for source in definitions.sources:
            source_item = self._plan_source(source, stored_sources.get(source.name))
            if source_item.action is PlanAction.ADD and (reason := second_listing(source, known)):
                source_item = SourcePlanItem(source.name, PlanAction.REFUSE, reason)
            plan.sources.append(source_item)
            if source_item.action is not PlanAction.REFUSE:
                known[source.name] = source
        versions: dict[str, list[FeatureDefinition]] = {}
        for governed in registry.load_governed(connection):
            versions.setdefault(governed.definition.name, []).append(governed.definition)
        ordered = sorted(definitions.features, key=lambda d: (d.name, d.version))
        for definition in ordered:
            item = plan_definition(definition, versions.get(definition.name, []))
            if item.action in (PlanAction.ADD, PlanAction.NEW_VERSION):
                item = _check_proposal(item, definition, known)
            plan.features.append(item)
            if item.action is not PlanAction.REFUSE:
                versions.setdefault(definition.name, []).append(definition)
        return plan

    def _plan_source(self, source: Source, stored: Source | None) -> SourcePlanItem:
        if stored is not None:
            if stored == source:
                return SourcePlanItem(source.name, PlanAction.KEEP, "identical to the stored one")
            return SourcePlanItem(
                source.name,
                PlanAction.REFUSE,
                f"source {source.name} is already registered differently; sources are not "
                "changed in place — register the new shape under a new name",
            )
        try:
            problems = schema_mismatches(source.schema, self._engine.describe(source))
        except LucidError as error:
            return SourcePlanItem(source.name, PlanAction.REFUSE, error.sentence)
        if problems:
            return SourcePlanItem(
                source.name,
                PlanAction.REFUSE,
                f"source {source.name} does not match its data: {'; '.join(problems)}",
            )
        return SourcePlanItem(source.name, PlanAction.ADD, "schema matches the data")

    def apply(self, definitions: DefinitionSet, *, actor: str, rationale: str) -> Plan:
        """Register the new sources and propose the new definitions, or refuse everything."""
        with self._db.locked_transaction(EVENT_LOCK) as connection:
            plan = self._plan(connection, definitions)
            if plan.refusals:
                raise Conflict(
                    "Nothing was applied: "
                    + " ".join(reason.rstrip(".") + "." for reason in plan.refusals)
                )
            at = format_time(self._clock())
            by_name = {source.name: source for source in definitions.sources}
            news: list[NewEvent] = []
            for source_item in plan.sources:
                if source_item.action is PlanAction.ADD:
                    source = by_name[source_item.name]
                    registry.insert_source(connection, source, actor=actor, at=at)
                    news.append(
                        NewEvent.of(
                            SourceRegistered(name=source.name, spec=source.to_dict()),
                            actor=actor,
                            subject=Subject("source", source.name),
                            rationale=rationale,
                            occurred_at=self._clock(),
                        )
                    )
            features = {d.ref: d for d in definitions.features}
            for item in plan.features:
                if item.action not in (PlanAction.ADD, PlanAction.NEW_VERSION):
                    continue
                definition = features[item.ref]
                registry.insert_definition(
                    connection,
                    definition,
                    status=Status.PROPOSED,
                    origin="proposed",
                    actor=actor,
                    at=at,
                )
                news.append(
                    NewEvent.of(
                        FeatureProposed(
                            name=definition.name,
                            version=str(definition.version),
                            concept=definition.concept,
                            fingerprint=definition.fingerprint,
                            required_approvals=list(definition.required_approvals),
                            previous=str(item.previous) if item.previous else None,
                            bump=item.to_dict()["required_bump"],
                            changes=item.to_dict()["changes"],
                            spec=definition.to_dict(),
                        ),
                        actor=actor,
                        subject=_subject(definition.ref),
                        rationale=rationale,
                        occurred_at=self._clock(),
                    )
                )
            self._events.append_many(news, connection=connection)
        if any(item.action is PlanAction.ADD for item in plan.sources):
            self.forget_served_definitions()  # a new listing source changes which ids are known
        return plan

    # --- governance ------------------------------------------------------------------------

    def approve(self, reference: str, *, team: str, person: str, rationale: str) -> Governed:
        """Record `team`'s approval; the last required one makes the definition canonical."""
        ref = FeatureRef.parse(reference)
        with self._db.locked_transaction(EVENT_LOCK) as connection:
            governed = registry.find_governed(connection, ref)
            if governed is None:
                raise NotFound(f"Feature {ref} is not stored.")
            completes = check_approval(governed, team, person)
            superseded: list[Governed] = []
            if completes:
                others = registry.load_governed(connection, concept=governed.definition.concept)
                superseded = check_canonical(governed, [g for g in others if g != governed])
            at = format_time(self._clock())
            approval = Approval(team, person)
            registry.insert_approval(connection, ref, approval, rationale=rationale, at=at)
            approvals = (*governed.approvals, approval)
            missing = [
                t
                for t in governed.definition.required_approvals
                if t not in {a.team for a in approvals}
            ]
            news = [
                NewEvent.of(
                    FeatureApprovalGiven(
                        name=ref.name,
                        version=str(ref.version),
                        team=team,
                        person=person,
                        missing_teams=missing,
                    ),
                    actor=person,
                    subject=_subject(ref),
                    rationale=rationale,
                    occurred_at=self._clock(),
                )
            ]
            if completes:
                for old in superseded:
                    registry.set_status(connection, old.definition.ref, Status.DEPRECATED, at=at)
                    news.append(
                        NewEvent.of(
                            FeatureDeprecated(
                                name=old.definition.name,
                                version=str(old.definition.version),
                                previous_status=old.status.value,
                                superseded_by=str(ref),
                            ),
                            actor=person,
                            subject=_subject(old.definition.ref),
                            rationale=f"superseded by {ref}, approved by every required team",
                            occurred_at=self._clock(),
                        )
                    )
                registry.set_status(connection, ref, Status.APPROVED, at=at)
                news.append(
                    NewEvent.of(
                        FeatureApproved(
                            name=ref.name,
                            version=str(ref.version),
                            concept=governed.definition.concept,
                            fingerprint=governed.definition.fingerprint,
                            approvals=[{"team": a.team, "person": a.person} for a in approvals],
                        ),
                        actor=person,
                        subject=_subject(ref),
                        rationale=f"approved by {_teams(approvals)}: {rationale}",
                        occurred_at=self._clock(),
                    )
                )
            self._events.append_many(news, connection=connection)
            status = Status.APPROVED if completes else Status.PROPOSED
        return Governed(governed.definition, status, governed.proposed_by, approvals)

    def deprecate(self, reference: str, *, actor: str, rationale: str) -> None:
        """Retire a definition: it no longer speaks for its concept; its history stays."""
        ref = FeatureRef.parse(reference)
        with self._db.locked_transaction(EVENT_LOCK) as connection:
            governed = registry.find_governed(connection, ref)
            if governed is None:
                raise NotFound(f"Feature {ref} is not stored.")
            if governed.status is Status.DEPRECATED:
                raise Conflict(f"{ref} is already deprecated.")
            registry.set_status(connection, ref, Status.DEPRECATED, at=format_time(self._clock()))
            self._events.append(
                NewEvent.of(
                    FeatureDeprecated(
                        name=ref.name,
                        version=str(ref.version),
                        previous_status=governed.status.value,
                        superseded_by=None,
                    ),
                    actor=actor,
                    subject=_subject(ref),
                    rationale=rationale,
                    occurred_at=self._clock(),
                ),
                connection=connection,
            )

    def import_legacy(
        self, definitions: DefinitionSet, *, actor: str, rationale: str
    ) -> list[FeatureRef]:
        """Store teams' existing definitions as legacy, so the audit can compare them."""
        if definitions.sources:
            raise InvalidInput("sources", "import-legacy takes feature definitions only")
        imported = []
        with self._db.locked_transaction(EVENT_LOCK) as connection:
            at = format_time(self._clock())
            news = []
            for definition in definitions.features:
                stored = registry.find_governed(connection, definition.ref)
                if stored is not None:
                    if stored.definition == definition:
                        continue
                    raise Conflict(
                        f"Nothing was imported: {definition.ref} is already stored with another "
                        "content."
                    )
                registry.insert_definition(
                    connection,
                    definition,
                    status=Status.LEGACY,
                    origin="legacy",
                    actor=actor,
                    at=at,
                )
                news.append(
                    NewEvent.of(
                        LegacyFeatureImported(
                            name=definition.name,
                            version=str(definition.version),
                            concept=definition.concept,
                            owner=definition.owner,
                            fingerprint=definition.fingerprint,
                            spec=definition.to_dict(),
                        ),
                        actor=actor,
                        subject=_subject(definition.ref),
                        rationale=rationale,
                        occurred_at=self._clock(),
                    )
                )
                imported.append(definition.ref)
            self._events.append_many(news, connection=connection)
        return imported


def _check_proposal(
    item: PlanItem, definition: FeatureDefinition, sources: dict[str, Source]
) -> PlanItem:
    reason = ""
    if not definition.required_approvals:
        reason = (
            f"{definition.ref} names no team in required_approvals; a canonical "
            "definition changes only by collective approval"
        )
    else:
        try:
            check_columns(definition, sources)
            reason = "; ".join(example_failures(definition, sources))
        except InvalidInput as error:
            reason = f"{definition.ref}: {error.sentence}"
    if not reason:
        return item
    return PlanItem(item.ref, PlanAction.REFUSE, item.changes, item.required, item.previous, reason)


def _subject(ref: FeatureRef) -> Subject:
    return Subject("feature", str(ref))


def _teams(approvals: tuple[Approval, ...]) -> str:
    return ", ".join(approval.team for approval in approvals)
