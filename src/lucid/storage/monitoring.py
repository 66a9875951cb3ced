"""Reference profiles, policies and monitoring runs in the metadata database (SQLite or
PostgreSQL).

`SqlMonitoringRepository` works on the connection of a unit of work (`uow.monitoring`); it
also holds the runs of `lucid.storage.monitoring_runs` and the alerts and incidents of
`SqlAlertRepository`. A profile is written once per model version.
`SqlMonitoringStore` reads them outside a unit of work.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from lucid.contracts.events import format_time
from lucid.contracts.validity.policy import MonitoringPolicy
from lucid.contracts.validity.profiles import ReferenceProfile
from lucid.contracts.validity.records import RunRecord
from lucid.errors import Conflict, NotFound
from lucid.storage.database import Database
from lucid.storage.monitoring_runs import SqlRunRepository, canonical
from lucid.storage.tables import monitoring_policies, monitoring_profiles


class SqlMonitoringRepository(SqlRunRepository):
    """Profiles and policies (and, inherited, runs with their follow-up steps, alerts and
    incidents) on one transaction's connection."""

    # -- profiles ----------------------------------------------------------------------------

    def save_profile(
        self, model: str, version: str, profile: ReferenceProfile, *, created_at: datetime
    ) -> bool:
        """Store the profile of `model` `version`; True when stored, False when the same
        profile was already there. A different profile for a profiled version is refused, but
        for the multivariate part: a stored profile without it is completed by the same profile
        with it (its stored form, and so its fingerprint, change), and the same profile without
        it is already there when the stored one has it."""
        text = canonical(profile.to_dict())
        fingerprint = hashlib.sha256(text.encode()).hexdigest()
        where = (monitoring_profiles.c.model == model, monitoring_profiles.c.version == version)
        row = self.connection.execute(
            select(monitoring_profiles.c.fingerprint, monitoring_profiles.c.profile).where(*where)
        ).one_or_none()
        stored = None if row is None else row.fingerprint
        if stored == fingerprint:
            return False
        if row is not None and profile.multivariate is not None:
            without = canonical(replace(profile, multivariate=None).to_dict())
            if hashlib.sha256(without.encode()).hexdigest() == stored:
                self.connection.execute(
                    update(monitoring_profiles)
                    .where(*where)
                    .values(fingerprint=fingerprint, profile=text)
                )
                return True
        if row is not None and profile.multivariate is None:
            kept = {k: v for k, v in json.loads(row.profile).items() if k != "multivariate"}
            if canonical(kept) == text:
                return False
        if stored is not None:
            raise Conflict(
                f"Model {model} version {version} already has a different reference "
                "profile; a profile is computed once per model version (register a new "
                "version to change its reference)."
            )
        self.connection.execute(
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
        text = self.connection.execute(
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

    # -- policies ----------------------------------------------------------------------------

    def stored_policy(self, model: str) -> MonitoringPolicy | None:
        """The policy stored for `model`, or None when it has none (the default applies)."""
        text = self.connection.execute(
            select(monitoring_policies.c.policy).where(monitoring_policies.c.model == model)
        ).scalar_one_or_none()
        return None if text is None else MonitoringPolicy.from_mapping(json.loads(text))

    def policy_models(self) -> list[str]:
        return list(
            self.connection.execute(
                select(monitoring_policies.c.model).order_by(monitoring_policies.c.model)
            ).scalars()
        )

    def save_policy(self, policy: MonitoringPolicy, *, by: str, at: datetime) -> None:
        """Store `policy` in place of the model's stored one, if any."""
        self.connection.execute(
            delete(monitoring_policies).where(monitoring_policies.c.model == policy.model)
        )
        self.connection.execute(
            insert(monitoring_policies).values(
                model=policy.model,
                policy=canonical(policy.to_mapping()),
                updated_at=format_time(at, "at"),
                updated_by=by,
            )
        )


class SqlMonitoringStore:
    """Reads of profiles, policies and runs, each in its own transaction (digests, listings,
    benchmarks)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _read(self) -> AbstractContextManager[Connection]:
        return self.db.transaction()

    def save_profile(
        self, model: str, version: str, profile: ReferenceProfile, *, created_at: datetime
    ) -> bool:
        """`SqlMonitoringRepository.save_profile` under the model's profile lock, recording no
        event (benchmarks and storage tests; use cases save it in a unit of work)."""
        with self.db.locked_transaction(f"monitoring_profile:{model}") as connection:
            return SqlMonitoringRepository(connection).save_profile(
                model, version, profile, created_at=created_at
            )

    def load_profile(self, model: str, version: str) -> ReferenceProfile:
        with self._read() as connection:
            return SqlMonitoringRepository(connection).load_profile(model, version)

    def stored_policy(self, model: str) -> MonitoringPolicy | None:
        with self._read() as connection:
            return SqlMonitoringRepository(connection).stored_policy(model)

    def policy_models(self) -> list[str]:
        with self._read() as connection:
            return SqlMonitoringRepository(connection).policy_models()

    def find_run(self, model: str, window: str) -> RunRecord | None:
        with self._read() as connection:
            return SqlMonitoringRepository(connection).find_run(model, window)

    def runs_starting_in(self, model: str, start: str, end: str) -> list[RunRecord]:
        with self._read() as connection:
            return SqlMonitoringRepository(connection).runs_starting_in(model, start, end)

    def runs(self, model: str, *, limit: int = 200) -> list[RunRecord]:
        with self._read() as connection:
            return SqlMonitoringRepository(connection).runs(model, limit=limit)

    def pending_runs(self, model: str | None = None) -> list[tuple[RunRecord, MonitoringPolicy]]:
        with self._read() as connection:
            return SqlMonitoringRepository(connection).pending_runs(model)
