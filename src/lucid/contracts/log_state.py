"""The state the event log says the tables hold, and the first place where they differ.

Tokens, model stages, freezes, feature statuses and approvals are each written with the
event that explains them, in one transaction. `fold_state` rebuilds them from the events
alone; `first_disagreement` compares that with what the tables hold and names the first
difference, so a row edited behind Lucid's back (a token un-revoked, a stage changed, a
freeze lifted) is named even though the chain itself still verifies.

Both sides are `LogState`: per kind of thing, a key → its fields as text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lucid.contracts.events import RecordedEvent

Fields = dict[str, str]

KINDS: tuple[tuple[str, str], ...] = (
    ("tokens", "token {0}"),
    ("stages", "model {0} v{1}"),
    ("freezes", "model {0}"),
    ("features", "feature {0}@{1}"),
    ("approvals", "feature {0}@{1}, team {2}'s approval"),
)
"""Each kind of state compared, in the order checked, with how a key of it is named."""


@dataclass
class LogState:
    """Tokens (id), stages and freezes of models ((name, version), name), feature statuses
    ((name, version)) and feature approvals ((name, version, team)), each as text fields."""

    tokens: dict[tuple[str, ...], Fields] = field(default_factory=dict)
    stages: dict[tuple[str, ...], Fields] = field(default_factory=dict)
    freezes: dict[tuple[str, ...], Fields] = field(default_factory=dict)
    features: dict[tuple[str, ...], Fields] = field(default_factory=dict)
    approvals: dict[tuple[str, ...], Fields] = field(default_factory=dict)

    def kind(self, name: str) -> dict[tuple[str, ...], Fields]:
        found: dict[tuple[str, ...], Fields] = getattr(self, name)
        return found


def token_fields(person: str, role: str, teams: Iterable[str], revoked: bool) -> Fields:
    """A token as compared: who, role, teams (sorted), revoked or live."""
    return {
        "person": person,
        "role": role,
        "teams": ", ".join(sorted(teams)) or "none",
        "state": "revoked" if revoked else "live",
    }


def freeze_fields(frozen: bool) -> Fields:
    return {"freeze": "frozen" if frozen else "not frozen"}


def _set(state: LogState, kind: str, key: tuple[str, ...], column: str, value: str) -> None:
    state.kind(kind).setdefault(key, {})[column] = value


def _token_created(state: LogState, p: Mapping[str, Any]) -> None:
    fields = token_fields(p["person"], p["role"], p["teams"], revoked=False)
    state.tokens[(p["token_id"],)] = fields


def _token_revoked(state: LogState, p: Mapping[str, Any]) -> None:
    _set(state, "tokens", (p["token_id"],), "state", "revoked")


def _model_registered(state: LogState, p: Mapping[str, Any]) -> None:
    state.freezes.setdefault((p["name"],), freeze_fields(False))
    _set(state, "stages", (p["name"], str(p["version"])), "stage", "candidate")


def _model_promoted(state: LogState, p: Mapping[str, Any]) -> None:
    if p.get("replaced_version") is not None:
        _set(state, "stages", (p["name"], str(p["replaced_version"])), "stage", "archived")
    _set(state, "stages", (p["name"], str(p["version"])), "stage", p["to_stage"])


def _model_archived(state: LogState, p: Mapping[str, Any]) -> None:
    _set(state, "stages", (p["name"], str(p["version"])), "stage", "archived")


def _model_rolled_back(state: LogState, p: Mapping[str, Any]) -> None:
    _set(state, "stages", (p["name"], str(p["from_version"])), "stage", "archived")
    _set(state, "stages", (p["name"], str(p["to_version"])), "stage", "production")


def _model_frozen(state: LogState, p: Mapping[str, Any]) -> None:
    state.freezes[(p["name"],)] = freeze_fields(True)


def _model_unfrozen(state: LogState, p: Mapping[str, Any]) -> None:
    state.freezes[(p["name"],)] = freeze_fields(False)


def _feature_status(status: str) -> Callable[[LogState, Mapping[str, Any]], None]:
    def apply(state: LogState, p: Mapping[str, Any]) -> None:
        _set(state, "features", (p["name"], p["version"]), "status", status)

    return apply


def _approval_given(state: LogState, p: Mapping[str, Any]) -> None:
    state.approvals[(p["name"], p["version"], p["team"])] = {"person": p["person"]}


_FOLDS: dict[str, Callable[[LogState, Mapping[str, Any]], None]] = {
    "TokenCreated": _token_created,
    "TokenRevoked": _token_revoked,
    "ModelRegistered": _model_registered,
    "ModelPromoted": _model_promoted,
    "ModelArchived": _model_archived,
    "ModelRolledBack": _model_rolled_back,
    "ModelFrozen": _model_frozen,
    "ModelUnfrozen": _model_unfrozen,
    "FeatureProposed": _feature_status("proposed"),
    "LegacyFeatureImported": _feature_status("legacy"),
    "FeatureApproved": _feature_status("approved"),
    "FeatureDeprecated": _feature_status("deprecated"),
    "FeatureApprovalGiven": _approval_given,
}
"""Event type → how it changes the state (payload fields as the event classes name them)."""

FOLDED_TYPES = frozenset(_FOLDS)
"""The event types `fold_state` reads; the others change none of these tables."""


class StateFold:
    """A fold over events in chain order: the state their effects add up to. Events after
    position `until` (when given) are left out."""

    def __init__(self, until: int | None = None) -> None:
        self.state = LogState()
        self._until = until

    def feed(self, event: RecordedEvent) -> None:
        self.feed_row((event.seq, event.id, event.type, None, None, None, None, event.payload_json))

    def feed_row(self, row: tuple[Any, ...]) -> None:
        """`feed` for a stored row in `RecordedEvent` field order."""
        fold = _FOLDS.get(row[2])
        if fold is not None and (self._until is None or row[0] <= self._until):
            fold(self.state, json.loads(row[7]))


def fold_state(events: Iterable[RecordedEvent]) -> LogState:
    """The state the events say the tables hold."""
    folder = StateFold()
    for event in events:
        folder.feed(event)
    return folder.state


def first_disagreement(logged: LogState, stored: LogState) -> str | None:
    """The sentence naming the first thing whose table row differs from what the log says
    (kinds in `KINDS` order, keys sorted), or None when they agree."""
    for kind, naming in KINDS:
        said, held = logged.kind(kind), stored.kind(kind)
        for key in sorted(set(said) | set(held)):
            name = naming.format(*key)
            if key not in held:
                return f"{name}: the log records it but the table has no row for it."
            if key not in said:
                return f"{name}: the table holds it but no event in the log records it."
            for column, value in said[key].items():
                table_value = held[key].get(column)
                if table_value != value:
                    return f"{name}: {column} in table is {table_value}, the log says {value}."
    return None
