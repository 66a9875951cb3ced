"""`Monitoring`: the validity contract's use cases on a project, reachable as
`lucid.monitoring`.

Log predictions and outcomes, store a policy per model (`policies`), build a reference
profile per model version (`references`), run the policy over a window of the logs (every
threshold graded, the run stored once per window: `runs`), then really take the actions it
asks (`follow_up`): alerts delivered, freeze, rollback, retraining, and the incident opened
or updated. Drills (`drills`) run the same policy on a shifted copy of a window and store
nothing but the drill's own event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lucid.contracts.digests import DigestRecord
from lucid.contracts.times import to_utc
from lucid.contracts.validity.grades import Level
from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.policy import MonitoringPolicy, ThresholdApproval, stored_evaluation
from lucid.contracts.validity.profiles import ReferenceProfile
from lucid.contracts.validity.records import AlertRecord, IncidentRecord, RunRecord
from lucid.contracts.value import validate_model_name
from lucid.errors import InvalidInput
from lucid.monitoring import drills, policies, prediction_files, predictions, references
from lucid.monitoring.alerts import Alerting, AlertOutcome
from lucid.monitoring.current_window import (
    business_measurement,
    current_table,
    monitored_version,
    register_window,
)
from lucid.monitoring.drills import DrillReport
from lucid.monitoring.experiment_outcomes import experiment_writer
from lucid.monitoring.follow_up import FollowUp
from lucid.monitoring.predictions import OutcomeReport
from lucid.monitoring.run_reports import RunPage, RunReport, page_of_runs
from lucid.monitoring.windows import Window, require_ended, window_of
from lucid.ports import UnitsOfWork
from lucid.ports.digests import AlertHistory, DigestStore
from lucid.ports.monitoring import MonitoringStore, PredictionLog
from lucid.ports.offline import OfflineEngine
from lucid.settings import AlertSettings

if TYPE_CHECKING:
    import pyarrow as pa

    from lucid.monitoring.prediction_seal import SealReport
    from lucid.notifications.digests import DigestReport
    from lucid.registry.model_registry import ModelRegistry

# Statistics (SciPy), the registry and Arrow compute are imported where used: logging,
# alerts and escalation commands need none of them and start in a fraction of the time.

ACTOR = "monitoring"


@dataclass(kw_only=True)
class Monitoring:
    """The validity contract on one project's stores, engine and registry.

    `bootstrap` gives the adapters: the project's units of work (so the handlers subscribed
    there run for monitoring's events too), the prediction log, the stores digests read and
    write, and `session_lock`, a lock held across transactions until its block ends (or its
    process dies).
    """

    uows: UnitsOfWork
    log: PredictionLog
    store: MonitoringStore
    alert_store: AlertHistory
    digest_store: DigestStore
    session_lock: Callable[[str], AbstractContextManager[object]]
    engine_factory: Callable[[], OfflineEngine]
    registry_factory: Callable[[], ModelRegistry]
    alert_settings: AlertSettings = field(default_factory=AlertSettings)
    training_pipelines: Mapping[str, str] = field(default_factory=dict)
    horizon: timedelta = predictions.DEFAULT_HORIZON
    sleep: Callable[[float], None] = time.sleep
    project_dir: Path | None = None
    clock: Callable[[], datetime]

    def __post_init__(self) -> None:
        self.alerting = Alerting(self.uows, self.alert_settings, clock=self.clock, sleep=self.sleep)
        self._sealed_on: date | None = None

    @property
    def follow_up(self) -> FollowUp:
        """The follow-up of runs, with the training pipelines as they are now."""
        return FollowUp(
            self.uows,
            self.alerting,
            self.registry_factory,
            self.training_pipelines,
            str(self.project_dir or ""),
            self.clock,
        )

    # -- logging -----------------------------------------------------------------------------

    def log_predictions(
        self, model: str, version: str | int, rows: Sequence[Mapping[str, Any]] | pa.Table
    ) -> Sequence[str]:
        """Log served predictions: each row has `entity`, `served_at` (a time; naive means UTC),
        `features` (name → value), `score` (P(label = 1)), optional `arm` and `id`. An Arrow
        table (or a pandas DataFrame) is read as a file is (`log_predictions_file`)."""
        if isinstance(rows, Sequence):
            return predictions.log_predictions(self.log, model, version, rows)
        import pyarrow as pa

        table = (
            rows if isinstance(rows, pa.Table) else pa.Table.from_pandas(rows, preserve_index=False)
        )
        return self._log_chunks(model, version, table.num_rows, iter([table]))

    def log_predictions_file(self, model: str, version: str | int, path: Path) -> Sequence[str]:
        """Log the predictions of a Parquet/CSV file: columns `entity`, `served_at`, `score`,
        optional `id` and `arm`; every other column is a feature. Times without a zone are
        read as UTC."""
        rows, chunks = prediction_files.file_chunks(path)
        return self._log_chunks(model, version, rows, chunks)

    def _log_chunks(
        self, model: str, version: str | int, rows: int, chunks: Iterator[pa.Table]
    ) -> Sequence[str]:
        """A table of at least the log's `segment_rows` is validated and stored as columns,
        chunk by chunk, all or none; a smaller one as rows."""
        from lucid.monitoring import prediction_tables

        threshold = self.log.segment_rows
        if threshold is not None and rows >= threshold:
            validate_model_name(model)
            version_text = prediction_tables.version_name(version)
            return prediction_tables.log_prediction_table(self.log, model, version_text, chunks)
        shaped = [
            predictions.prediction_of_row(row) for chunk in chunks for row in chunk.to_pylist()
        ]
        return predictions.log_predictions(self.log, model, version, shaped)

    def seal(self, model: str | None = None, before: str | date | None = None) -> SealReport:
        """Move the logged rows of UTC days that have ended (before the day `before` when
        given) into columnar segments (`lucid.monitoring.prediction_seal`)."""
        from lucid.monitoring.prediction_seal import seal_predictions

        return seal_predictions(self.log, now=self.clock(), model=model, before=before)

    def seal_daily(self) -> SealReport:
        """`seal()` at this object's first call of each UTC day (the scheduler's ticks): a
        seal scans the rows served before today, and a day ends once a day. Rows logged
        later for an ended day are sealed the next day."""
        from lucid.monitoring.prediction_seal import SealReport

        today = self.clock().astimezone(UTC).date()
        if self._sealed_on == today:
            return SealReport(today.isoformat())
        report = self.seal()
        self._sealed_on = today
        return report

    def log_outcomes(
        self,
        model: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        horizon: timedelta | None = None,
        actor: str = "outcomes",
    ) -> OutcomeReport:
        """Log outcomes (`label` 0/1, `observed_at`, and `prediction_id` or `entity`),
        joined by `lucid.monitoring.predictions`'s rule. A row's optional `metrics`
        (business metric name → number) become experiment outcomes for predictions served in
        an arm of the model's running experiment, in the same unit of work
        (`lucid.monitoring.experiment_outcomes`); `actor` is who logs them."""
        return predictions.log_outcomes(
            self.log,
            model,
            rows,
            horizon=self.horizon if horizon is None else horizon,
            now=self.clock(),
            write=experiment_writer(self.uows, self.log, self.clock, model, actor),
        )

    def log_outcomes_file(
        self,
        model: str,
        path: Path,
        *,
        horizon: timedelta | None = None,
        metrics: Sequence[str] = (),
        actor: str = "outcomes",
    ) -> OutcomeReport:
        """Log the outcomes of a Parquet/CSV file; the columns named in `metrics` are each
        row's business metric values (see `log_outcomes`). A file of at least the log's
        `segment_rows` outcomes without metrics is joined as columns
        (`lucid.monitoring.outcome_tables`)."""
        from lucid.monitoring.outcome_tables import log_outcome_table

        table = prediction_files.read_table(path)
        threshold = self.log.segment_rows
        if not metrics and threshold is not None and table.num_rows >= threshold:
            report = log_outcome_table(
                self.log,
                model,
                table,
                horizon=self.horizon if horizon is None else horizon,
                now=self.clock(),
            )
            if report is not None:
                return report
        rows: list[dict[str, Any]] = table.to_pylist()
        if metrics:
            missing = sorted(set(metrics) - set(rows[0] if rows else ()))
            if missing:
                raise InvalidInput("--metric", f"{path} has no column {', '.join(missing)}")
            rows = [
                {
                    **{k: v for k, v in row.items() if k not in metrics},
                    "metrics": {name: row[name] for name in metrics if row[name] is not None},
                }
                for row in rows
            ]
        return self.log_outcomes(model, rows, horizon=horizon, actor=actor)

    # -- policies ----------------------------------------------------------------------------

    def policy(self, model: str) -> MonitoringPolicy:
        """The stored policy of `model`, else the generic policy alerting its owner."""
        return policies.policy_of(self.uows, model)

    def default_policy_notice(self, model: str) -> str | None:
        """What registration says of `model`'s policy when none was stored, else None."""
        return policies.default_policy_notice(self.uows, model)

    def set_policy(
        self,
        policy: MonitoringPolicy,
        *,
        actor: str,
        rationale: str,
        approvals: Sequence[ThresholdApproval] = (),
    ) -> MonitoringPolicy:
        """Store `policy` for its model (see `lucid.monitoring.policies.set_policy`)."""
        return policies.set_policy(
            self.uows,
            policy,
            actor=actor,
            rationale=rationale,
            approvals=approvals,
            now=self.clock(),
        )

    def models(self) -> list[str]:
        """Models with a stored policy (what `lucid monitor run` without --model runs)."""
        with self.uows.read() as uow:
            return uow.monitoring.policy_models()

    # -- reference profiles ------------------------------------------------------------------

    def build_profile(
        self,
        model: str,
        version: str | int,
        *,
        reference: Path | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        segment: str | None = None,
        actor: str = ACTOR,
    ) -> tuple[ReferenceProfile, bool]:
        """Profile `version` once, from the file `reference` (feature columns, `score`, and
        `label` when known) or from its predictions logged in [start, end) with their
        outcomes; (profile, True when stored now, False when the same one was there)."""
        validate_model_name(model)
        version_text = references.version_text(version)
        engine = self.engine_factory()
        if reference is not None:
            if start is not None or end is not None:
                raise InvalidInput("reference", "give a reference file or a window, not both")
            source: Path | Window = reference
        elif start is None or end is None:
            raise InvalidInput(
                "reference",
                "give a reference file, or --window-start and --window-end of logged predictions",
            )
        else:
            source = window_of(self.policy(model).reporting.frequency, self.clock(), start, end)
        return references.build_reference(
            self.uows,
            engine,
            self.log,
            model,
            version_text,
            source,
            segment=segment,
            actor=actor,
            now=self.clock,
        )

    # -- runs --------------------------------------------------------------------------------

    def monitored_version(self, model: str, window: Window, version: str | int | None) -> str:
        """The version a run watches (see `lucid.monitoring.current_window`)."""
        return monitored_version(self.registry_factory(), self.log, model, window, version)

    def run(
        self,
        model: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        version: str | int | None = None,
    ) -> RunReport:
        """Run the model's policy over a window (default: the last complete period of the
        policy's frequency) and take the actions it asks; a window already run is returned as
        stored, and nothing is taken again. A window that has not ended by the clock's now is
        refused: nothing is stored, so the final run of it is the only one.

        One process at a time runs a model (a session lock that dies with its holder; a second
        caller waits for it). The run is stored with its `MonitoringRunRecorded` event and
        marked followed up only once its alerts, actions and incident were taken; a run left
        pending by a process that died is finished first, each step exactly once (see
        `resume`)."""
        policy = self.policy(model)
        now = self.clock()
        window = require_ended(window_of(policy.reporting.frequency, now, start, end), now)
        with self.session_lock(f"monitoring:{model}"):
            finished = {r.record.id: r for r in self._resume_model(model)}
            with self.uows.read() as uow:
                existing = uow.monitoring.find_run(model, window.key)
            if existing is not None:
                return finished.get(existing.id, RunReport(existing, created=False))
            return self._run_window(model, policy, window, now, version)

    def resume(self, model: str | None = None) -> list[RunReport]:
        """Finish the follow-up of every run left pending by a process that died between
        storing the run and taking its alerts, actions and incident (of `model`, or of every
        model); each step is taken once — steps already taken are skipped. Cron-friendly;
        `run` and the scheduler call it too."""
        if model is not None:
            validate_model_name(model)
        with self.uows.read() as uow:
            names = sorted({record.model for record, _ in uow.monitoring.pending_runs(model)})
        reports: list[RunReport] = []
        for name in names:
            with self.session_lock(f"monitoring:{name}"):
                reports += self._resume_model(name)
        return reports

    def _resume_model(self, model: str) -> list[RunReport]:
        """Finish the pending runs of `model`, oldest first (caller holds the model's lock)."""
        with self.uows.read() as uow:
            pending = uow.monitoring.pending_runs(model)
        return [
            self.follow_up.take(
                record, policy, stored_evaluation(policy, record.checks), resumed=True
            )
            for record, policy in pending
        ]

    def _run_window(
        self,
        model: str,
        policy: MonitoringPolicy,
        window: Window,
        now: datetime,
        version: str | int | None,
    ) -> RunReport:
        from lucid.monitoring.runs import run_checks, run_recorded

        watched = self.monitored_version(model, window, version)
        with self.uows.read() as uow:
            profile = uow.monitoring.load_profile(model, watched)
        engine = self.engine_factory()
        labelled = register_window(
            engine, "current_window", self.log, profile, model, window, watched
        )
        business = business_measurement(self.registry_factory(), model, watched)
        extra = [business] if business is not None else []
        extra += self._source_health(engine, policy, window, watched)
        outcome = run_checks(
            engine,
            self.uows,
            policy,
            version=watched,
            table="current_window",
            window=window.key,
            labelled=labelled,
            extra=extra,
            now=now,
            profile=profile,
            announce=lambda evaluation, run_id: run_recorded(
                model, watched, run_id, window, evaluation, now
            ),
        )
        if not outcome.created or outcome.evaluation is None:
            return RunReport(outcome.record, created=False)
        return self.follow_up.take(outcome.record, policy, outcome.evaluation, resumed=False)

    def _source_health(
        self, engine: OfflineEngine, policy: MonitoringPolicy, window: Window, version: str
    ) -> list[Measurement]:
        """The health of the sources `policy` watches over `window` (none when it has no
        source threshold)."""
        from lucid.contracts.validity.source_health import SOURCE_METRICS
        from lucid.monitoring.source_health import measure_sources, watched_sources

        if not policy.metrics & SOURCE_METRICS:
            return []
        with self.uows.read() as uow:
            sources = watched_sources(uow, policy, version)
        span = (to_utc(window.start, "window_start"), to_utc(window.end, "window_end"))
        return measure_sources(
            engine, sources, span, minimum_rows=policy.minimum_rows, metrics=policy.metrics
        )

    def runs(
        self, model: str | None = None, *, cursor: str | None = None, limit: int = 50
    ) -> RunPage:
        """Stored runs newest first, each with every check; `cursor` is the `next_cursor` of
        the page before (None for the first page)."""
        return page_of_runs(self.uows, model, cursor=cursor, limit=limit)

    def get_run(self, run_id: str) -> RunRecord:
        """One stored run with every check (404 for an unknown id)."""
        with self.uows.read() as uow:
            return uow.monitoring.get_run(run_id)

    # -- drills ------------------------------------------------------------------------------

    def drill(
        self,
        model: str,
        shifts: Sequence[str],
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        version: str | int | None = None,
        expect: Level | str | None = None,
        actor: str = ACTOR,
    ) -> DrillReport:
        """Shift a copy of the window and grade it with the policy; no run is stored and no
        action is taken — the drill's result is recorded as a `DriftDrillPerformed` event. A
        window that has not ended is refused, as for a run."""
        parsed, expected = drills.parse_drill(shifts, expect)
        policy = self.policy(model)
        now = self.clock()
        window = require_ended(window_of(policy.reporting.frequency, now, start, end), now)
        watched = self.monitored_version(model, window, version)
        with self.uows.read() as uow:
            profile = uow.monitoring.load_profile(model, watched)
        table, labelled = current_table(self.log, profile, model, window, watched)
        table = drills.shifted(table, profile, parsed)
        engine = self.engine_factory()
        engine.register("drill_window", table)
        business = business_measurement(self.registry_factory(), model, watched)
        evaluation = drills.grade(engine, "drill_window", profile, policy, labelled, business)
        report = DrillReport(model, watched, window, parsed, evaluation, expected, table.num_rows)
        with self.uows() as uow:
            uow.record(report.event(actor))
        return report

    # -- digests -----------------------------------------------------------------------------

    def send_digests(
        self, now: datetime | None = None, *, model: str | None = None
    ) -> list[DigestReport]:
        """Send each stakeholder digest that is due: for every model with a stored policy (or
        `model`), the digest of the last complete reporting period before `now` (default:
        the clock), unless it was sent; digests left pending by a dead process are finished
        first. Idempotent per period, also across racing processes."""
        from lucid.notifications.digests import Digests

        moment = self.clock() if now is None else to_utc(now, "now")
        digests = Digests(
            self.session_lock,
            self.digest_store,
            self.store,
            self.alert_store,
            self.alert_settings,
            clock=self.clock,
            sleep=self.sleep,
        )
        names = [model] if model is not None else self.models()
        reports: list[DigestReport] = []
        for name in names:
            policy = self.policy(name)
            period = window_of(policy.reporting.frequency, moment)
            reports += digests.send(policy, period, moment)
        return reports

    def digests(self, model: str | None = None) -> list[DigestRecord]:
        return self.digest_store.digests(model)

    # -- alerts and incidents ----------------------------------------------------------------

    def acknowledge(self, alert_id: str, *, actor: str) -> AlertRecord:
        return self.alerting.acknowledge(alert_id, actor=actor)

    def escalate(self) -> list[AlertOutcome]:
        """Escalate every due unacknowledged alert (run it from cron every few minutes)."""
        return self.alerting.escalate()

    def alerts(self, model: str | None = None) -> list[AlertRecord]:
        with self.uows.read() as uow:
            return uow.monitoring.alerts(model)

    def deliveries(self, alert_id: str) -> list[dict[str, Any]]:
        with self.uows.read() as uow:
            return uow.monitoring.deliveries(alert_id)

    def incidents(self, model: str | None = None) -> list[IncidentRecord]:
        with self.uows.read() as uow:
            return uow.monitoring.incidents(model)
