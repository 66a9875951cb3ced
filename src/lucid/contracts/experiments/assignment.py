"""Who sees which arm: each entity's arm is fixed by a hash of the experiment's salt and the
entity id, so every process and every serving replica agrees without an assignment table.

An experiment compares the production version (control) with a challenger on the contract's
business metric, measured per entity as a binary outcome (1 = success, e.g. retained).
"""

from __future__ import annotations

import hashlib

from lucid.contracts.events import Subject
from lucid.contracts.names import NAME_MAX_LENGTH, SLUG, check_pattern
from lucid.contracts.value import finite
from lucid.errors import InvalidInput

CONTROL = "control"
CHALLENGER = "challenger"
ARMS = (CONTROL, CHALLENGER)
DEFAULT_CHALLENGER_SHARE = 0.10

_HASH_SCALE = float(2**64)


def experiment_subject(experiment_id: str) -> Subject:
    """The subject of every event about the experiment `experiment_id`."""
    return Subject("experiment", experiment_id)


def validate_experiment_id(experiment_id: str) -> str:
    return check_pattern(
        experiment_id,
        "experiment",
        SLUG,
        f"1-{NAME_MAX_LENGTH} lower-case letters, digits, '_' or '-', starting with a letter "
        "(e.g. churn-v3-ab)",
    )


def check_share(share: float, field: str = "challenger_share") -> float:
    """A traffic share strictly between 0 and 1."""
    value = finite(share, field)
    if not 0 < value < 1:
        raise InvalidInput(field, f"must lie strictly between 0 and 1, not {value:g}")
    return value


def bucket(entity_id: str, salt: str) -> float:
    """The entity's position in [0, 1): the first 8 bytes of SHA-256(salt ':' entity_id)."""
    digest = hashlib.sha256(f"{salt}:{entity_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _HASH_SCALE


def assign(entity_id: str, salt: str, challenger_share: float = DEFAULT_CHALLENGER_SHARE) -> str:
    """`challenger` for the entities whose bucket falls under the share, else `control`.

    Deterministic across processes, machines and Python hash seeds (SHA-256, not `hash`).
    """
    if not isinstance(entity_id, str) or not entity_id:
        raise InvalidInput("entity_id", f"must be non-empty text, not {entity_id!r}")
    if not isinstance(salt, str) or not salt:
        raise InvalidInput("salt", f"must be non-empty text, not {salt!r}")
    share = check_share(challenger_share)
    return CHALLENGER if bucket(entity_id, salt) < share else CONTROL
