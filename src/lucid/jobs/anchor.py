"""The event log anchored outside its database: signed checkpoints written, and the log
verified against them and against the state tables.

`checkpoint` verifies the whole chain (and any checkpoint the place already holds), then signs
its count and head and appends the statement. `verify` checks the chain, every checkpoint
given (signature, length, hash at its position) and the state tables against the fold of the
events; its `LogAudit` names the first problem in one sentence. `publish_if_due` is the
scheduler's part: a checkpoint every `every_events` new events or `every_minutes`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lucid.contracts.events import format_time, parse_time
from lucid.contracts.log_checkpoints import (
    Anchor,
    ListedCheckpoint,
    PublicKey,
    SignedCheckpoint,
    SigningKey,
    accept_checkpoints,
)
from lucid.contracts.log_state import StateFold, first_disagreement
from lucid.errors import IntegrityViolation, InvalidInput, NotFound
from lucid.ports.event_log import EventLog
from lucid.ports.log_checkpoints import CheckpointPlace, StoredState

CHAIN_ONLY = (
    "Without --checkpoint this proves only that the log agrees with itself: a log whose tail "
    "was cut, or rewritten with its chain recomputed, verifies too."
)


@dataclass(frozen=True)
class LogAudit:
    """What `verify` found: `problem` is the sentence naming the first one (None when ok)."""

    events: int
    checkpoints: int
    problem: str | None = None
    first_bad: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "checkpoints": self.checkpoints,
            "first_bad": self.first_bad,
            "reason": self.problem,
        }


@dataclass
class _Published:
    head_seq: int
    head_hash: str
    at: datetime

    def anchor(self) -> Anchor:
        label = f"the checkpoint this process last published ({format_time(self.at)})"
        return Anchor(self.head_seq, self.head_seq, self.head_hash, label)


class LogAnchor:
    """Checkpoints of one project's event log, and the log's verification against them."""

    def __init__(
        self,
        log: EventLog,
        *,
        project: str,
        stored_state: StoredState,
        place: Callable[[str], CheckpointPlace],
        signing_key: Callable[[str], SigningKey],
        clock: Callable[[], datetime],
        default_place: str | None = None,
        default_key: str | None = None,
        every_events: int = 1000,
        every_minutes: float = 60.0,
        altered_segments: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        self._log = log
        self._altered_segments = altered_segments
        self._project = project
        self._stored_state = stored_state
        self._place = place
        self._signing_key = signing_key
        self._clock = clock
        self.default_place = default_place
        self.default_key = default_key
        self._every_events = every_events
        self._every = timedelta(minutes=every_minutes)
        self._last: _Published | None = None

    def checkpoint(self, to: str | None = None, key: str | None = None) -> SignedCheckpoint:
        """Sign the log's count and head and append the statement to `to` (default: the
        setting); refused, writing nothing, when the log does not verify."""
        target = to or self.default_place
        if not target:
            raise InvalidInput(
                "to", "name where the checkpoint goes (--to FILE|URL or log_checkpoints.to)"
            )
        key_file = key or self.default_key
        if not key_file:
            raise InvalidInput(
                "key",
                "name the signing key file (--key FILE, log_checkpoints.key or "
                "LUCID_CHECKPOINT_KEY)",
            )
        signing = self._signing_key(key_file)
        place = self._place(target)
        anchors: list[Anchor] = []
        if place.kind != "webhook":
            listed = _readable(place)
            anchors, refusal = accept_checkpoints(
                listed, [*place.public_keys(), signing.public_key], self._project
            )
            if refusal is not None:
                raise IntegrityViolation(f"No checkpoint was written. {refusal}")
        if self._last is not None:
            anchors.append(self._last.anchor())
        verdict = self._log.verify(anchors)
        if not verdict.ok:
            raise IntegrityViolation(f"No checkpoint was written. {verdict.reason}")
        now = self._clock()
        signed = signing.sign(
            project=self._project,
            events=verdict.events,
            head_seq=verdict.events,
            head_hash=verdict.head_hash,
            at=format_time(now),
        )
        place.keep_public_key(signing.public_key)
        place.append(signed)
        self._last = _Published(verdict.events, verdict.head_hash, now)
        return signed

    def verify(
        self, checkpoints: Sequence[str] = (), public_keys: Sequence[PublicKey] = ()
    ) -> LogAudit:
        """The chain, the `checkpoints` (files or URLs), the state tables and the bytes of
        every prediction log segment, checked; the public keys given, else those kept beside
        each place, are the ones trusted."""
        listed: list[ListedCheckpoint] = []
        trusted = list(public_keys)
        for target in checkpoints:
            place = self._place(target)
            statements = place.read()
            if not statements:
                raise InvalidInput("checkpoint", f"{target} holds no checkpoint statement")
            listed += statements
            if not public_keys:
                trusted += place.public_keys()
        if listed and not trusted:
            raise InvalidInput(
                "public key", "give --public-key, or keep the public key beside the checkpoints"
            )
        anchors, refusal = accept_checkpoints(listed, trusted, self._project)
        if refusal is not None:
            return LogAudit(0, len(listed), refusal)
        head, stored = self._stored_state()
        fold = StateFold(until=head)
        verdict = self._log.verify(anchors, state=fold)
        if not verdict.ok:
            sentence = verdict.reason or "the chain does not verify"
            if verdict.first_bad is not None:
                sentence = f"The event chain is broken at event {verdict.first_bad}. {sentence}"
            return LogAudit(verdict.events, len(anchors), sentence, verdict.first_bad)
        disagreement = first_disagreement(fold.state, stored)
        if disagreement is not None:
            sentence = f"A state table disagrees with the log: {disagreement}"
            return LogAudit(verdict.events, len(anchors), sentence)
        altered = self._altered_segments()
        if altered:
            sentence = (
                f"{len(altered)} prediction log segment(s) are missing or no longer match "
                f"their registered SHA-256, first {altered[0]}"
            )
            return LogAudit(verdict.events, len(anchors), sentence)
        return LogAudit(verdict.events, len(anchors))

    def publish_if_due(self) -> SignedCheckpoint | None:
        """The scheduler's checkpoint, when one is configured and due: at the first tick,
        then after `every_events` new events or `every_minutes` with new events. A log
        shorter than, or diverging from, the last checkpoint is refused (IntegrityViolation,
        the tick's error) rather than signed."""
        if not self.default_place or not self.default_key:
            return None
        now = self._clock()
        if self._last is None:
            self._last = self._latest_published()
        last = self._last
        if last is not None:
            new_events = self._log.count() - last.head_seq
            if new_events == 0:
                return None
            if 0 < new_events < self._every_events and now - last.at < self._every:
                return None
        return self.checkpoint()  # a log shorter than the last one is refused there

    def _latest_published(self) -> _Published | None:
        place = self._place(self.default_place or "")
        if place.kind == "webhook":
            return None
        listed = _readable(place)
        if not listed:
            return None
        latest = max(listed, key=lambda item: item.signed.checkpoint.head_seq).signed.checkpoint
        return _Published(latest.head_seq, latest.head_hash, parse_time(latest.at))


def _readable(place: CheckpointPlace) -> list[ListedCheckpoint]:
    """The statements of a place that may not exist yet (no statements then)."""
    try:
        return place.read()
    except NotFound:
        return []
