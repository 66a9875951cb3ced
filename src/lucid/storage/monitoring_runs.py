"""Monitoring runs, each stored with every check, and their follow-up steps, in the metadata
database; the pair (model, window) identifies a run."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from lucid.contracts.events import format_time
from lucid.contracts.validity.evaluation import PolicyEvaluation
from lucid.contracts.validity.policy import MonitoringPolicy
from lucid.contracts.validity.records import RunRecord
from lucid.errors import NotFound
from lucid.storage.alerts import SqlAlertRepository
from lucid.storage.id_prefix import stored_id
from lucid.storage.tables import monitoring_checks, monitoring_followups, monitoring_runs


def canonical(value: Any) -> str:
    """`value` as canonical JSON: keys sorted, no spaces, NaN refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _check_rows(run_id: str, evaluation: PolicyEvaluation) -> list[dict[str, Any]]:
    return [
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
            "actions": canonical([str(a) for a in check.actions]),
            "note": check.measurement.note,
            "pvalue": check.measurement.pvalue,
            "adjusted_pvalue": check.adjusted_pvalue,
            "details": canonical(dict(check.measurement.details)),
        }
        for position, check in enumerate(evaluation.checks)
    ]


def _details(stored: str | None) -> dict[str, Any]:
    """A check's stored details (JSON), empty when none were stored."""
    return {} if stored is None or stored == "{}" else dict(json.loads(stored))


class SqlRunRepository(SqlAlertRepository):
    """Runs and their follow-up steps (and, inherited, alerts and incidents) on one
    transaction's connection."""

    def add_run(
        self,
        policy: MonitoringPolicy,
        version: str,
        window: str,
        evaluation: PolicyEvaluation,
        *,
        measured_at: datetime,
    ) -> RunRecord:
        """Store a run of a window not recorded yet, with every check; its follow-up is
        pending until `mark_followed_up`."""
        run_id = str(uuid.uuid4())
        self.connection.execute(
            insert(monitoring_runs).values(
                id=run_id,
                model=policy.model,
                version=version,
                window_key=window,
                measured_at=format_time(measured_at, "measured_at"),
                level=evaluation.level.value,
                actions=canonical([str(a) for a in evaluation.actions]),
                policy=canonical(policy.to_mapping()),
            )
        )
        rows = _check_rows(run_id, evaluation)
        if rows:
            self.connection.execute(insert(monitoring_checks), rows)
        stored = self.find_run(policy.model, window)
        assert stored is not None
        return stored

    def find_run(self, model: str, window: str) -> RunRecord | None:
        run = (
            self.connection.execute(
                select(monitoring_runs).where(
                    monitoring_runs.c.model == model, monitoring_runs.c.window_key == window
                )
            )
            .mappings()
            .first()
        )
        return None if run is None else self._record(run)

    def get_run(self, run_id: str) -> RunRecord:
        """The stored run with this id or id prefix (`stored_id`), with every check."""
        found = stored_id(self.connection, monitoring_runs.c.id, run_id, "run_id")
        run = (
            self.connection.execute(select(monitoring_runs).where(monitoring_runs.c.id == found))
            .mappings()
            .first()
        )
        if run is None:
            raise NotFound(f"No monitoring run has the id {run_id}.")
        return self._record(run)

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
        for name, window, policy in self.connection.execute(query).all():
            record = self.find_run(name, window)
            assert record is not None
            found.append((record, MonitoringPolicy.from_mapping(json.loads(policy))))
        return found

    def runs_starting_in(self, model: str, start: str, end: str) -> list[RunRecord]:
        """The model's runs whose window starts in [start, end) (canonical UTC text; a window
        key begins with its start, so the keys compare as text), oldest window first."""
        rows = (
            self.connection.execute(
                select(monitoring_runs)
                .where(
                    monitoring_runs.c.model == model,
                    monitoring_runs.c.window_key >= start,
                    monitoring_runs.c.window_key < end,
                )
                .order_by(monitoring_runs.c.window_key)
            )
            .mappings()
            .all()
        )
        return self._records(rows)

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
        return self._records(self.connection.execute(query.limit(limit)).mappings().all())

    def runs(self, model: str, *, limit: int = 200) -> list[RunRecord]:
        """The latest `limit` runs of `model` with every check, oldest window first."""
        rows = (
            self.connection.execute(
                select(monitoring_runs)
                .where(monitoring_runs.c.model == model)
                .order_by(monitoring_runs.c.window_key.desc())
                .limit(limit)
            )
            .mappings()
            .all()
        )
        return self._records(list(reversed(rows)))

    def check_history(
        self, model: str, version: str, before: str, *, limit: int = 200
    ) -> list[list[dict[str, Any]]]:
        """The stored checks of the latest `limit` runs of (model, version) whose window sorts
        before `before`: one list per run, oldest window first, in stored order. Two queries,
        whatever the number of runs."""
        run_ids = list(
            self.connection.execute(
                select(monitoring_runs.c.id)
                .where(
                    monitoring_runs.c.model == model,
                    monitoring_runs.c.version == version,
                    monitoring_runs.c.window_key < before,
                )
                .order_by(monitoring_runs.c.window_key.desc())
                .limit(limit)
            ).scalars()
        )
        by_run: dict[str, list[dict[str, Any]]] = {run_id: [] for run_id in run_ids}
        if not by_run:
            return []
        for check in self.connection.execute(
            select(monitoring_checks)
            .where(monitoring_checks.c.run_id.in_(list(by_run)))
            .order_by(monitoring_checks.c.run_id, monitoring_checks.c.position)
        ).mappings():
            by_run[check["run_id"]].append(
                {k: v for k, v in check.items() if k not in ("run_id", "actions")}
                | {"details": _details(check["details"])}
            )
        return [by_run[run_id] for run_id in reversed(run_ids)]

    def _record(self, run: Any) -> RunRecord:
        return self._records([run])[0]

    def _records(self, runs: Sequence[Any]) -> list[RunRecord]:
        """The runs (`monitoring_runs` rows) in their order, each with every check: one query
        for the checks of up to 500 runs."""
        by_run: dict[str, list[dict[str, Any]]] = {run["id"]: [] for run in runs}
        ids = list(by_run)
        for first in range(0, len(ids), 500):
            result = self.connection.execute(
                select(monitoring_checks)
                .where(monitoring_checks.c.run_id.in_(ids[first : first + 500]))
                .order_by(monitoring_checks.c.run_id, monitoring_checks.c.position)
            )
            keys = list(result.keys())
            for values in result:
                stored = dict(zip(keys, values, strict=True))
                check = {k: v for k, v in stored.items() if k not in ("run_id", "actions")}
                actions = stored["actions"]
                check["actions"] = [] if actions == "[]" else json.loads(actions)
                check["details"] = _details(stored["details"])
                by_run[stored["run_id"]].append(check)
        return [
            RunRecord(
                id=run["id"],
                model=run["model"],
                version=run["version"],
                window=run["window_key"],
                measured_at=run["measured_at"],
                level=run["level"],
                actions=json.loads(run["actions"]),
                checks=by_run[run["id"]],
            )
            for run in runs
        ]

    # -- follow-up ---------------------------------------------------------------------------

    def mark_followed_up(self, run_id: str, at: datetime) -> None:
        """The run's every follow-up step was taken."""
        self.connection.execute(
            update(monitoring_runs)
            .where(monitoring_runs.c.id == run_id)
            .values(followed_up_at=format_time(at, "at"))
        )

    def is_followed_up(self, run_id: str) -> bool:
        return (
            self.connection.execute(
                select(monitoring_runs.c.followed_up_at).where(monitoring_runs.c.id == run_id)
            ).scalar_one()
            is not None
        )

    def step_taken(self, run_id: str, step: str) -> str | None:
        """The outcome of the run's follow-up `step` when already taken, else None."""
        return self.connection.execute(
            select(monitoring_followups.c.outcome).where(
                monitoring_followups.c.run_id == run_id, monitoring_followups.c.step == step
            )
        ).scalar_one_or_none()

    def mark_step(self, run_id: str, step: str, outcome: str, at: datetime) -> None:
        """Record that the follow-up `step` was taken (in the step's own unit of work)."""
        self.connection.execute(
            insert(monitoring_followups).values(
                run_id=run_id, step=step, outcome=outcome, done_at=format_time(at, "at")
            )
        )
