"""A model's production history rebuilt from its events: who served when, and why it changed.

A pure fold over recorded events (oldest first); the registry's tables are never read, so the
answer holds even for moments long past.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lucid.contracts.events import RecordedEvent, parse_time

_KINDS = {
    "EvidenceAttached": "evidence",
    "ModelPromoted": "promotion",
    "PromotionOverridden": "override",
    "ModelRolledBack": "rollback",
    "ModelFrozen": "freeze",
    "ModelUnfrozen": "unfreeze",
    "RollbackRefused": "rollback_refused",
}


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change in what serves production or in whether promotions are blocked."""

    at: datetime
    kind: str
    serving_before: int | None
    serving_after: int | None
    frozen_after: bool
    actor: str
    rationale: str
    detail: str
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "serving_before": self.serving_before,
            "serving_after": self.serving_after,
            "frozen_after": self.frozen_after,
            "actor": self.actor,
            "rationale": self.rationale,
            "detail": self.detail,
            "seq": self.seq,
        }


@dataclass(frozen=True, slots=True)
class ModelHistory:
    """The entries of one model's history up to a moment, and what served then."""

    name: str
    entries: tuple[HistoryEntry, ...]

    @property
    def serving(self) -> int | None:
        """The version serving production after the last entry (None: none served)."""
        return self.entries[-1].serving_after if self.entries else None

    @property
    def frozen(self) -> bool:
        return self.entries[-1].frozen_after if self.entries else False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "serving": self.serving,
            "frozen": self.frozen,
            "entries": [entry.to_dict() for entry in self.entries],
        }


def fold_history(
    name: str, events: Iterable[RecordedEvent], at: datetime | None = None
) -> ModelHistory:
    """The history of model `name` from its events, up to and including the moment `at`."""
    serving: int | None = None
    frozen = False
    entries: list[HistoryEntry] = []
    for event in events:
        kind = _KINDS.get(event.type)
        payload = event.payload
        if kind is None or payload.get("name") != name:
            continue
        moment = parse_time(event.occurred_at)
        if at is not None and moment > at:
            break
        before = serving
        if kind == "promotion":
            if payload["to_stage"] != "production":
                continue
            serving = int(payload["version"])
            detail = f"v{serving} entered production on {payload['basis']}: {payload['summary']}"
        elif kind == "evidence":
            detail = _evidence_detail(payload)
        elif kind == "override":
            detail = (
                f"{payload['approver']} overrode the evidence requirement for "
                f"v{payload['version']}"
                + (f" ({payload['evidence_problem']})" if payload.get("evidence_problem") else "")
            )
        elif kind == "rollback":
            serving = int(payload["to_version"])
            how = "automatically" if payload["automatic"] else "by hand"
            detail = f"rolled back {how} from v{payload['from_version']} to v{serving}"
        elif kind == "freeze":
            frozen = True
            detail = f"promotions frozen by {payload['source']}: {payload['reason']}"
        elif kind == "unfreeze":
            frozen = False
            detail = "promotions unfrozen"
        else:
            detail = f"rollback of v{payload['version']} refused ({payload['severity']}): " + str(
                payload["reason"]
            )
        entries.append(
            HistoryEntry(
                moment,
                kind,
                before,
                serving,
                frozen,
                event.actor,
                event.rationale,
                detail,
                event.seq,
            )
        )
    return ModelHistory(name, tuple(entries))


def _evidence_detail(payload: dict[str, Any]) -> str:
    """`external business evidence on churn_rate attached to v2: effect -0.02 [-0.03, -0.01],
    p = 0.001 (exp-42, digest 3f2a…)`; a record stored before origins existed is external."""
    record = payload["evidence"]
    origin = "external" if record.get("origin", "external") == "external" else "Lucid's"
    digest = f", digest {record['digest'][:12]}" if record.get("digest") else ""
    return (
        f"{origin} {record.get('kind', 'business')} evidence on {record['metric']} attached to "
        f"v{payload['version']}: effect {record['effect']:+.4g} "
        f"[{record['ci_low']:.4g}, {record['ci_high']:.4g}], p = {record['p_value']:.4g} "
        f"({record['source']}{digest})"
    )


@dataclass(frozen=True, slots=True)
class ProductionPeriod:
    """A stretch of time one version served production: from the entry that put it there
    (a promotion or a rollback) to the one that replaced it (None: it still serves)."""

    version: int
    start: datetime
    end: datetime | None
    entered_by: str
    ended_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "start": self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "entered_by": self.entered_by,
            "ended_by": self.ended_by,
        }


def production_periods(history: ModelHistory) -> list[ProductionPeriod]:
    """Which version served when, oldest first: a new period at each entry that changes the
    serving version."""
    periods: list[ProductionPeriod] = []
    for entry in history.entries:
        if entry.serving_after is None or entry.serving_after == entry.serving_before:
            continue
        if periods:
            last = periods[-1]
            periods[-1] = ProductionPeriod(
                last.version, last.start, entry.at, last.entered_by, entry.kind
            )
        periods.append(ProductionPeriod(entry.serving_after, entry.at, None, entry.kind, None))
    return periods
