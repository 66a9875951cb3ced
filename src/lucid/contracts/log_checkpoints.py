"""Checkpoints of the event log: signed statements of its length and head, kept elsewhere.

A chain proves only that the events it holds agree with each other: an administrator of the
database can cut its tail, or rewrite an event and recompute every hash after it, and the
chain still verifies. A checkpoint is the log's head as it was at a moment (event count, head
position and hash, time, project), signed with Ed25519 by a key the database does not hold,
and appended to a place its administrator cannot write. A later log shorter than a
checkpoint, or holding another hash at the checkpoint's position, was cut or rewritten.

One statement is one line of canonical JSON (sorted keys, no spaces, UTF-8):

    {"signature":"<base64 Ed25519 signature>","statement":{"at":"<UTC time>","events":<n>,
     "head_hash":"<hex>","head_seq":<n>,"key_id":"<16 hex>","project":"<name>",
     "scheme":"lucid-checkpoint-v1"}}

The signature covers the canonical JSON of `statement`. `key_id` is the first 16 hex digits
of the SHA-256 of the raw 32-byte public key; the verifier trusts a public key it was given,
never one a statement carries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lucid.errors import InvalidInput

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

CHECKPOINT_SCHEME = "lucid-checkpoint-v1"
"""Names the statement's format; part of what is signed."""

_FIELDS = ("at", "events", "head_hash", "head_seq", "key_id", "project", "scheme")


def canonical_json(value: Mapping[str, Any]) -> str:
    """Sorted keys, no spaces, UTF-8 text (not ASCII-escaped)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a checkpoint states: the log of `project` held `events` events at time `at`
    (canonical UTC text), the last at position `head_seq` with hash `head_hash`."""

    project: str
    events: int
    head_seq: int
    head_hash: str
    at: str
    key_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "events": self.events,
            "head_hash": self.head_hash,
            "head_seq": self.head_seq,
            "key_id": self.key_id,
            "project": self.project,
            "scheme": CHECKPOINT_SCHEME,
        }

    def signed_bytes(self) -> bytes:
        """The bytes the signature covers: the statement's canonical JSON."""
        return canonical_json(self.to_dict()).encode()


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A statement and its Ed25519 signature (64 bytes)."""

    checkpoint: Checkpoint
    signature: bytes

    def to_line(self) -> str:
        """The statement as one JSON line (no newline)."""
        return canonical_json(
            {
                "signature": base64.b64encode(self.signature).decode(),
                "statement": self.checkpoint.to_dict(),
            }
        )

    @classmethod
    def parse_line(cls, line: str, where: str) -> SignedCheckpoint:
        """Read one statement line; `where` names it in the refusal (`file.jsonl line 3`)."""
        try:
            raw = json.loads(line)
            statement = raw["statement"]
            signature = base64.b64decode(raw["signature"], validate=True)
            if set(statement) != set(_FIELDS) or statement["scheme"] != CHECKPOINT_SCHEME:
                raise ValueError("unknown fields or scheme")
            checkpoint = Checkpoint(
                project=_text(statement["project"]),
                events=_count(statement["events"]),
                head_seq=_count(statement["head_seq"]),
                head_hash=_text(statement["head_hash"]),
                at=_text(statement["at"]),
                key_id=_text(statement["key_id"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise InvalidInput(
                "checkpoint",
                f"{where} is not a {CHECKPOINT_SCHEME} statement (one JSON object with "
                "`statement` and `signature` per line)",
            ) from None
        return cls(checkpoint, signature)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("not a count")
    return value


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An Ed25519 public key a verifier trusts."""

    raw: bytes

    @classmethod
    def from_text(cls, text: str) -> PublicKey:
        """Read the base64 text `lucid events keygen` prints (the raw 32 bytes)."""
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except binascii.Error:
            raw = b""
        if len(raw) != 32:
            raise InvalidInput(
                "public key", "must be the base64 text of a 32-byte Ed25519 public key"
            )
        return cls(raw)

    @property
    def text(self) -> str:
        return base64.b64encode(self.raw).decode()

    @property
    def key_id(self) -> str:
        """The first 16 hex digits of the SHA-256 of the raw key."""
        return hashlib.sha256(self.raw).hexdigest()[:16]

    def verifies(self, signed: SignedCheckpoint) -> bool:
        """Whether `signed`'s signature is this key's over its statement."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(
                signed.signature, signed.checkpoint.signed_bytes()
            )
        except InvalidSignature:
            return False
        return True


class SigningKey:
    """An Ed25519 private key: it signs checkpoints; kept in a file outside the database."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> SigningKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes, where: str) -> SigningKey:
        """Read an unencrypted PKCS #8 PEM private key (what `to_pem` writes)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            key = None
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidInput(
                "key",
                f"{where} is not an Ed25519 private key in PEM (make one with "
                "`lucid events keygen`)",
            )
        return cls(key)

    def to_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public_key(self) -> PublicKey:
        from cryptography.hazmat.primitives import serialization

        raw = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return PublicKey(raw)

    def sign(
        self, *, project: str, events: int, head_seq: int, head_hash: str, at: str
    ) -> SignedCheckpoint:
        """The signed statement of a log's head."""
        checkpoint = Checkpoint(project, events, head_seq, head_hash, at, self.public_key.key_id)
        return SignedCheckpoint(checkpoint, self._key.sign(checkpoint.signed_bytes()))


@dataclass(frozen=True, slots=True)
class Anchor:
    """A checkpoint the verifier accepted: the log must reach `events` events and hold
    `head_hash` at `head_seq`. `label` names it in a sentence."""

    events: int
    head_seq: int
    head_hash: str
    label: str


@dataclass(frozen=True, slots=True)
class ListedCheckpoint:
    """A statement and where it was read (`checkpoints.jsonl line 3`)."""

    signed: SignedCheckpoint
    where: str


def accept_checkpoints(
    listed: Iterable[ListedCheckpoint], trusted: Iterable[PublicKey], project: str
) -> tuple[list[Anchor], str | None]:
    """The anchors of statements signed by a trusted key for `project`, or the sentence
    naming the first statement that is not (forged, altered, another key or project)."""
    keys = {key.key_id: key for key in trusted}
    anchors: list[Anchor] = []
    for item in listed:
        checkpoint = item.signed.checkpoint
        label = f"the checkpoint of {checkpoint.at} ({item.where})"
        named = "T" + label[1:]
        key = keys.get(checkpoint.key_id)
        if key is None:
            known = ", ".join(sorted(keys)) or "none"
            return [], (
                f"{named} names signing key {checkpoint.key_id}, which is not a "
                f"trusted public key ({known}): it was not signed by this project's key."
            )
        if not key.verifies(item.signed):
            return [], (
                f"{named} has a signature that does not verify with key "
                f"{key.key_id}: the statement was forged or altered."
            )
        if checkpoint.project != project:
            return [], (f"{named} is of project {checkpoint.project!r}, not {project!r}.")
        anchors.append(Anchor(checkpoint.events, checkpoint.head_seq, checkpoint.head_hash, label))
    return anchors, None


def truncation(anchors: Iterable[Anchor], events: int) -> str | None:
    """The sentence when a log of `events` events is shorter than an anchor, else None."""
    longest = max(anchors, key=lambda anchor: anchor.events, default=None)
    if longest is None or events >= longest.events:
        return None
    return (
        f"The log holds {events} events but {longest.label} signed {longest.events}: "
        f"events after position {events} were cut off."
    )
