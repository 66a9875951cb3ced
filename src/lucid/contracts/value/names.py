"""Names the value contract accepts: model names and pinned feature versions."""

from __future__ import annotations

import re

from lucid.contracts.names import NAME_MAX_LENGTH, SLUG, check_pattern
from lucid.errors import InvalidInput

PINNED_FEATURE = re.compile(r"(?P<name>[a-z][a-z0-9_]{0,99})@(?P<version>[0-9]+(?:\.[0-9]+){0,2})")


def validate_model_name(name: str) -> str:
    """A model name: lower-case letters, digits, '_' or '-', starting with a letter."""
    return check_pattern(
        name,
        "name",
        SLUG,
        f"1-{NAME_MAX_LENGTH} lower-case letters, digits, '_' or '-', starting with a letter "
        "(e.g. churn)",
    )


def validate_pinned_feature(pin: str) -> str:
    """A pinned feature version written `name@version`, e.g. `customer_activity_30d@2`.

    Only the format is checked here: the feature store resolves the pin when it exists.
    """
    if not isinstance(pin, str) or not PINNED_FEATURE.fullmatch(pin):
        raise InvalidInput(
            "features",
            f"{pin!r} must be a pinned feature version written name@version, "
            "e.g. customer_activity_30d@2",
        )
    return pin
