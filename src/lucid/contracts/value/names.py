"""Names the value contract accepts: model names and pinned feature versions."""

from __future__ import annotations

import re

from lucid.errors import InvalidInput

MODEL_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")
PINNED_FEATURE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)@(?P<version>\d+(?:\.\d+){0,2})$")


def validate_model_name(name: str) -> str:
    """A model name: lower-case letters, digits, '_' or '-', starting with a letter."""
    if not isinstance(name, str) or not MODEL_NAME.match(name):
        raise InvalidInput(
            "name",
            f"{name!r} must be 1-100 lower-case letters, digits, '_' or '-', starting with a "
            "letter (e.g. churn)",
        )
    return name


def validate_pinned_feature(pin: str) -> str:
    """A pinned feature version written `name@version`, e.g. `customer_activity_30d@2`.

    Only the format is checked here: the feature store resolves the pin when it exists.
    """
    if not isinstance(pin, str) or not PINNED_FEATURE.match(pin):
        raise InvalidInput(
            "features",
            f"{pin!r} must be a pinned feature version written name@version, "
            "e.g. customer_activity_30d@2",
        )
    return pin
