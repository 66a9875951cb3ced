"""Durations, semantic versions and pinned feature references (`name@version`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import total_ordering

from lucid.contracts.semantic.fields import DURATION, DURATION_SECONDS, check_name
from lucid.errors import InvalidInput

_VERSION = re.compile(r"([0-9]{1,9})(?:\.([0-9]{1,9}))?(?:\.([0-9]{1,9}))?")
"""A semantic version of one to three parts (`2`, `2.0`, `2.0.1`), ASCII digits only: `\\d`
would take other scripts' digits too."""


@dataclass(frozen=True, slots=True, order=True)
class Duration:
    """A span of time in whole seconds, written like `30d`, `12h`, `15m`, `2w`."""

    seconds: int

    @classmethod
    def parse(cls, value: object, field_name: str) -> Duration:
        if isinstance(value, Duration):
            return value
        match = DURATION.fullmatch(value) if isinstance(value, str) else None
        if not match or int(match.group(1)) == 0:
            raise InvalidInput(
                field_name, f"{value!r} must be a positive duration such as 30d, 12h, 15m or 2w"
            )
        return cls(int(match.group(1)) * DURATION_SECONDS[match.group(2)])

    def __str__(self) -> str:
        for unit in ("d", "h", "m"):
            if self.seconds % DURATION_SECONDS[unit] == 0:
                return f"{self.seconds // DURATION_SECONDS[unit]}{unit}"
        return f"{self.seconds}s"


class Bump(Enum):
    """How much a change moves the version: meaning (major), addition (minor), text (patch)."""

    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A semantic version; `2.0` is read as `2.0.0`."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, value: object, field_name: str = "version") -> Version:
        if isinstance(value, Version):
            return value
        text = value if isinstance(value, str) else ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = str(value)
        match = _VERSION.fullmatch(text)
        if match is None:
            raise InvalidInput(field_name, f"{value!r} must be a version like 1.0.0 or 2.0")
        numbers = [int(part) for part in match.groups(default="0")]
        return cls(numbers[0], numbers[1], numbers[2])

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return (self.major, self.minor, self.patch) < (other.major, other.minor, other.patch)

    def bump_from(self, older: Version) -> Bump:
        """The bump that leads from `older` to this version (NONE when not newer)."""
        if self <= older:
            return Bump.NONE
        if self.major > older.major:
            return Bump.MAJOR
        if self.minor > older.minor:
            return Bump.MINOR
        return Bump.PATCH

    def bumped(self, bump: Bump) -> Version:
        """The smallest version carrying `bump` after this one."""
        if bump is Bump.MAJOR:
            return Version(self.major + 1, 0, 0)
        if bump is Bump.MINOR:
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + 1)


@dataclass(frozen=True, slots=True)
class FeatureRef:
    """A pinned feature version, written `name@version` (e.g. `customer_activity_30d@2.0`)."""

    name: str
    version: Version

    @classmethod
    def parse(cls, text: str) -> FeatureRef:
        name, sep, version = text.partition("@")
        if not sep:
            raise InvalidInput("feature", f"{text!r} must pin a version: name@version, e.g. x@1.0")
        return cls(check_name(name, "feature"), Version.parse(version, "feature version"))

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"
