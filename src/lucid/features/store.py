"""The feature store: one handle on the semantic contract's use cases, for the CLI, the HTTP
service and the model registry. Each method hands its ports to the use case that does the
work (`catalog`, `apply`, `approve`, `legacy`, `training`, `materialize`, `serving`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lucid.contracts.semantic.audit import AuditReport
from lucid.contracts.semantic.governance import Governed, check_servable
from lucid.contracts.semantic.plan import PlanAction
from lucid.contracts.semantic.skew import (
    ServedValue,
    SkewStats,
    SkewSums,
    added_sums,
    overall_skew,
)
from lucid.contracts.semantic.sources import Source
from lucid.contracts.semantic.versions import FeatureRef
from lucid.errors import InvalidInput
from lucid.features import apply as applying
from lucid.features import approve as approving
from lucid.features.apply import Plan, Planner
from lucid.features.catalog import DefinitionCatalog
from lucid.features.definition_files import DefinitionSet
from lucid.features.legacy import import_legacy
from lucid.features.materialize import materialize
from lucid.features.serving import (
    FeatureServer,
    SkewReport,
    fresh_rows,
    measure_skew,
    skew_sums,
)
from lucid.features.training import training_set, training_sql
from lucid.ports.offline import FeatureCompiler, Labels, OfflineEngine, TrainingSet
from lucid.ports.online import OnlineStore
from lucid.ports.unit_of_work import UnitsOfWork

GATE_SKEW_WINDOW = timedelta(days=30)
"""How far back from the latest served value the promotion gate measures skew."""


@dataclass(frozen=True, slots=True)
class ServingFigures:
    """A definition's logged served values: how many, the last one's time, and the share of
    them (0–1) differing from their offline recomputation (None: nothing served)."""

    served: int
    last_served_at: datetime | None
    skew: float | None


class FeatureStore:
    """Definitions and their governance, on the metadata database and the offline engine."""

    def __init__(
        self,
        uows: UnitsOfWork,
        engine: Callable[[], OfflineEngine],
        online: Callable[[], OnlineStore] | None = None,
        *,
        compiler: FeatureCompiler,
        clock: Callable[[], datetime],
    ) -> None:
        self._uows = uows
        self._engine = engine  # built on first use: reading and auditing need no engine
        self._online_provider = online
        self._compiler = compiler
        self._clock = clock
        self._catalog = DefinitionCatalog(uows)
        self._planner = Planner(engine, compiler)
        self._server: FeatureServer | None = None
        self._figures: dict[str, tuple[int, ServingFigures]] = {}

    # --- reading ---------------------------------------------------------------------------

    def sources(self) -> dict[str, Source]:
        return self._catalog.sources()

    def definitions(self) -> list[Governed]:
        return self._catalog.definitions()

    def get(self, reference: str) -> Governed:
        """`name@version`, or `name` for its canonical (else latest) version."""
        return self._catalog.get(reference)

    def resolve(self, ref: FeatureRef) -> Governed:
        """The stored definition of a pinned version."""
        return self._catalog.resolve(ref)

    def audit(self) -> AuditReport:
        return self._catalog.audit()

    def sql(self, reference: str, *, dialect: str = "duckdb") -> str:
        """The query a training set runs for a stored definition on `dialect`'s engine."""
        return training_sql(self._catalog, self._compiler, reference, dialect=dialect)

    # --- planning, applying, governance ----------------------------------------------------

    def plan(self, definitions: DefinitionSet) -> Plan:
        return applying.plan(self._uows, self._planner, definitions)

    def apply(self, definitions: DefinitionSet, *, actor: str, rationale: str) -> Plan:
        """Register the new sources and propose the new definitions, or refuse everything."""
        plan = applying.apply(
            self._uows,
            self._planner,
            definitions,
            actor=actor,
            rationale=rationale,
            clock=self._clock,
        )
        if any(item.action is PlanAction.ADD for item in plan.sources):
            self.forget_served_definitions()  # a new listing source changes which ids are known
        return plan

    def approve(self, reference: str, *, team: str, person: str, rationale: str) -> Governed:
        """Record `team`'s approval; the last required one makes the definition canonical."""
        return approving.approve(
            self._uows, reference, team=team, person=person, rationale=rationale, clock=self._clock
        )

    def deprecate(self, reference: str, *, actor: str, rationale: str) -> None:
        """Retire a definition: it no longer speaks for its concept; its history stays."""
        approving.deprecate(
            self._uows, reference, actor=actor, rationale=rationale, clock=self._clock
        )

    def import_legacy(
        self, definitions: DefinitionSet, *, actor: str, rationale: str
    ) -> list[FeatureRef]:
        """Store teams' existing definitions as legacy, so the audit can compare them."""
        return import_legacy(
            self._uows, definitions, actor=actor, rationale=rationale, clock=self._clock
        )

    # --- computing -------------------------------------------------------------------------

    def get_training_set(
        self,
        labels: Labels,
        features: Sequence[str],
        *,
        entity_column: str = "entity_id",
        time_column: str = "timestamp",
    ) -> TrainingSet:
        """Point-in-time correct training set over `labels` for the pinned `features`."""
        return training_set(
            self._catalog,
            self._engine(),
            labels,
            features,
            entity_column=entity_column,
            time_column=time_column,
        )

    def materialize(
        self, features: Sequence[str] | None = None, *, at: datetime | None = None
    ) -> dict[str, int]:
        """Write the latest values (as known at `at`, default now; naive means UTC) of the given
        pinned features, or of every approved definition, to the online store."""
        moment = at or self._clock()
        return materialize(self._catalog, self._online(), self._engine(), features, moment)

    # --- serving ---------------------------------------------------------------------------

    def _online(self) -> OnlineStore:
        if self._online_provider is None:
            raise InvalidInput("online_store_url", "no online store is configured")
        return self._online_provider()

    def _feature_server(self) -> FeatureServer:
        if self._server is None:
            self._server = FeatureServer(
                self._online(), self.resolve, self._uows, self._catalog.sources
            )
        return self._server

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

    def get_online_features_now(
        self, entity_ids: Sequence[str], features: Sequence[str], *, now: datetime
    ) -> list[dict[str, ServedValue]]:
        """`get_online_features_async` read at once, for an online store whose reads do not
        wait (`online_reads_wait`)."""
        return self._feature_server().get_online_features_now(entity_ids, features, now=now)

    def online_reads_wait(self) -> bool:
        """Whether a read of the online store waits on the network (`OnlineStore.reads_wait`)."""
        return self._online().reads_wait

    def check_known(
        self, features: Sequence[str], served: Sequence[dict[str, ServedValue]]
    ) -> None:
        """Raise NotFound naming each id served as unknown and its entity."""
        self._feature_server().plan(features).check_known(served)

    def connect_online(self) -> None:
        """Open the online store now: a serving worker's first prediction would otherwise wait
        for it (importing the Redis client alone takes a few hundred ms)."""
        self._feature_server()

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
            self._uows,
            self._engine(),
            self.resolve,
            self.sources(),
            tolerance=tolerance,
            since=since,
            features=refs,
        )

    def overall_skew(self, *, tolerance: float = 1e-6, recompute: bool = False) -> SkewStats:
        """The skew of every logged served value pooled, from the kept sums (`kept_skew`)."""
        return overall_skew([s.stats for s in self.kept_skew(tolerance, recompute=recompute)])

    def feature_skews(self, *, tolerance: float = 1e-6) -> dict[str, SkewStats]:
        """Each served feature's skew over every value logged, from the kept sums."""
        return {s.feature: s.stats for s in self.kept_skew(tolerance)}

    def kept_skew(self, tolerance: float = 1e-6, *, recompute: bool = False) -> list[SkewSums]:
        """Each served feature's skew sums over every logged served value, kept with the
        position of the last value they cover: only values logged after it are recomputed
        and added. `recompute` measures every value from scratch and keeps that."""
        if tolerance < 0:
            raise InvalidInput("tolerance", f"must be ≥ 0, not {tolerance}")
        with self._uows.read() as uow:
            position = uow.features.served_position()
            kept = None if recompute else uow.features.kept_skew(tolerance)
        after, sums = (0, []) if kept is None or kept[0] > position else kept
        if after < position or recompute:
            new = skew_sums(
                self._uows,
                self._engine(),
                self.resolve,
                self.sources(),
                tolerance=tolerance,
                after=after,
                until=position,
            )
            sums = added_sums(sums, new)
            with self._uows() as uow:
                uow.features.keep_skew(tolerance, position, sums, self._clock())
        return sums

    # --- what the model registry asks (lucid.registry.service.FeatureCatalog) --------------

    def check_pins(self, pins: Sequence[str]) -> list[str]:
        """Canonical pins; refuse one that is not stored or was never approved."""
        canonical = []
        for pin in pins:
            governed = self.resolve(FeatureRef.parse(pin))
            check_servable(governed)
            canonical.append(str(governed.definition.ref))
        return canonical

    def serving_figures(self, reference: str) -> ServingFigures:
        """How many values of a stored definition were served (logged), when last, and their
        skew as the promotion gate judges it (`skew`); kept until a value is served again."""
        ref = str(self.get(reference).definition.ref)
        with self._uows.read() as uow:
            watermark = uow.features.served_watermark()
            kept = self._figures.get(ref)
            if kept is not None and kept[0] == watermark:
                return kept[1]
            count = uow.features.served_count([ref])
            last = uow.features.last_served_at([ref])
        figures = ServingFigures(count, last, self.skew([ref]).get(ref) if count else None)
        self._figures[ref] = (watermark, figures)
        return figures

    def skew(self, pins: Sequence[str]) -> dict[str, float]:
        """Each pinned feature's mismatch rate over its values served in the
        `GATE_SKEW_WINDOW` before the latest one (what the promotion gate judges: serving as
        it is now, not as it was a year ago)."""
        refs = [str(FeatureRef.parse(pin)) for pin in pins]
        with self._uows.read() as uow:
            latest = uow.features.last_served_at(refs)
        since = latest - GATE_SKEW_WINDOW if latest is not None else None
        report = self.skew_report(features=pins, since=since)
        return {stats.feature: stats.mismatch_rate for stats in report.features}

    def online_rows(self, entity_ids: Sequence[str], pins: Sequence[str]) -> list[dict[str, Any]]:
        """Fresh served values by pin for each entity; a missing or stale one is refused."""
        return fresh_rows(self.get_online_features(entity_ids, pins, log=True))
