"""`Monitoring`: the validity contract's use cases on a project, reachable as
`lucid.monitoring`.

Log predictions and outcomes, store a policy per model, build a reference profile per model
version, run the policy over a window of the logs (every threshold graded, the run stored
once per window), then really take the actions it asks: alerts delivered, freeze, rollback,
retraining, and the incident opened or updated. Drills run the same policy on a shifted copy
of a window and store nothing but the drill's own event.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lucid.contracts.digests import DigestRecord
from lucid.contracts.events import NewEvent, parse_time
from lucid.contracts.monitoring_events import (
    DriftDrillPerformed,
    MonitoringFollowUpResumed,
    MonitoringPolicySet,
    MonitoringRunRecorded,
    ReferenceProfileBuilt,
)
from lucid.contracts.registry_events import model_subject
from lucid.contracts.times import to_utc
from lucid.contracts.validity import (
    Approval,
    Evaluation,
    Level,
    Measurement,
    MonitoringPolicy,
)
from lucid.contracts.value import Direction, text, validate_model_name
from lucid.errors import Conflict, Forbidden, InvalidInput, NotFound
from lucid.monitoring import predictions
from lucid.monitoring.alerts import Alerting, AlertOutcome
from lucid.monitoring.incidents import non_ok, record_incident
from lucid.monitoring.predictions import OutcomeReport
from lucid.monitoring.windows import Kind, Window, infer_kinds, window_of, window_table
from lucid.ports import ComputeEngine
from lucid.settings import AlertSettings
from lucid.storage.alerts import AlertRecord, IncidentRecord, SqlAlertStore
from lucid.storage.database import Database
from lucid.storage.digests import SqlDigestStore
from lucid.storage.event_log import SqlEventLog
from lucid.storage.monitoring import RunRecord, SqlMonitoringStore
from lucid.storage.prediction_log import SqlPredictionLog

if TYPE_CHECKING:
    import pyarrow as pa

    from lucid.monitoring.actions import ActionResult
    from lucid.monitoring.profiles import ReferenceProfile
    from lucid.notifications.digests import DigestReport
    from lucid.registry.model_registry import ModelRegistry

# Statistics (SciPy), the registry and Arrow compute are imported where used: logging,
# alerts and escalation commands need none of them and start in a fraction of the time.

ACTOR = "monitoring"
_SHIFT = re.compile(r"^(?P<column>[^=]+)=(?P<op>[+\-*])(?P<amount>\d+(?:\.\d+)?)(?P<sd>sd)?$")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RunReport:
    """A run and what followed: the stored record, whether this call made it, the graded
    evaluation (None for a window recorded before), alerts, actions and the incident.
    `resumed` is True when this call finished the follow-up of a run stored by a call that
    died before taking its alerts, actions or incident; what this call took is reported."""

    record: RunRecord
    created: bool
    evaluation: Evaluation | None = None
    alerts: tuple[AlertOutcome, ...] = ()
    actions: tuple[ActionResult, ...] = ()
    incident: IncidentRecord | None = None
    resumed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.record.to_dict(),
            "created": self.created,
            "resumed": self.resumed,
            "alerts": [a.to_dict() for a in self.alerts],
            "actions_taken": [a.to_dict() for a in self.actions],
            "incident": None if self.incident is None else self.incident.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class RunPage:
    """A page of stored runs, newest first, and the cursor of the next page (None at the end)."""

    runs: tuple[RunRecord, ...]
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"runs": [run.to_dict() for run in self.runs], "next_cursor": self.next_cursor}


def _run_cursor(run: RunRecord) -> str:
    """An opaque cursor: the run's (measured time, id) key, base64url-encoded."""
    return base64.urlsafe_b64encode(f"{run.measured_at}|{run.id}".encode()).decode()


def _run_key(cursor: str) -> tuple[str, str]:
    try:
        measured_at, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        parse_time(measured_at)
    except (ValueError, UnicodeError):
        raise InvalidInput(
            "cursor", f"{cursor!r} is not a cursor this API returned (use next_cursor)"
        ) from None
    return measured_at, run_id


@dataclass(frozen=True, slots=True)
class Shift:
    """A drill's shift: add `amount` (× the reference std when `in_sd`) or multiply."""

    column: str
    op: str
    amount: float
    in_sd: bool

    @classmethod
    def parse(cls, spec: str) -> Shift:
        found = _SHIFT.match(spec.replace(" ", ""))
        if found is None:
            raise InvalidInput(
                "shift",
                f"{spec!r} must be COLUMN=+Xsd, COLUMN=-X (absolute) or COLUMN=*X (factor)",
            )
        if found["op"] == "*" and found["sd"]:
            raise InvalidInput("shift", f"{spec!r}: a factor takes no 'sd'")
        return cls(found["column"], found["op"], float(found["amount"]), bool(found["sd"]))

    def __str__(self) -> str:
        return f"{self.column}={self.op}{self.amount:g}{'sd' if self.in_sd else ''}"


@dataclass(frozen=True, slots=True)
class DrillReport:
    model: str
    version: str
    window: Window
    shifts: tuple[Shift, ...]
    evaluation: Evaluation
    expected: Level | None
    rows: int

    @property
    def passed(self) -> bool | None:
        return None if self.expected is None else self.evaluation.level >= self.expected

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "window": self.window.key,
            "rows": self.rows,
            "shifts": [str(s) for s in self.shifts],
            "expected_level": None if self.expected is None else self.expected.value,
            "passed": self.passed,
            **self.evaluation.to_dict(),
        }


@dataclass
class Monitoring:
    """The validity contract on one project's metadata database, engine and registry."""

    db: Database
    events: SqlEventLog
    engine_factory: Callable[[], ComputeEngine]
    registry_factory: Callable[[], ModelRegistry]
    alert_settings: AlertSettings = field(default_factory=AlertSettings)
    training_pipelines: Mapping[str, str] = field(default_factory=dict)
    horizon: timedelta = predictions.DEFAULT_HORIZON
    clock: Callable[[], datetime] = _now
    sleep: Callable[[float], None] = time.sleep
    project_dir: Path | None = None

    def __post_init__(self) -> None:
        self.log = SqlPredictionLog(self.db)
        self.store = SqlMonitoringStore(self.db)
        self.alert_store = SqlAlertStore(self.db, self.events)
        self.alerting = Alerting(
            self.alert_store, self.alert_settings, clock=self.clock, sleep=self.sleep
        )
        self.digest_store = SqlDigestStore(self.db, self.events)

    # -- logging -----------------------------------------------------------------------------

    def log_predictions(
        self, model: str, version: str | int, rows: Sequence[Mapping[str, Any]]
    ) -> list[str]:
        """Log served predictions: each row has `entity`, `served_at` (a time; naive means UTC),
        `features` (name → value), `score` (P(label = 1)), optional `arm` and `id`."""
        return predictions.log_predictions(self.log, model, version, rows)

    def log_predictions_file(self, model: str, version: str | int, path: Path) -> list[str]:
        """Log the predictions of a Parquet/CSV file: columns `entity`, `served_at`, `score`,
        optional `id` and `arm`; every other column is a feature. Times without a zone are
        read as UTC."""
        rows = predictions.read_rows(path)
        shaped: list[dict[str, Any]] = []
        for row in rows:
            fields: dict[str, Any] = {
                k: row[k] for k in ("id", "entity", "served_at", "score", "arm") if k in row
            }
            features = {k: v for k, v in row.items() if k not in fields}
            shaped.append({**fields, "features": features})
        return predictions.log_predictions(self.log, model, version, shaped)

    def log_outcomes(
        self,
        model: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        horizon: timedelta | None = None,
    ) -> OutcomeReport:
        """Log outcomes (`label` 0/1, `observed_at`, and `prediction_id` or `entity`),
        joined by `lucid.monitoring.predictions`'s rule."""
        return predictions.log_outcomes(
            self.log,
            model,
            rows,
            horizon=self.horizon if horizon is None else horizon,
            now=self.clock(),
        )

    def log_outcomes_file(
        self, model: str, path: Path, *, horizon: timedelta | None = None
    ) -> OutcomeReport:
        rows = predictions.read_rows(path)
        return predictions.log_outcomes(
            self.log,
            model,
            rows,
            horizon=self.horizon if horizon is None else horizon,
            now=self.clock(),
        )

    # -- policies ----------------------------------------------------------------------------

    def policy(self, model: str) -> MonitoringPolicy:
        """The stored policy of `model`, else the seed's churn policy for it."""
        validate_model_name(model)
        stored = self.store.stored_policy(model)
        return stored if stored is not None else MonitoringPolicy.churn_default(model)

    def set_policy(
        self,
        policy: MonitoringPolicy,
        *,
        actor: str,
        rationale: str,
        approvals: Sequence[Approval] = (),
    ) -> MonitoringPolicy:
        """Store `policy` for its model. The first policy of a model is stored as given; a
        replacement goes through the threshold-change rule for every changed threshold
        (`ThresholdChanged` each), and adding or removing thresholds or changing reporting
        needs the same approvals: every team named by the old or new policy, never by the
        proposer."""
        who, why = text(actor, "actor"), text(rationale, "rationale")
        validate_model_name(policy.model)
        stored = self.store.stored_policy(policy.model)
        news: list[NewEvent] = []
        subject = model_subject(policy.model)
        if stored is not None:
            if stored == policy:
                raise Conflict(f"The policy of {policy.model} is unchanged; nothing to record.")
            old_keys = {t.key for t in stored.thresholds}
            working = stored
            for threshold in policy.thresholds:
                if threshold.key in old_keys and threshold not in stored.thresholds:
                    working, changed = working.change_threshold(
                        threshold, proposer=who, rationale=why, approvals=approvals
                    )
                    news.append(NewEvent.of(changed, actor=who, subject=subject, rationale=why))
            if working != policy:
                _require_approvals(stored, policy, who, approvals)
        news.append(
            NewEvent.of(
                MonitoringPolicySet(
                    policy.model,
                    policy.to_mapping(),
                    None if stored is None else stored.to_mapping(),
                    [{"team": a.team, "person": a.person} for a in approvals],
                ),
                actor=who,
                subject=subject,
                rationale=why,
            )
        )
        self.store.save_policy(
            policy, expected=stored, by=who, at=self.clock(), events=self.events, news=news
        )
        return policy

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
        from lucid.monitoring.profiles import build_profile

        validate_model_name(model)
        version_text = str(version).strip()
        if not version_text:
            raise InvalidInput("version", "must name the model version to profile")
        engine = self.engine_factory()
        if reference is not None:
            if start is not None or end is not None:
                raise InvalidInput("reference", "give a reference file or a window, not both")
            engine.register("reference", reference)
            kinds = engine.columns("reference")
            label = "label" if "label" in kinds else None
            score = "score" if "score" in kinds else None
            source, rows = str(reference), None
        else:
            if start is None or end is None:
                raise InvalidInput(
                    "reference",
                    "give a reference file, or --window-start and --window-end of logged "
                    "predictions",
                )
            window = window_of(self.policy(model).reporting.frequency, self.clock(), start, end)
            logged = self.log.window(model, window.start, window.end, version_text)
            if not logged:
                raise NotFound(
                    f"No prediction of {model} version {version_text} was logged in "
                    f"{window.key}; log predictions first or give --reference."
                )
            labelled = any(row.label is not None for row in logged)
            engine.register(
                "reference", window_table(logged, infer_kinds(logged), with_label=labelled)
            )
            label, score = ("label" if labelled else None), "score"
            source, rows = f"predictions logged in {window.key}", len(logged)
        profile = build_profile(
            engine, "reference", segment_column=segment, label=label, score=score
        )
        if rows is None:
            rows = max((getattr(p, "rows", 0) for p in profile.overall.columns.values()), default=0)
        stored = self.store.save_profile(model, version_text, profile, created_at=self.clock())
        if stored:
            self.events.append(
                NewEvent.of(
                    ReferenceProfileBuilt(model, version_text, source, int(rows)),
                    actor=actor,
                    subject=model_subject(model),
                    rationale=f"reference profile of {model} version {version_text} from {source}",
                )
            )
        return profile, stored

    # -- runs --------------------------------------------------------------------------------

    def monitored_version(self, model: str, window: Window, version: str | int | None) -> str:
        """The version a run watches: the one given, else the registry's production version,
        else the version of the latest prediction logged in the window."""
        if version is not None:
            return str(version)
        try:
            serving = self.registry_factory().production_version(model)
        except NotFound:
            serving = None
        if serving is not None:
            return str(serving.version)
        latest = self.log.latest_version(model, window.start, window.end)
        if latest is None:
            raise NotFound(
                f"No prediction of {model} was logged in {window.key} and it has no production "
                "version; log predictions first."
            )
        return latest

    def business_measurement(self, model: str, version: str) -> Measurement | None:
        """The business-metric drop of `version`: its latest observation of the contract's
        metric against the contract's baseline; None when the registry has neither."""
        from lucid.monitoring.performance import business_metric_drop

        if not version.isdigit():
            return None
        registry = self.registry_factory()
        try:
            current = registry.get_version(model, int(version))
        except NotFound:
            return None
        impact = current.impact
        seen = [
            o for o in registry.observations(model, current.version) if o.metric == impact.metric
        ]
        if not seen:
            return None
        latest = seen[-1]
        measured = business_metric_drop(
            impact.baseline, latest.value, higher_is_better=impact.direction is Direction.HIGHER
        )
        return replace(
            measured,
            feature=impact.metric,
            note=f"{impact.metric} {latest.value:g} over {latest.period} vs baseline "
            f"{impact.baseline:g} of {current.label}",
        )

    def _current(self, model: str, window: Window, version: str) -> tuple[pa.Table, bool]:
        profile = self.store.load_profile(model, version)
        rows = self.log.window(model, window.start, window.end, version)
        kinds: dict[str, Kind] = {
            name: column.kind
            for name, column in profile.overall.columns.items()
            if name not in ("score", "label")
        }
        if profile.segment_column is not None:
            kinds[profile.segment_column] = "categorical"
        with_label = any(s.performance is not None for s in profile.segments.values())
        labelled = with_label and any(row.label is not None for row in rows)
        return window_table(rows, kinds, with_label=with_label), labelled

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
        stored, and nothing is taken again.

        One process at a time runs a model (a session lock that dies with its holder; a second
        caller waits for it). The
        run is stored with its `MonitoringRunRecorded` event and marked followed up only once
        its alerts, actions and incident were taken; a run left pending by a process that
        died is finished first, each step exactly once (see `resume`)."""
        policy = self.policy(model)
        now = self.clock()
        window = window_of(policy.reporting.frequency, now, start, end)
        with self.db.session_lock(f"monitoring:{model}"):
            finished = {r.record.id: r for r in self._resume_model(model)}
            existing = self.store.find_run(model, window.key)
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
        names = sorted({record.model for record, _ in self.store.pending_runs(model)})
        reports: list[RunReport] = []
        for name in names:
            with self.db.session_lock(f"monitoring:{name}"):
                reports += self._resume_model(name)
        return reports

    def _resume_model(self, model: str) -> list[RunReport]:
        """Finish the pending runs of `model`, oldest first (caller holds the model's lock)."""
        from lucid.contracts.validity import stored_evaluation

        reports: list[RunReport] = []
        for record, policy in self.store.pending_runs(model):
            evaluation = stored_evaluation(policy, record.checks)
            reports.append(self._follow_up(record, policy, evaluation, resumed=True))
        return reports

    def _run_window(
        self,
        model: str,
        policy: MonitoringPolicy,
        window: Window,
        now: datetime,
        version: str | int | None,
    ) -> RunReport:
        from lucid.monitoring.runs import run_checks

        watched = self.monitored_version(model, window, version)
        table, labelled = self._current(model, window, watched)
        engine = self.engine_factory()
        engine.register("current_window", table)
        business = self.business_measurement(model, watched)
        outcome = run_checks(
            engine,
            self.store,
            policy,
            version=watched,
            table="current_window",
            window=window.key,
            labelled=labelled,
            extra=[business] if business is not None else [],
            now=now,
            events=self.events,
            announce=lambda evaluation, run_id: NewEvent.of(
                MonitoringRunRecorded(
                    model,
                    watched,
                    run_id,
                    window.key,
                    evaluation.level.value,
                    [str(a) for a in evaluation.actions],
                    len(evaluation.checks),
                    non_ok(evaluation),
                ),
                actor=ACTOR,
                subject=model_subject(model),
                rationale=f"{len(evaluation.checks)} checks over {window.key}: worst "
                f"{evaluation.level.value}"
                + (f" ({', '.join(non_ok(evaluation))})" if non_ok(evaluation) else ""),
                occurred_at=now,
            ),
        )
        if not outcome.created or outcome.evaluation is None:
            return RunReport(outcome.record, created=False)
        return self._follow_up(outcome.record, policy, outcome.evaluation, resumed=False)

    def _follow_up(
        self, record: RunRecord, policy: MonitoringPolicy, evaluation: Evaluation, *, resumed: bool
    ) -> RunReport:
        """Alerts, actions and the incident of a stored run, each skipped when already taken;
        then the run is marked followed up (with `MonitoringFollowUpResumed` when resumed)."""
        from lucid.monitoring import actions

        model = record.model
        start, _, end = record.window.partition("/")
        measured = parse_time(record.measured_at)
        failing = non_ok(evaluation)
        raised_before = {a.target for a in self.alert_store.alerts(model) if a.run_id == record.id}
        alerts = self.alerting.raise_for_run(
            model, record.id, evaluation, policy.reporting.escalation
        )
        reason = (
            f"monitoring run {record.id} over {record.window} is {evaluation.level.value}: "
            + ", ".join(failing)
        )
        taken = actions.take(
            self.db,
            self.events,
            self.registry_factory(),
            self.training_pipelines,
            evaluation.actions,
            actions.RetrainingRequest(
                model, record.version, record.id, start, end, str(self.project_dir or "")
            ),
            reason,
            self.clock(),
        )
        incident = record_incident(self.alert_store, model, record.id, evaluation, start, measured)
        news: list[NewEvent] = []
        if resumed:
            steps = [
                f"alert:{a.alert.target}" for a in alerts if a.alert.target not in raised_before
            ]
            steps += [a.action for a in taken]
            news.append(
                NewEvent.of(
                    MonitoringFollowUpResumed(model, record.id, record.window, steps),
                    actor=ACTOR,
                    subject=model_subject(model),
                    rationale=f"the follow-up of monitoring run {record.id} over "
                    f"{record.window} was interrupted; finished now, steps already taken "
                    "skipped",
                )
            )
        self.store.mark_followed_up(record.id, self.clock(), self.events, news)
        return RunReport(
            record,
            not resumed,
            evaluation,
            tuple(alerts),
            tuple(taken),
            incident,
            resumed=resumed,
        )

    def runs(
        self, model: str | None = None, *, cursor: str | None = None, limit: int = 50
    ) -> RunPage:
        """Stored runs newest first, each with every check; `cursor` is the `next_cursor` of
        the page before (None for the first page)."""
        if model is not None:
            validate_model_name(model)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 500:
            raise InvalidInput("limit", f"must be a whole number from 1 to 500, not {limit!r}")
        before = None if cursor is None else _run_key(cursor)
        found = self.store.runs_page(model, before=before, limit=limit)
        last = found[-1] if len(found) == limit else None
        return RunPage(tuple(found), None if last is None else _run_cursor(last))

    def get_run(self, run_id: str) -> RunRecord:
        """One stored run with every check (404 for an unknown id)."""
        return self.store.get_run(run_id)

    def models(self) -> list[str]:
        """Models with a stored policy (what `lucid monitor run` without --model runs)."""
        return self.store.policy_models()

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
        action is taken — the drill's result is recorded as a `DriftDrillPerformed` event."""
        import pyarrow.compute as pc

        from lucid.monitoring.profiles import NumericProfile
        from lucid.monitoring.runs import measure_window

        if not shifts:
            raise InvalidInput("shift", "a drill needs at least one shift, e.g. tenure=+0.5sd")
        parsed = tuple(Shift.parse(spec) for spec in shifts)
        expected = None
        if expect is not None:
            try:
                expected = Level(expect)
            except ValueError:
                known = ", ".join(level.value for level in Level)
                raise InvalidInput("expect", f"{expect!r} is not a level ({known})") from None
        policy = self.policy(model)
        window = window_of(policy.reporting.frequency, self.clock(), start, end)
        watched = self.monitored_version(model, window, version)
        profile = self.store.load_profile(model, watched)
        table, labelled = self._current(model, window, watched)
        for shift in parsed:
            column = profile.overall.columns.get(shift.column)
            if not isinstance(column, NumericProfile):
                numeric = [n for n, c in profile.overall.columns.items() if c.kind == "numeric"]
                raise InvalidInput(
                    "shift",
                    f"{shift.column} is not a numeric column of the reference profile "
                    f"(numeric: {', '.join(numeric) or 'none'})",
                )
            amount = shift.amount * (column.std or 0.0) if shift.in_sd else shift.amount
            values = table[shift.column]
            if shift.op == "*":
                moved = pc.multiply(values, amount)
            else:
                moved = pc.add(values, amount if shift.op == "+" else -amount)
            table = table.set_column(
                table.schema.get_field_index(shift.column), shift.column, moved
            )
        engine = self.engine_factory()
        engine.register("drill_window", table)
        measured = measure_window(engine, "drill_window", profile, policy, labelled=labelled)
        business = self.business_measurement(model, watched)
        evaluation = policy.evaluate([*measured, *([business] if business else [])])
        report = DrillReport(model, watched, window, parsed, evaluation, expected, table.num_rows)
        self.events.append(
            NewEvent.of(
                DriftDrillPerformed(
                    model,
                    window.key,
                    [str(s) for s in parsed],
                    evaluation.level.value,
                    [str(a) for a in evaluation.actions],
                    None if expected is None else expected.value,
                    report.passed,
                ),
                actor=actor,
                subject=model_subject(model),
                rationale=f"drift drill on a copy of {window.key}: "
                f"{', '.join(str(s) for s in parsed)} → {evaluation.level.value}",
            )
        )
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
            self.db.session_lock,
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
        return self.alert_store.alerts(model)

    def deliveries(self, alert_id: str) -> list[dict[str, Any]]:
        return self.alert_store.deliveries(alert_id)

    def incidents(self, model: str | None = None) -> list[IncidentRecord]:
        return self.alert_store.incidents(model)


def _require_approvals(
    old: MonitoringPolicy, new: MonitoringPolicy, proposer: str, approvals: Sequence[Approval]
) -> None:
    self_approved = sorted({a.team for a in approvals if a.person == proposer})
    if self_approved:
        raise Forbidden(
            f"{proposer} proposed the policy change of {new.model} and cannot approve it for "
            f"{', '.join(self_approved)}: nobody approves their own change."
        )
    teams = sorted(set(old.approving_teams) | set(new.approving_teams))
    approved = {a.team for a in approvals}
    missing = [team for team in teams if team not in approved]
    if missing:
        raise Forbidden(
            f"The policy change of {new.model} needs the approval of {', '.join(missing)}: every "
            "team the old or new policy names must approve it."
        )
