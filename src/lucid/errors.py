"""The domain errors of Lucid.

Every error carries one sentence that names the field and the rule it broke. The CLI prints
that sentence and exits non-zero; the HTTP service maps each class to a status code. Nothing
here does I/O, so the pure contracts may raise these errors too.
"""

from __future__ import annotations


class LucidError(Exception):
    """Base of every error Lucid reports to a person; `str(error)` is the sentence."""

    exit_code = 1

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class InvalidInput(LucidError):
    """A value given by the caller breaks a rule (bad field, out of range, wrong format)."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class NotFound(LucidError):
    """The thing asked for does not exist."""


class Conflict(LucidError):
    """The request contradicts what is already stored (duplicate, wrong state, lost race)."""


class Forbidden(LucidError):
    """The actor may not do this (role, four-eyes rule, self-approval)."""


class ProjectNotFound(LucidError):
    """No Lucid project was found where one was expected."""


class ConfigurationError(LucidError):
    """The project configuration or an environment override is invalid."""


class StorageUnavailable(LucidError):
    """A storage server or file could not be reached or opened."""


class SchemaOutdated(LucidError):
    """The metadata database is not at the schema revision this Lucid needs."""


class IntegrityViolation(LucidError):
    """Stored history was changed: the event chain no longer verifies."""
