"""Webhook signatures in the Standard Webhooks scheme (https://www.standardwebhooks.com):
the headers Lucid sends, and the check a receiver runs (`verify_delivery`).

Every delivery carries three headers:

- `webhook-id`: the same for every attempt at one event (`<subscription>:<event seq>`), so a
  receiver can drop a duplicate;
- `webhook-timestamp`: when this attempt was signed, in whole Unix seconds;
- `webhook-signature`: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed by the
  subscription's secret `whsec_<base64 key>`.

Because the id and the time are signed with the body, a receiver that refuses old timestamps
refuses a captured delivery replayed later, and one that remembers ids refuses it within the
tolerance too. Secrets of subscriptions created before this scheme have no `whsec_` prefix;
their key is the secret's UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook

from lucid.errors import InvalidInput

SECRET_PREFIX = "whsec_"
KEY_BYTES = 32
"""Random bytes in a secret Lucid makes."""
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64
"""The key lengths a given secret may have (the scheme's recommendation)."""
TOLERANCE_SECONDS = 300.0
"""How far a delivery's timestamp may be from the receiver's clock, either way (seconds)."""

ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = (
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
)


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def check_secret(secret: str) -> str:
    """`secret` when it is `whsec_` and the base64 of 24 to 64 bytes; else InvalidInput."""
    rule = (
        f"must be {SECRET_PREFIX} followed by the base64 of {MIN_KEY_BYTES} to "
        f"{MAX_KEY_BYTES} random bytes (omit it and Lucid makes one)"
    )
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidInput("secret", rule)
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error:
        raise InvalidInput("secret", rule) from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise InvalidInput("secret", rule)
    return secret


def signing_key(secret: str) -> bytes:
    """The HMAC key of a secret: the decoded base64 after `whsec_`, else the secret's bytes."""
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret[len(SECRET_PREFIX) :] + "==")
    return secret.encode()


def signed_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers of `body` sent as message `message_id` at `at`."""
    signature = Webhook(signing_key(secret)).sign(message_id, at, body)
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(int(at.timestamp())),
        SIGNATURE_HEADER: signature,
    }


def verify_delivery(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: float = TOLERANCE_SECONDS,
    now: datetime | None = None,
) -> Any:
    """The event of a delivery (its JSON body) when the headers prove Lucid sent this body
    under this id within `tolerance_seconds` of `now` (default: the current time); else
    InvalidInput naming the header and the rule. Pass the body bytes exactly as received."""
    received = {name.lower(): value for name, value in headers.items()}
    for name in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER):
        if not received.get(name):
            raise InvalidInput(name, "is missing: every Lucid delivery carries it")
    stamp = received[TIMESTAMP_HEADER]
    if not stamp.isascii() or not stamp.isdigit():
        raise InvalidInput(TIMESTAMP_HEADER, f"must be whole Unix seconds, not {stamp!r}")
    signed_at = datetime.fromtimestamp(int(stamp), UTC)
    age = ((now or datetime.now(UTC)) - signed_at).total_seconds()
    if age > tolerance_seconds:
        raise InvalidInput(
            TIMESTAMP_HEADER,
            f"the delivery was signed {age:.0f} s ago, more than the {tolerance_seconds:.0f} s "
            "allowed: it is refused as a possible replay",
        )
    if -age > tolerance_seconds:
        raise InvalidInput(
            TIMESTAMP_HEADER,
            f"the delivery is dated {-age:.0f} s in the future, more than the "
            f"{tolerance_seconds:.0f} s allowed (check both clocks)",
        )
    expected = Webhook(signing_key(secret)).sign(received[ID_HEADER], signed_at, body)
    offered = received[SIGNATURE_HEADER].split()
    if not any(hmac.compare_digest(expected.encode(), sig.encode()) for sig in offered):
        raise InvalidInput(
            SIGNATURE_HEADER,
            "does not match the id, timestamp and body received under this secret: the "
            "delivery was changed, or the secret is not this subscription's",
        )
    return json.loads(body)
