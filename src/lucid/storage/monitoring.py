"""Reference profiles and monitoring runs in the metadata database (SQLite or PostgreSQL).

A profile is written once per model version. A run is stored with every check; the pair
(model, window) identifies it, so recording the same window again returns the stored run
unchanged (idempotent) instead of adding a second one.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from lucid.contracts.events import NewEvent, format_time
from lucid.contracts.validity import Evaluation, MonitoringPolicy
from lucid.errors import Conflict, NotFound
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK, SqlEventLog
from lucid.storage.tables import (
    monitoring_checks,
    monitoring_followups,
    monitoring_policies,
    monitoring_profiles,
    monitoring_runs,
)

if TYPE_CHECKING:
    from lucid.monitoring.profiles import ReferenceProfile


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A stored monitoring run: its window, worst level, actions asked and every check."""

    id: str
    model: str
    version: str
    window: str
    measured_at: str
    level: str
    actions: list[str]
    checks: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "window": self.window,
            "measured_at": self.measured_at,
            "level": self.level,
            "actions": self.actions,
            "checks": self.checks,
        }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


class SqlMonitoringStore:
    """Profiles and runs of the validity contract on a `Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save_profile(
        self, model: str, version: str, profile: ReferenceProfile, *, created_at: datetime
    ) -> bool:
        """Store the profile of `model` `version`; True when stored, False when the same
        profile was already there. A different profile for a profiled version is refused."""
        text = _canonical(profile.to_dict())
        fingerprint = hashlib.sha256(text.encode()).hexdigest()
        with self.db.locked_transaction(f"monitoring_profile:{model}") as connection:
            stored = connection.execute(
                select(monitoring_profiles.c.fingerprint).where(
                    monitoring_profiles.c.model == model, monitoring_profiles.c.version == version
                )
            ).scalar_one_or_none()
            if stored == fingerprint:
                return False
            if stored is not None:
                raise Conflict(
                    f"Model {model} version {version} already has a different reference "
                    "profile; a profile is computed once per model version (register a new "
                    "version to change its reference)."
                )
            connection.execute(
                insert(monitoring_profiles).values(
                    model=model,
                    version=version,
                    created_at=format_time(created_at, "created_at"),
                    fingerprint=fingerprint,
                    profile=text,
                )
            )
        return True

    def load_profile(self, model: str, version: str) -> ReferenceProfile:
        from lucid.monitoring.profiles import ReferenceProfile  # SciPy: only runs need it

        with self.db.transaction() as connection:
            text = connection.execute(
                select(monitoring_profiles.c.profile).where(
                    monitoring_profiles.c.model == model, monitoring_profiles.c.version == version
                )
            ).scalar_one_or_none()
        if text is None:
            raise NotFound(
                f"Model {model} version {version} has no reference profile; build one from its "
                "reference data first."
            )
        return ReferenceProfile.from_dict(json.loads(text))

    def record_run(
        self,
        policy: MonitoringPolicy,
        version: str,
        window: str,
        evaluation: Evaluation,
        *,
        measured_at: datetime,
        events: SqlEventLog | None = None,
        announce: Callable[[str], NewEvent] | None = None,
    ) -> tuple[RunRecord, bool]:
        """Store a run and every check; (the run, True) — or (the stored run, False) when this
        model's `window` was already recorded. With `events` and `announce`, the event
        `announce(run_id)` is appended in the same transaction: a stored run is always an
        announced one. The run's follow-up is pending until `mark_followed_up`."""
        model = policy.model
        lock = EVENT_LOCK if events is not None else f"monitoring_run:{model}"
        with self.db.locked_transaction(lock) as connection:
            existing = self._find(connection, model, window)
            if existing is not None:
                return existing, False
            run_id = str(uuid.uuid4())
            connection.execute(
                insert(monitoring_runs).values(
                    id=run_id,
                    model=model,
                    version=version,
                    window_key=window,
                    measured_at=format_time(measured_at, "measured_at"),
                    level=evaluation.level.value,
                    actions=_canonical([str(a) for a in evaluation.actions]),
                    policy=_canonical(policy.to_mapping()),
                )
            )
            rows = [
                {
                    "run_id": run_id,
                    "position": position,
                    "threshold": check.threshold.key,
                    "drift_type": check.threshold.drift_type.value,
                    "metric": check.measurement.metric,
                    "feature": check.measurement.feature,
                    "segment": check.measurement.segment,
                    "value": check.measurement.value,
                    "level": check.level.value,
                    "warning": check.threshold.warning,
                    "critical": check.threshold.critical,
                    "reference_rows": check.measurement.reference_rows,
                    "current_rows": check.measurement.current_rows,
                    "expected_no_drift": check.measurement.expected_no_drift,
                    "actions": _canonical([str(a) for a in check.actions]),
                    "note": check.measurement.note,
                }
                for position, check in enumerate(evaluation.checks)
            ]
            if rows:
                connection.execute(insert(monitoring_checks), rows)
            if events is not None and announce is not None:
                events.append(announce(run_id), connection=connection)
            stored = self._find(connection, model, window)
        assert stored is not None
        return stored, True

    def pending_runs(self, model: str | None = None) -> list[tuple[RunRecord, MonitoringPolicy]]:
        """Runs whose follow-up was interrupted, oldest first, each with the policy it ran."""
        query = (
            select(monitoring_runs.c.model, monitoring_runs.c.window_key, monitoring_runs.c.policy)
            .where(monitoring_runs.c.followed_up_at.is_(None))
            .order_by(monitoring_runs.c.measured_at)
        )
        if model is not None:
            query = query.where(monitoring_runs.c.model == model)
        found: list[tuple[RunRecord, MonitoringPolicy]] = []
        with self.db.transaction() as connection:
            for name, window, policy in connection.execute(query).all():
                record = self._find(connection, name, window)
                assert record is not None
                found.append((record, MonitoringPolicy.from_mapping(json.loads(policy))))
        return found

    def is_followed_up(self, run_id: str) -> bool:
        with self.db.transaction() as connection:
            return (
                connection.execute(
                    select(monitoring_runs.c.followed_up_at).where(monitoring_runs.c.id == run_id)
                ).scalar_one()
                is not None
            )

    def mark_followed_up(
        self, run_id: str, at: datetime, events: SqlEventLog, news: Sequence[NewEvent]
    ) -> None:
        """The run's every follow-up step was taken; `news` (if any) say so in the log."""
        with self.db.locked_transaction(EVENT_LOCK) as connection:
            connection.execute(
                update(monitoring_runs)
                .where(monitoring_runs.c.id == run_id)
                .values(followed_up_at=format_time(at, "at"))
            )
            if news:
                events.append_many(news, connection=connection)

    @staticmethod
    def step_taken(connection: Connection, run_id: str, step: str) -> str | None:
        """The outcome of the run's follow-up `step` when already taken, else None."""
        return connection.execute(
            select(monitoring_followups.c.outcome).where(
                monitoring_followups.c.run_id == run_id, monitoring_followups.c.step == step
            )
        ).scalar_one_or_none()

    @staticmethod
    def mark_step(
        connection: Connection, run_id: str, step: str, outcome: str, at: datetime
    ) -> None:
        """Record, in the step's own transaction, that the follow-up `step` was taken."""
        connection.execute(
            insert(monitoring_followups).values(
                run_id=run_id, step=step, outcome=outcome, done_at=format_time(at, "at")
            )
        )

    def runs_starting_in(self, model: str, start: str, end: str) -> list[RunRecord]:
        """The model's runs whose window starts in [start, end) (canonical UTC text; a window
        key begins with its start, so the keys compare as text), oldest window first."""
        with self.db.transaction() as connection:
            windows = connection.execute(
                select(monitoring_runs.c.window_key)
                .where(
                    monitoring_runs.c.model == model,
                    monitoring_runs.c.window_key >= start,
                    monitoring_runs.c.window_key < end,
                )
                .order_by(monitoring_runs.c.window_key)
            ).scalars()
            found = [self._find(connection, model, window) for window in list(windows)]
        return [record for record in found if record is not None]

    def find_run(self, model: str, window: str) -> RunRecord | None:
        with self.db.transaction() as connection:
            return self._find(connection, model, window)

    def get_run(self, run_id: str) -> RunRecord:
        """The stored run with this id, with every check."""
        with self.db.transaction() as connection:
            run = (
                connection.execute(select(monitoring_runs).where(monitoring_runs.c.id == run_id))
                .mappings()
                .first()
            )
            if run is None:
                raise NotFound(f"No monitoring run has the id {run_id}.")
            return self._record(connection, run)

    def runs_page(
        self, model: str | None, *, before: tuple[str, str] | None, limit: int
    ) -> list[RunRecord]:
        """Runs newest first (by measured time, then id), each with every check: at most
        `limit`, only those strictly before the `(measured_at, id)` key `before`."""
        query = select(monitoring_runs).order_by(
            monitoring_runs.c.measured_at.desc(), monitoring_runs.c.id.desc()
        )
        if model is not None:
            query = query.where(monitoring_runs.c.model == model)
        if before is not None:
            measured_at, run_id = before
            query = query.where(
                or_(
                    monitoring_runs.c.measured_at < measured_at,
                    and_(
                        monitoring_runs.c.measured_at == measured_at,
                        monitoring_runs.c.id < run_id,
                    ),
                )
            )
        with self.db.transaction() as connection:
            rows = connection.execute(query.limit(limit)).mappings().all()
            return [self._record(connection, run) for run in rows]

    def runs(self, model: str, *, limit: int = 200) -> list[RunRecord]:
        """The latest `limit` runs of `model` with every check, oldest window first."""
        with self.db.transaction() as connection:
            windows = connection.execute(
                select(monitoring_runs.c.window_key)
                .where(monitoring_runs.c.model == model)
                .order_by(monitoring_runs.c.window_key.desc())
                .limit(limit)
            ).scalars()
            found = [self._find(connection, model, window) for window in windows]
        return sorted((run for run in found if run is not None), key=lambda run: run.window)

    def _find(self, connection: Any, model: str, window: str) -> RunRecord | None:
        run = (
            connection.execute(
                select(monitoring_runs).where(
                    monitoring_runs.c.model == model, monitoring_runs.c.window_key == window
                )
            )
            .mappings()
            .first()
        )
        return None if run is None else self._record(connection, run)

    def _record(self, connection: Any, run: Any) -> RunRecord:
        checks = (
            connection.execute(
                select(monitoring_checks)
                .where(monitoring_checks.c.run_id == run["id"])
                .order_by(monitoring_checks.c.position)
            )
            .mappings()
            .all()
        )
        return RunRecord(
            id=run["id"],
            model=run["model"],
            version=run["version"],
            window=run["window_key"],
            measured_at=run["measured_at"],
            level=run["level"],
            actions=json.loads(run["actions"]),
            checks=[
                {
                    **{k: v for k, v in check.items() if k not in ("run_id", "actions")},
                    "actions": json.loads(check["actions"]),
                }
                for check in checks
            ],
        )

    # -- policies ----------------------------------------------------------------------------

    def stored_policy(self, model: str) -> MonitoringPolicy | None:
        """The policy stored for `model`, or None when it has none (the default applies)."""
        with self.db.transaction() as connection:
            text = connection.execute(
                select(monitoring_policies.c.policy).where(monitoring_policies.c.model == model)
            ).scalar_one_or_none()
        return None if text is None else MonitoringPolicy.from_mapping(json.loads(text))

    def policy_models(self) -> list[str]:
        with self.db.transaction() as connection:
            return list(
                connection.execute(
                    select(monitoring_policies.c.model).order_by(monitoring_policies.c.model)
                ).scalars()
            )

    def save_policy(
        self,
        policy: MonitoringPolicy,
        *,
        expected: MonitoringPolicy | None,
        by: str,
        at: datetime,
        events: SqlEventLog,
        news: Sequence[NewEvent],
    ) -> None:
        """Store `policy` with its events in one transaction; refused when the stored policy
        is no longer `expected` (another change came first)."""
        with self.db.locked_transaction(EVENT_LOCK) as connection:
            text = connection.execute(
                select(monitoring_policies.c.policy).where(
                    monitoring_policies.c.model == policy.model
                )
            ).scalar_one_or_none()
            stored = None if text is None else MonitoringPolicy.from_mapping(json.loads(text))
            if stored != expected:
                raise Conflict(
                    f"The policy of {policy.model} changed while this change was prepared; "
                    "read it again and retry."
                )
            connection.execute(
                delete(monitoring_policies).where(monitoring_policies.c.model == policy.model)
            )
            connection.execute(
                insert(monitoring_policies).values(
                    model=policy.model,
                    policy=_canonical(policy.to_mapping()),
                    updated_at=format_time(at, "at"),
                    updated_by=by,
                )
            )
            events.append_many(news, connection=connection)
