"""The port of the stored monitoring: what the use cases read and write in a unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from lucid.contracts.validity.evaluation import PolicyEvaluation
from lucid.contracts.validity.policy import MonitoringPolicy
from lucid.contracts.validity.profiles import ReferenceProfile
from lucid.contracts.validity.records import AlertRecord, IncidentRecord, RunRecord

if TYPE_CHECKING:
    import pyarrow as pa

    from lucid.ports.window_scan import SegmentScan

FEATURE_PREFIX = "feature."
"""A feature's column in a columnar batch of predictions: `feature.<name>`."""


class MonitoringRepository(Protocol):
    """Reference profiles, policies, monitoring runs and their checks, the follow-up steps a
    run took, its alerts and delivery attempts, and the incidents runs open."""

    # -- profiles and policies ---------------------------------------------------------------

    def save_profile(
        self, model: str, version: str, profile: ReferenceProfile, *, created_at: datetime
    ) -> bool:
        """True when stored, False when the same profile was there; a different one is
        refused."""
        ...

    def load_profile(self, model: str, version: str) -> ReferenceProfile: ...

    def stored_policy(self, model: str) -> MonitoringPolicy | None: ...

    def policy_models(self) -> list[str]: ...

    def save_policy(self, policy: MonitoringPolicy, *, by: str, at: datetime) -> None: ...

    # -- runs --------------------------------------------------------------------------------

    def add_run(
        self,
        policy: MonitoringPolicy,
        version: str,
        window: str,
        evaluation: PolicyEvaluation,
        *,
        measured_at: datetime,
    ) -> RunRecord: ...

    def find_run(self, model: str, window: str) -> RunRecord | None: ...

    def get_run(self, run_id: str) -> RunRecord:
        """The run of this id or id prefix (`lucid.contracts.id_prefix`)."""
        ...

    def pending_runs(
        self, model: str | None = None
    ) -> list[tuple[RunRecord, MonitoringPolicy]]: ...

    def runs_starting_in(self, model: str, start: str, end: str) -> list[RunRecord]: ...

    def runs_page(
        self, model: str | None, *, before: tuple[str, str] | None, limit: int
    ) -> list[RunRecord]: ...

    def runs(self, model: str, *, limit: int = 200) -> list[RunRecord]: ...

    def check_history(
        self, model: str, version: str, before: str, *, limit: int = 200
    ) -> list[list[dict[str, Any]]]:
        """The stored checks of the latest `limit` runs of (model, version) with a window
        before `before`, one list per run, oldest first."""
        ...

    def mark_followed_up(self, run_id: str, at: datetime) -> None: ...

    def step_taken(self, run_id: str, step: str) -> str | None:
        """The outcome of the run's follow-up `step` when already taken, else None."""
        ...

    def mark_step(self, run_id: str, step: str, outcome: str, at: datetime) -> None: ...

    # -- alerts ------------------------------------------------------------------------------

    def add_alert(self, alert: AlertRecord) -> None: ...

    def alert_for(self, run_id: str, target: str) -> AlertRecord | None: ...

    def get_alert(self, alert_id: str) -> AlertRecord:
        """The alert of this id or id prefix (`lucid.contracts.id_prefix`)."""
        ...

    def alerts(
        self, model: str | None = None, *, unacknowledged: bool = False
    ) -> list[AlertRecord]: ...

    def acknowledge(self, alert_id: str, by: str, at: str) -> None: ...

    def step_up(self, alert_id: str, from_step: int, level: str, at: str) -> bool:
        """False when another process moved or acknowledged the alert first."""
        ...

    def attempts_made(self, alert_id: str, step: int) -> dict[str, tuple[int, bool]]: ...

    def add_attempt(self, values: dict[str, Any]) -> None: ...

    def deliveries(self, alert_id: str) -> list[dict[str, Any]]: ...

    # -- incidents ---------------------------------------------------------------------------

    def open_incident(self, model: str) -> IncidentRecord | None: ...

    def incidents(self, model: str | None = None) -> list[IncidentRecord]: ...

    def add_incident(self, incident: IncidentRecord) -> None: ...

    def update_incident(self, incident_id: str, values: dict[str, Any]) -> bool:
        """False when the incident was closed meanwhile (it is left as it is)."""
        ...


class MonitoringStore(Protocol):
    """Reads of profiles, policies and runs, each in its own transaction (digests, listings);
    `save_profile` stores a profile under the model's profile lock without an event."""

    def save_profile(
        self, model: str, version: str, profile: ReferenceProfile, *, created_at: datetime
    ) -> bool: ...

    def load_profile(self, model: str, version: str) -> ReferenceProfile: ...

    def stored_policy(self, model: str) -> MonitoringPolicy | None: ...

    def policy_models(self) -> list[str]: ...

    def find_run(self, model: str, window: str) -> RunRecord | None: ...

    def runs_starting_in(self, model: str, start: str, end: str) -> list[RunRecord]: ...

    def runs(self, model: str, *, limit: int = 200) -> list[RunRecord]: ...

    def pending_runs(
        self, model: str | None = None
    ) -> list[tuple[RunRecord, MonitoringPolicy]]: ...


class LoggedPrediction(Protocol):
    """One logged prediction of a window with its outcome (`label`), if one arrived; times
    canonical UTC text, `features` the JSON text of name → value."""

    @property
    def id(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def entity(self) -> str: ...

    @property
    def served_at(self) -> str: ...

    @property
    def features(self) -> str: ...

    @property
    def score(self) -> float: ...

    @property
    def arm(self) -> str | None: ...

    @property
    def label(self) -> int | None: ...


class PredictionLog(Protocol):
    """Predictions served and outcomes observed, per model, written in bulk.

    Two stores make one log: rows of the metadata database (the serving path and small
    batches) and columnar segments (batches of at least `segment_rows` predictions, in one
    column per feature); every read covers both."""

    @property
    def segment_rows(self) -> int | None:
        """The smallest batch written as a columnar segment; None when the log has none."""
        ...

    def insert_predictions(
        self, rows: Sequence[Mapping[str, Any]], *, check_ids: Sequence[str] = ()
    ) -> str | None:
        """Insert validated prediction rows at once; an existing id refuses all. With
        `check_ids`, the first of them already logged in either store is returned and nothing
        is stored, checked atomically with the write."""
        ...

    def sealable_days(self, before: str, model: str | None = None) -> list[tuple[str, str]]:
        """(model, UTC day `YYYY-MM-DD`) of the rows served before `before` (UTC text) that a
        seal may move into segments, oldest first."""
        ...

    def sealable_rows(self, model: str, day: str, before: str, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` of those rows of `model` served on `day`, oldest first, as
        `insert_predictions` takes them."""
        ...

    def seal(self, model: str, table: pa.Table) -> int:
        """Store `table` (rows of `model` of one UTC day in a segment's columns) as one
        segment and delete those rows, in one transaction; the rows sealed, 0 when some are
        no longer rows (nothing changed)."""
        ...

    def append_predictions(
        self, model: str, batches: Iterable[pa.Table], *, check_ids: bool
    ) -> str | None:
        """Store validated columnar batches of `model` (`id`, `version`, `entity`,
        `served_at` (a UTC timestamp in microseconds, no zone), `score`, `arm`,
        `feature.<name>`...) as segments, all or none. With `check_ids`, the first id
        already logged (or in an earlier batch), if any, is returned and nothing is
        stored."""
        ...

    def existing_ids(self, ids: Iterable[str]) -> set[str]: ...

    def predictions_by_id(self, model: str, ids: Iterable[str]) -> dict[str, str]: ...

    def latest_before(self, model: str, wanted: Sequence[tuple[str, str, str]]) -> list[str | None]:
        """Per (entity, earliest, latest) served-at bounds, the id of the entity's latest
        prediction in them, or None."""
        ...

    def predictions_among(self, model: str, ids: pa.Array) -> pa.Array:
        """The ids among `ids` (unique text) of logged predictions of `model`."""
        ...

    def outcomes_among(self, model: str, ids: pa.Array) -> pa.Table:
        """The outcomes already logged (`prediction_id`, `label`) of `model` among `ids`."""
        ...

    def append_outcomes(self, model: str, table: pa.Table) -> None:
        """Store new outcomes of `model` (`prediction_id`, `label`, `observed_at`,
        `logged_at`: canonical UTC text) in one transaction."""
        ...

    def outcome_lock(self) -> AbstractContextManager[None]:
        """Held while outcomes are checked and stored, so no other writer or seal stores an
        outcome of the same prediction in between."""
        ...

    def outcomes_of(self, ids: Iterable[str]) -> dict[str, int]:
        """Prediction id → label already logged (in either store), for the ids that have one."""
        ...

    def sealable_outcome_days(self, before: str, model: str | None = None) -> list[tuple[str, str]]:
        """(model, UTC day) of the outcome rows logged before `before` that a seal may move
        into outcome segments, oldest first."""
        ...

    def sealable_outcomes(
        self, model: str, day: str, before: str, limit: int
    ) -> list[dict[str, Any]]:
        """Up to `limit` of those outcome rows of `model` logged on `day`, oldest first."""
        ...

    def seal_outcomes(self, model: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Store outcome `rows` of `model` as one outcome segment and delete them, in one
        transaction; the rows sealed, 0 when some are no longer rows (nothing changed)."""
        ...

    def sealable_served_days(self, before: str) -> list[str]:
        """The UTC days (`YYYY-MM-DD`) of the served feature values served before `before`
        that a seal may move into served segments, oldest first."""
        ...

    def sealable_served(self, day: str, before: str, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` of those served values served on `day`, by id, as stored."""
        ...

    def seal_served(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Store served value `rows` (of one UTC day) as one served segment and delete them,
        in one transaction; the rows sealed, 0 when some are no longer rows (nothing
        changed)."""
        ...

    def insert_outcomes(
        self, rows: Sequence[Mapping[str, Any]], connection: Any | None = None
    ) -> None:
        """Store outcome rows, in the transaction of `connection` (a unit of work's) if given."""
        ...

    def arms_of(self, model: str, ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """Prediction id → (entity, arm) for the ids of `model` that exist."""
        ...

    def window_parts(
        self, model: str, start: str, end: str, version: str | None, *, labels: bool
    ) -> list[pa.Table]:
        """Predictions of `model` served in [start, end) (of `version` when given) as Arrow
        tables of `score`, `label` (the outcome, when `labels`) and either `features` (JSON
        text per row) or `feature.<name>` columns; the parts together hold the window."""
        ...

    def window_scan(
        self, model: str, start: str, end: str, version: str | None, *, labels: bool
    ) -> tuple[pa.Table, SegmentScan | None]:
        """The window's rows as `window_parts` gives them (`features` as JSON text) and its
        segments unread, for an engine to scan (None when no segment overlaps the window)."""
        ...

    def latest_version(self, model: str, start: str, end: str) -> str | None: ...

    def counts(self, model: str) -> tuple[int, int]:
        """(predictions, outcomes) logged for `model`, rows and segments."""
        ...
