"""What `run` and `runs` answer: a run with what followed it, and pages of stored runs."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lucid.contracts.events import parse_time
from lucid.contracts.validity.evaluation import PolicyEvaluation
from lucid.contracts.validity.records import IncidentRecord, RunRecord
from lucid.contracts.value import validate_model_name
from lucid.errors import InvalidInput
from lucid.monitoring.alerts import AlertOutcome
from lucid.ports.unit_of_work import UnitsOfWork

if TYPE_CHECKING:
    from lucid.monitoring.actions import ActionResult


@dataclass(frozen=True, slots=True)
class RunReport:
    """A run and what followed: the stored record, whether this call made it, the graded
    evaluation (None for a window recorded before), alerts, actions and the incident.
    `resumed` is True when this call finished the follow-up of a run stored by a call that
    died before taking its alerts, actions or incident; what this call took is reported."""

    record: RunRecord
    created: bool
    evaluation: PolicyEvaluation | None = None
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


def run_cursor(run: RunRecord) -> str:
    """An opaque cursor: the run's (measured time, id) key, base64url-encoded."""
    return base64.urlsafe_b64encode(f"{run.measured_at}|{run.id}".encode()).decode()


def run_key(cursor: str) -> tuple[str, str]:
    """The (measured time, id) key of a cursor `run_cursor` made."""
    try:
        measured_at, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        parse_time(measured_at)
    except (ValueError, UnicodeError):
        raise InvalidInput(
            "cursor", f"{cursor!r} is not a cursor this API returned (use next_cursor)"
        ) from None
    return measured_at, run_id


def page_of_runs(
    uows: UnitsOfWork, model: str | None, *, cursor: str | None, limit: int
) -> RunPage:
    """Stored runs newest first, each with every check; `cursor` is the `next_cursor` of
    the page before (None for the first page)."""
    if model is not None:
        validate_model_name(model)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 500:
        raise InvalidInput("limit", f"must be a whole number from 1 to 500, not {limit!r}")
    before = None if cursor is None else run_key(cursor)
    with uows.read() as uow:
        found = uow.monitoring.runs_page(model, before=before, limit=limit)
    last = found[-1] if len(found) == limit else None
    return RunPage(tuple(found), None if last is None else run_cursor(last))
