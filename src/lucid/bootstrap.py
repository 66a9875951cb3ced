"""The composition root: settings → adapters → a `Lucid` handle. Nothing runs at import."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lucid.project_folder import find_project
from lucid.settings import Settings, load_settings
from lucid.storage import schema
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.unit_of_work import SqlUnitsOfWork

if TYPE_CHECKING:
    from lucid.access.sessions import Sessions
    from lucid.access.tokens import Tokens
    from lucid.experiments.lab import Experiments
    from lucid.experiments.shadow.lab import ShadowComparisons
    from lucid.features.store import FeatureStore
    from lucid.jobs.anchor import LogAnchor
    from lucid.jobs.scheduler import Scheduler
    from lucid.memory.incident_lifecycle import Incidents
    from lucid.memory.loop import LearningLoop
    from lucid.monitoring.monitor import Monitoring
    from lucid.notifications.webhooks import Subscriptions
    from lucid.ports.offline import OfflineEngine
    from lucid.ports.online import OnlineStore
    from lucid.registry.model_registry import ModelRegistry


def utc_now() -> datetime:
    return datetime.now(UTC)


def project_clock(settings: Settings) -> Callable[[], datetime]:
    """The clock of a project: its `as_of` moment when set, else the machine's UTC time."""
    moment = settings.as_of
    if moment is None:
        return utc_now
    return lambda: moment


@dataclass
class Lucid:
    """An open project: its settings, the adapters, and the use cases built on them.

    The compute engine, the online store and the parts that need them are built on first
    use, so commands that only read the event log start neither DuckDB nor Redis. `clock`
    is the one time source of every use case: the machine's time, or the project's fixed
    `as_of` moment (a scenario replays simulated days through it).
    """

    settings: Settings
    db: Database
    events: SqlEventLog
    uows: SqlUnitsOfWork
    clock: Callable[[], datetime] = utc_now
    _engine: OfflineEngine | None = field(default=None, repr=False)
    _online: OnlineStore | None = field(default=None, repr=False)
    _features: FeatureStore | None = field(default=None, repr=False)
    _registry: ModelRegistry | None = field(default=None, repr=False)
    _experiments: Experiments | None = field(default=None, repr=False)
    _shadow: ShadowComparisons | None = field(default=None, repr=False)
    _loop: LearningLoop | None = field(default=None, repr=False)
    _incidents: Incidents | None = field(default=None, repr=False)
    _monitoring: Monitoring | None = field(default=None, repr=False)
    _tokens: Tokens | None = field(default=None, repr=False)
    _subscriptions: Subscriptions | None = field(default=None, repr=False)
    _anchor: LogAnchor | None = field(default=None, repr=False)
    _sessions: Sessions | None = field(default=None, repr=False)

    @property
    def engine(self) -> OfflineEngine:
        """The offline engine of `engine:` — DuckDB, or Spark at `spark_master`."""
        if self._engine is None:
            if self.settings.engine == "spark":
                from lucid.engines.spark import SparkEngine, spark_session

                session = spark_session(self.settings.spark_master or "local[2]")
                self._engine = SparkEngine(self.settings.project_dir, session)
            else:
                from lucid.engines.duckdb import DuckDBEngine  # lazy: DuckDB is heavy

                self._engine = DuckDBEngine(self.settings.project_dir)
        return self._engine

    @property
    def online_store(self) -> OnlineStore:
        """The online store of `online_store_url` (SQLite file or Redis)."""
        if self._online is None:
            from lucid.storage.online_store import open_online_store

            self._online = open_online_store(self.settings.online_store_url, self.settings.name)
        return self._online

    @property
    def features(self) -> FeatureStore:
        """The semantic contract: sources, definitions, approvals, audit, training, serving."""
        if self._features is None:
            from lucid.engines.compiler import SqlFeatureCompiler
            from lucid.features.store import FeatureStore
            from lucid.storage.online_store import scratch_online_store

            self._features = FeatureStore(
                self.uows,
                lambda: self.engine,
                lambda: self.online_store,
                compiler=SqlFeatureCompiler(scratch_online_store),
                clock=self.clock,
            )
        return self._features

    @property
    def registry(self) -> ModelRegistry:
        """The value contract: model versions, contracts, the promotion gate, rollback."""
        if self._registry is None:
            from lucid.registry.model_registry import ModelRegistry
            from lucid.storage.artifacts import ArtifactStore
            from lucid.storage.hugging_face_hub import HuggingFaceHub

            settings = self.settings
            self._registry = ModelRegistry(
                self.uows,
                self.events,
                ArtifactStore(settings.artifacts_url),
                HuggingFaceHub(
                    offline=settings.huggingface_offline, cache_dir=settings.huggingface_cache
                ),
                approvers=settings.approvers,
                features=self.features,
                skew_limit=settings.skew_limit,
                allow_pickle=settings.allow_pickle,
                clock=self.clock,
            )
        return self._registry

    @property
    def experiments(self) -> Experiments:
        """A/B experiments of a challenger against production; their evidence feeds the gate."""
        if self._experiments is None:
            from lucid.experiments.lab import Experiments
            from lucid.registry.produced import ProducedEvidence

            self._experiments = Experiments(
                self.uows, ProducedEvidence(self.registry), clock=self.clock
            )
        return self._experiments

    @property
    def shadow(self) -> ShadowComparisons:
        """Shadow comparisons: a challenger scores production's requests without acting on
        them; paired tests on the same rows become its predictive evidence."""
        if self._shadow is None:
            from lucid.experiments.shadow.lab import ShadowComparisons
            from lucid.registry.model_signature import feature_name
            from lucid.registry.produced import ProducedEvidence

            def training_rows(labels: Any, pins: Sequence[str]) -> list[dict[str, Any]]:
                """The labels' point-in-time rows, each feature keyed by its pin."""
                rows = self.features.get_training_set(
                    labels, pins, entity_column="entity_id", time_column="event_timestamp"
                ).to_dicts()
                return [{pin: row[feature_name(pin)] for pin in pins} for row in rows]

            self._shadow = ShadowComparisons(
                self.uows, ProducedEvidence(self.registry), training_rows, clock=self.clock
            )
        return self._shadow

    @property
    def loop(self) -> LearningLoop:
        """The learning loop: deployments as decisions, their checkpoints, the scorecard."""
        if self._loop is None:
            from lucid.memory.loop import LearningLoop
            from lucid.memory.transparency import StakeholderAccess

            self._loop = LearningLoop(
                self.uows,
                self.registry,
                features=self.features,
                incidents=self.incidents,
                access=StakeholderAccess(self.uows, self.registry),
                clock=self.clock,
            )
        return self._loop

    @property
    def incidents(self) -> Incidents:
        """Incidents from detection to lesson, and their scorecard figures."""
        if self._incidents is None:
            from lucid.memory.incident_lifecycle import Incidents

            self._incidents = Incidents(
                self.uows,
                self.events,
                registry=lambda: self.registry,
                experiments=lambda: self.experiments,
                clock=self.clock,
            )
        return self._incidents

    @property
    def monitoring(self) -> Monitoring:
        """The validity contract: prediction logs, policies, runs, alerts, actions, drills."""
        if self._monitoring is None:
            from datetime import timedelta

            from lucid.monitoring.monitor import Monitoring
            from lucid.storage.alerts import SqlAlertStore
            from lucid.storage.digests import SqlDigestStore
            from lucid.storage.monitoring import SqlMonitoringStore
            from lucid.storage.prediction_log import SqlPredictionLog

            settings = self.settings
            self._monitoring = Monitoring(
                uows=self.uows,
                log=SqlPredictionLog(self.db, settings.data_dir / "prediction_log"),
                store=SqlMonitoringStore(self.db),
                alert_store=SqlAlertStore(self.db),
                digest_store=SqlDigestStore(self.db, self.events),
                session_lock=self.db.session_lock,
                engine_factory=lambda: self.engine,
                registry_factory=lambda: self.registry,
                alert_settings=settings.alerts,
                training_pipelines=settings.training_pipelines,
                horizon=timedelta(days=settings.prediction_horizon_days),
                clock=self.clock,
                project_dir=settings.project_dir,
            )
        return self._monitoring

    @property
    def tokens(self) -> Tokens:
        """API tokens: issued, revoked, and the principal behind a bearer token."""
        if self._tokens is None:
            from lucid.access.tokens import Tokens

            self._tokens = Tokens(self.uows, clock=self.clock)
        return self._tokens

    @property
    def sessions(self) -> Sessions:
        """Dashboard sessions: started with a token, checked on every page, ended at sign-out."""
        if self._sessions is None:
            from lucid.access.sessions import Sessions
            from lucid.contracts.access import SessionPolicy

            dashboard = self.settings.dashboard
            policy = SessionPolicy(
                idle=timedelta(hours=dashboard.session_idle_hours),
                lifetime=timedelta(hours=dashboard.session_max_hours),
            )
            self._sessions = Sessions(self.uows, self.tokens, policy, clock=self.clock)
        return self._sessions

    @property
    def subscriptions(self) -> Subscriptions:
        """Webhook subscriptions to the event log, and their dispatch."""
        if self._subscriptions is None:
            from lucid.notifications.webhooks import Subscriptions

            self._subscriptions = Subscriptions(self.uows, self.events, clock=self.clock)
        return self._subscriptions

    @property
    def anchor(self) -> LogAnchor:
        """Signed checkpoints of the event log, and its verification against them and
        against the state tables."""
        if self._anchor is None:
            from lucid.jobs.anchor import LogAnchor
            from lucid.storage.log_checkpoints import CheckpointPlace, read_signing_key
            from lucid.storage.log_state import stored_state

            settings = self.settings.log_checkpoints
            self._anchor = LogAnchor(
                self.events,
                project=self.settings.name,
                stored_state=functools.partial(stored_state, self.db),
                place=CheckpointPlace,
                signing_key=lambda path: read_signing_key(Path(path)),
                clock=self.clock,
                default_place=settings.to,
                default_key=str(settings.key) if settings.key else None,
                every_events=settings.every_events,
                every_minutes=settings.every_minutes,
                altered_segments=self._altered_segments,
            )
        return self._anchor

    def _altered_segments(self) -> list[str]:
        """The prediction, outcome and served-value log segments whose bytes are missing or
        altered (relative paths)."""
        from lucid.storage.outcome_segments import OutcomeSegments
        from lucid.storage.prediction_segments import PredictionSegments
        from lucid.storage.served_segments import ServedSegments

        root = self.settings.data_dir / "prediction_log"
        return (
            PredictionSegments(self.db, root).altered()
            + OutcomeSegments(self.db, root).altered()
            + ServedSegments(self.db, root).altered()
        )

    def scheduler(
        self,
        tick_seconds: float,
        *,
        stop: threading.Event | None = None,
        parent_pid: int | None = None,
    ) -> Scheduler:
        """The scheduler of the project's periodic work, ticking every `tick_seconds` while it
        holds the database's scheduler lock; its heartbeat in the database."""
        from lucid.jobs.scheduler import SCHEDULER, Scheduler
        from lucid.jobs.ticks import tick
        from lucid.storage.scheduler import record_tick

        return Scheduler(
            lambda: tick(self),
            lambda: self.db.session_lock(SCHEDULER, wait=False),
            functools.partial(record_tick, self.db),
            tick_seconds,
            stop=stop,
            parent_pid=parent_pid,
        )

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
        if self._online is not None:
            self._online.close()
        self.db.dispose()

    def __enter__(self) -> Lucid:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def bootstrap(settings: Settings, *, check_schema: bool = True) -> Lucid:
    """Build the adapters for `settings`; refuse a database not at this Lucid's schema."""
    db = Database(settings.database_url)
    try:
        if check_schema:
            schema.ensure_current(db)
    except BaseException:
        db.dispose()
        raise
    clock = project_clock(settings)
    events = SqlEventLog(db, clock=None if settings.as_of is None else clock)
    uows = SqlUnitsOfWork(db, events, settings.data_dir / "prediction_log")
    return Lucid(settings=settings, db=db, events=events, uows=uows, clock=clock)


def open_project(
    project: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Lucid:
    """Open the project at `project`, else `$LUCID_PROJECT`, else the nearest `lucid.yaml`."""
    env = os.environ if environ is None else environ
    folder = find_project(Path(project) if project else None, cwd or Path.cwd(), env)
    return bootstrap(load_settings(folder, env))
