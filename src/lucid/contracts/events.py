"""The event log's rules: typed domain events, their canonical form and the hash chain.

Every decision in Lucid is recorded as an event. An event is sealed with a SHA-256 hash over a
canonical serialisation of all its fields, including the hash of the event before it, so that
changing, removing, inserting or reordering any stored event breaks the chain at that event.
This module is pure: storage adapters call `seal` and `ChainVerifier`; nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from lucid.contracts.identities import normalise_identity
from lucid.contracts.log_checkpoints import Anchor, truncation
from lucid.contracts.names import check_length
from lucid.errors import InvalidInput, NotFound

GENESIS_HASH = "0" * 64
"""The `prev_hash` of the first event of every chain."""

HASH_SCHEME = "lucid-event-v1"
"""Names the canonical serialisation; part of every hash so a future scheme cannot collide."""

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# Built once: json.dumps with non-default options builds a new encoder on every call.
_PAYLOAD_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
SUBJECT_MAX_LENGTH = 300
"""Characters in a subject written `kind:id`."""
_SUBJECT_KIND = re.compile(r"[a-z][a-z0-9_]*")
_EVENT_TYPE_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")


def format_time(moment: datetime, field: str = "time") -> str:
    """The canonical text of an aware datetime: UTC, microseconds, fixed width, sortable."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            field, f"must carry a time zone (got the naive time {moment.isoformat()})"
        )
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(
            field, f"{moment.isoformat()} is before year 1 or after 9999 once in UTC"
        ) from None
    # isoformat pads the year to four digits, where strftime writes year 999 as "999".
    return f"{utc.replace(tzinfo=None).isoformat(timespec='microseconds')}Z"


def parse_time(text: str) -> datetime:
    """The aware UTC datetime of a canonical time text."""
    if len(text) == 27 and text[10] == "T" and text[-1] == "Z":  # the canonical form: fast path
        return datetime.fromisoformat(text)
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Subject:
    """What an event is about: a kind and an id, written `kind:id` (e.g. `model:churn@3`)."""

    kind: str
    id: str

    def __post_init__(self) -> None:
        if not _SUBJECT_KIND.fullmatch(self.kind):
            raise InvalidInput(
                "subject",
                f"kind {self.kind!r} must be lower-case letters, digits or '_' "
                "and start with a letter",
            )
        if not self.id or self.id.strip() != self.id or any(c.isspace() for c in self.id):
            raise InvalidInput("subject", f"id {self.id!r} must be non-empty with no spaces")
        check_length(str(self), "subject", SUBJECT_MAX_LENGTH)

    @classmethod
    def parse(cls, text: str) -> Subject:
        """Read `kind:id`; the id may itself contain ':'."""
        kind, sep, ident = text.partition(":")
        if not sep:
            raise InvalidInput("subject", f"{text!r} must be written kind:id, e.g. model:churn@3")
        return cls(kind, ident)

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


class DomainEvent:
    """Base of the typed events; subclasses are dataclasses registered with `@event_type`.

    The dataclass fields are the event's payload. Names are in the past tense
    (`ModelPromoted`, `FeatureApproved`): an event states what happened.
    """

    event_type: ClassVar[str] = ""

    def payload(self) -> dict[str, Any]:
        """The JSON-ready payload of this event."""
        if not dataclasses.is_dataclass(self):
            raise TypeError(f"{type(self).__name__} must be a dataclass")
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls: type[E], payload: Mapping[str, Any]) -> E:
        """Rebuild a typed event from a stored payload."""
        fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(payload) - fields)
        if unknown:
            raise InvalidInput("payload", f"{cls.event_type} has no field(s) {', '.join(unknown)}")
        return cls(**payload)


E = TypeVar("E", bound=DomainEvent)
_EVENT_TYPES: dict[str, type[DomainEvent]] = {}


def event_type(name: str) -> Callable[[type[E]], type[E]]:
    """Register a dataclass as the event type `name`; each name may be registered once."""
    if not _EVENT_TYPE_NAME.fullmatch(name):
        raise ValueError(f"event type {name!r} must be PascalCase, e.g. ModelPromoted")

    def register(cls: type[E]) -> type[E]:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"event type {name} must be a dataclass")
        existing = _EVENT_TYPES.get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"event type {name} is already registered by {existing.__qualname__}")
        cls.event_type = name
        _EVENT_TYPES[name] = cls
        return cls

    return register


def event_class(name: str) -> type[DomainEvent]:
    """The class of event type `name` among those registered so far (every type Lucid
    defines once `lucid.contracts.catalogue` is imported)."""
    try:
        return _EVENT_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(_EVENT_TYPES)) or "none"
        raise NotFound(f"Event type {name!r} is not registered (known types: {known}).") from None


def registered_event_types() -> list[str]:
    """The names of the event types registered so far, sorted."""
    return sorted(_EVENT_TYPES)


def canonical_payload(payload: Mapping[str, Any]) -> str:
    """The canonical JSON of a payload: sorted keys, no spaces, UTF-8, finite numbers only."""
    _reject_non_finite(payload, "payload")
    try:
        return _PAYLOAD_ENCODER.encode(payload)
    except TypeError as error:
        raise InvalidInput("payload", f"must hold only JSON values ({error})") from None


def _reject_non_finite(value: Any, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(path, f"must be a finite number, not {value}")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(path, f"keys must be strings, not {key!r}")
            _reject_non_finite(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _reject_non_finite(item, f"{path}[{index}]")


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event not yet recorded: what a use case hands to the event log."""

    type: str
    actor: str
    subject: Subject
    payload: Mapping[str, Any]
    rationale: str
    occurred_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.type not in _EVENT_TYPES:
            event_class(self.type)  # raises the sentence listing known types
        # Who did it is stored in its normal form, the form four-eyes rules compare.
        object.__setattr__(self, "actor", normalise_identity(self.actor, "actor"))
        if not self.rationale.strip():
            raise InvalidInput("rationale", "must say why; every decision keeps its rationale")
        if "\x00" in self.rationale:  # PostgreSQL's text cannot hold it; SQLite's would
            raise InvalidInput("rationale", "must not contain the NUL character (0x00)")
        if self.occurred_at is not None:
            format_time(self.occurred_at, "occurred_at")

    @classmethod
    def of(
        cls,
        event: DomainEvent,
        *,
        actor: str,
        subject: Subject,
        rationale: str,
        occurred_at: datetime | None = None,
    ) -> NewEvent:
        """Wrap a typed domain event with who, what about, why and when."""
        if not event.event_type:
            raise TypeError(f"{type(event).__name__} is not registered with @event_type")
        return cls(event.event_type, actor, subject, event.payload(), rationale, occurred_at)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored: sealed with its position, its predecessor's hash and its own hash.

    Times are canonical UTC texts (see `format_time`), exactly the bytes that were hashed.
    """

    seq: int
    id: str
    type: str
    occurred_at: str
    recorded_at: str
    actor: str
    subject: str
    payload_json: str
    rationale: str
    prev_hash: str
    hash: str

    @property
    def payload(self) -> dict[str, Any]:
        """The decoded payload."""
        decoded: dict[str, Any] = json.loads(self.payload_json)
        return decoded

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view, with the payload decoded."""
        return {
            "seq": self.seq,
            "id": self.id,
            "type": self.type,
            "occurred_at": self.occurred_at,
            "recorded_at": self.recorded_at,
            "actor": self.actor,
            "subject": self.subject,
            "payload": self.payload,
            "rationale": self.rationale,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def event_hash(
    seq: int,
    id: str,
    type: str,
    occurred_at: str,
    recorded_at: str,
    actor: str,
    subject: str,
    payload_json: str,
    rationale: str,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) over the canonical serialisation of an event's fields.

    The header is a compact JSON array (control characters escaped), then the record
    separator U+001E, then the canonical payload text: unambiguous and fast to rebuild.
    """
    header = json.dumps(
        [
            HASH_SCHEME,
            seq,
            id,
            type,
            occurred_at,
            recorded_at,
            actor,
            subject,
            rationale,
            prev_hash,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{header}\x1e{payload_json}".encode()).hexdigest()


def seal(
    new: NewEvent, *, seq: int, id: str, recorded_at: datetime, prev_hash: str
) -> RecordedEvent:
    """Give a new event its place in the chain and its hash."""
    recorded = format_time(recorded_at, "recorded_at")
    occurred = format_time(new.occurred_at, "occurred_at") if new.occurred_at else recorded
    payload_json = canonical_payload(new.payload)
    subject = str(new.subject)
    digest = event_hash(
        seq,
        id,
        new.type,
        occurred,
        recorded,
        new.actor,
        subject,
        payload_json,
        new.rationale,
        prev_hash,
    )
    return RecordedEvent(
        seq,
        id,
        new.type,
        occurred,
        recorded,
        new.actor,
        subject,
        payload_json,
        new.rationale,
        prev_hash,
        digest,
    )


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    """The result of verifying a chain: ok, how many events were read, the first bad one."""

    ok: bool
    events: int
    first_bad: str | None = None
    reason: str | None = None
    head_hash: str = GENESIS_HASH
    """The hash of the last event read that verified (what a checkpoint signs)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "first_bad": self.first_bad,
            "reason": self.reason,
        }


class ChainVerifier:
    """A fold over events in chain order that stops at the first broken link or hash.

    With `anchors` (accepted checkpoints) it also fails where the event at an anchor's
    position has another hash, and when the log ends before an anchor's count.
    """

    def __init__(self, anchors: Iterable[Anchor] = ()) -> None:
        self._anchors = list(anchors)
        self._anchor_at = {anchor.head_seq: anchor for anchor in self._anchors}
        self._count = 0
        self._expected_seq = 1
        self._prev_hash = GENESIS_HASH
        self._first_bad: str | None = None
        self._reason: str | None = None

    @property
    def broken(self) -> bool:
        return self._first_bad is not None

    def feed(self, event: RecordedEvent) -> bool:
        """Check one more event; False once the chain is broken (later events are not read)."""
        return self.feed_row(
            (
                event.seq,
                event.id,
                event.type,
                event.occurred_at,
                event.recorded_at,
                event.actor,
                event.subject,
                event.payload_json,
                event.rationale,
                event.prev_hash,
                event.hash,
            )
        )

    def feed_row(self, row: tuple[Any, ...]) -> bool:
        """`feed` for a stored row in `RecordedEvent` field order (skips building the object)."""
        if self._first_bad is not None:
            return False
        seq, id, type, occurred, recorded, actor, subject, payload, rationale, prev, digest = row
        self._count += 1
        if seq != self._expected_seq:
            return self._fail(
                id,
                f"Event {id} is at position {seq} where position {self._expected_seq} was "
                "expected: an event before it was removed or inserted.",
            )
        if prev != self._prev_hash:
            return self._fail(
                id,
                f"Event {id} (position {seq}) links to previous hash {prev[:12]}… but the event "
                f"before it has hash {self._prev_hash[:12]}…: the chain was rewritten before "
                "this event.",
            )
        recomputed = event_hash(
            seq, id, type, occurred, recorded, actor, subject, payload, rationale, prev
        )
        if recomputed != digest:
            return self._fail(
                id,
                f"Event {id} (position {seq}, {type}) does not match its hash: its content was "
                "changed after it was recorded.",
            )
        anchor = self._anchor_at.get(seq)
        if anchor is not None and digest != anchor.head_hash:
            return self._fail(
                id,
                f"Event {id} (position {seq}) has hash {digest[:12]}… but {anchor.label} "
                f"signed {anchor.head_hash[:12]}… for that position: the log was rewritten at "
                "or before it and its chain recomputed.",
            )
        self._expected_seq += 1
        self._prev_hash = digest
        return True

    def _fail(self, event_id: str, reason: str) -> bool:
        self._first_bad = event_id
        self._reason = reason
        return False

    def verdict(self) -> ChainVerdict:
        """The verdict on the events fed so far (all of the log, for a truncation check)."""
        if self._first_bad is None:
            cut = truncation(self._anchors, self._count)
            if cut is not None:
                return ChainVerdict(False, self._count, None, cut, self._prev_hash)
        return ChainVerdict(
            self._first_bad is None, self._count, self._first_bad, self._reason, self._prev_hash
        )


def verify_chain(events: Iterable[RecordedEvent]) -> ChainVerdict:
    """Verify events given in chain order; the verdict names the first bad event."""
    verifier = ChainVerifier()
    for event in events:
        if not verifier.feed(event):
            break
    return verifier.verdict()


@event_type("ProjectInitialised")
@dataclass(frozen=True)
class ProjectInitialised(DomainEvent):
    """A Lucid project was created."""

    name: str
    lucid_version: str


@event_type("DecisionRecorded")
@dataclass(frozen=True)
class DecisionRecorded(DomainEvent):
    """A decision a person recorded by hand (`lucid events record`), with its rationale."""

    title: str
    decision: str
