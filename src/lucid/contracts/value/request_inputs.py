"""Request-time inputs: values a model takes that only the request knows (a transaction's
amount, a message's text), declared with the version and checked on every request.

A `RequestInput` names one input, its type (`number`, `integer`, `boolean`, `text`) and what
it allows: a range for numbers, a length or a closed set of categories for text. A request
gives the values by name; `checked_values` refuses, with a sentence naming the field, a
missing value, a wrong type (a boolean is not a number, text is never read as a number), a
value out of range, NaN or infinity, and a name the version does not declare.

On the command line an input is written `name:type[:rule]` (`request_input_of_option`):
`amount:number:0..10000`, `items:integer:1..`, `express:boolean`, `note:text:500`,
`channel:text:web|app|store`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lucid.contracts.names import IDENTIFIER as INPUT_NAME
from lucid.contracts.names import NAME_MAX_LENGTH, check_pattern
from lucid.errors import InvalidInput

DEFAULT_MAX_LENGTH = 10_000
"""Characters a text input may hold unless its declaration says otherwise."""

MAX_CATEGORIES = 1_000
"""Categories a closed text input may list."""

RESERVED_NAMES = frozenset(
    {"entity_id", "model", "version", "arm", "prediction", "score", "label", "prediction_id"}
)
"""Names an answer, a batch file or the prediction log already gives a column."""

_NAME_RULE = "a lower-case identifier (letters, digits, '_'; starts with a letter)"
_SPEC_FIELDS = {"name", "type", "minimum", "maximum", "max_length", "categories"}


class InputType(StrEnum):
    """What a request-time input holds."""

    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class RequestInput:
    """One request-time input: `minimum`/`maximum` (inclusive) bound a number or an integer;
    `max_length` (characters, default 10,000) and `categories` (a closed set) bound text."""

    name: str
    type: InputType
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    categories: tuple[str, ...] | None = None

    @property
    def described(self) -> str:
        """What the input allows, e.g. `a number in [0, 10000]`."""
        if self.type is InputType.BOOLEAN:
            return "true or false"
        if self.type is InputType.TEXT:
            if self.categories is not None:
                return f"one of {', '.join(self.categories)}"
            return f"text of at most {self.text_limit} characters"
        kind = "a number" if self.type is InputType.NUMBER else "an integer"
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"{kind} in [{_shown(low)}, {_shown(high)}]"
        if low is not None:
            return f"{kind} of at least {_shown(low)}"
        if high is not None:
            return f"{kind} of at most {_shown(high)}"
        return kind

    @property
    def text_limit(self) -> int:
        """The most characters a text value may hold."""
        return self.max_length if self.max_length is not None else DEFAULT_MAX_LENGTH

    def checked(self, value: object, where: str) -> Any:
        """`value` when the input allows it (an integral number as an int for an integer, a
        number as a float); else InvalidInput naming `where`."""
        if value is None:
            raise InvalidInput(where, f"is required ({self.described})")
        if self.type is InputType.BOOLEAN:
            if not isinstance(value, bool):
                raise InvalidInput(where, f"must be true or false, not {_given(value)}")
            return value
        if self.type is InputType.TEXT:
            return self._text(value, where)
        return self._number(value, where)

    def read_text(self, value: object, where: str) -> Any:
        """A value written as text (a CSV cell) read by the input's type — `12.5`, `3`,
        `true`/`false`/`1`/`0` — then checked; an empty cell is a missing value."""
        if not isinstance(value, str) or self.type is InputType.TEXT:
            return self.checked(value, where)
        written = value.strip()
        if not written:
            return self.checked(None, where)
        if self.type is InputType.BOOLEAN:
            truth = {"true": True, "1": True, "false": False, "0": False}.get(written.lower())
            return self.checked(value if truth is None else truth, where)
        try:
            number = float(written)
        except ValueError:
            return self.checked(value, where)  # refused: text is not a number
        return self.checked(int(written) if written.lstrip("+-").isdigit() else number, where)

    def _text(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise InvalidInput(where, f"must be {self.described}, not {_given(value)}")
        if self.categories is not None:
            if value not in self.categories:
                raise InvalidInput(where, f"must be {self.described}, not {value[:50]!r}")
        elif len(value) > self.text_limit:
            raise InvalidInput(where, f"must be {self.described}, not {len(value)} characters long")
        return value

    def _number(self, value: object, where: str) -> float | int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(where, f"must be {self.described}, not {_given(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(where, f"must be {self.described}, not {value}")
        number: float | int
        if self.type is InputType.INTEGER:
            if isinstance(value, float) and not value.is_integer():
                raise InvalidInput(where, f"must be {self.described}, not {value}")
            number = int(value)
        else:
            number = float(value)
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            raise InvalidInput(where, f"must be {self.described}, not {_shown(number)}")
        return number

    def to_dict(self) -> dict[str, Any]:
        described: dict[str, Any] = {"name": self.name, "type": self.type.value}
        if self.minimum is not None:
            described["minimum"] = self.minimum
        if self.maximum is not None:
            described["maximum"] = self.maximum
        if self.max_length is not None:
            described["max_length"] = self.max_length
        if self.categories is not None:
            described["categories"] = list(self.categories)
        return described


def read_request_inputs(
    raw: Iterable[RequestInput | Mapping[str, Any]] | None,
    features: Iterable[str] = (),
    field: str = "request_inputs",
) -> tuple[RequestInput, ...]:
    """The declared inputs, checked: each a `RequestInput` or a mapping of its fields; refused
    for a bad name, an unknown type, a rule that does not fit the type, a minimum above the
    maximum, a name given twice, or a name that is also one of the pinned `features` (by
    feature name)."""
    if raw is None:
        return ()
    if isinstance(raw, str | bytes | Mapping):
        raise InvalidInput(field, "must be a list of inputs, each with a name and a type")
    pinned = set(features)
    specs: list[RequestInput] = []
    for index, item in enumerate(raw):
        where = f"{field}[{index}]"
        spec = _spec(item if isinstance(item, RequestInput) else _mapping(item, where), where)
        if spec.name in pinned:
            raise InvalidInput(
                f"{where}.name",
                f"{spec.name} is a pinned feature; a request-time input needs its own name",
            )
        if any(known.name == spec.name for known in specs):
            raise InvalidInput(f"{where}.name", f"{spec.name} is declared twice")
        specs.append(spec)
    return tuple(specs)


def _mapping(item: object, where: str) -> RequestInput:
    if not isinstance(item, Mapping):
        raise InvalidInput(where, f"must be an input with a name and a type, not {_given(item)}")
    unknown = sorted(str(key) for key in set(item) - _SPEC_FIELDS)
    if unknown:
        raise InvalidInput(
            where,
            f"has unknown field(s) {', '.join(unknown)} "
            f"(an input has {', '.join(sorted(_SPEC_FIELDS))})",
        )
    categories = item.get("categories")
    if categories is not None and (
        isinstance(categories, str | bytes | Mapping) or not isinstance(categories, Iterable)
    ):
        raise InvalidInput(f"{where}.categories", "must be a list of text values")
    kind = item.get("type")
    if kind not in {t.value for t in InputType} and not isinstance(kind, InputType):
        raise InvalidInput(
            f"{where}.type",
            f"must be one of {', '.join(t.value for t in InputType)}, not {_given(kind)}",
        )
    return RequestInput(
        name=item.get("name"),  # type: ignore[arg-type]  # checked by _spec
        type=InputType(kind),
        minimum=item.get("minimum"),
        maximum=item.get("maximum"),
        max_length=item.get("max_length"),
        categories=None if categories is None else tuple(categories),
    )


def _spec(spec: RequestInput, where: str) -> RequestInput:
    """`spec` with its fields checked against its type."""
    name = check_pattern(spec.name, f"{where}.name", INPUT_NAME, _NAME_RULE, NAME_MAX_LENGTH)
    if name in RESERVED_NAMES:
        raise InvalidInput(
            f"{where}.name", f"{name} is reserved ({', '.join(sorted(RESERVED_NAMES))})"
        )
    if not isinstance(spec.type, InputType):
        raise InvalidInput(f"{where}.type", f"must be an input type, not {_given(spec.type)}")
    numeric = spec.type in (InputType.NUMBER, InputType.INTEGER)
    for bound in ("minimum", "maximum"):
        value = getattr(spec, bound)
        if value is None:
            continue
        if not numeric:
            raise InvalidInput(f"{where}.{bound}", "bounds only a number or an integer input")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{where}.{bound}", f"must be a number, not {_given(value)}")
        if not math.isfinite(value):
            raise InvalidInput(f"{where}.{bound}", f"must be a finite number, not {value}")
    if spec.minimum is not None and spec.maximum is not None and spec.minimum > spec.maximum:
        raise InvalidInput(
            f"{where}.minimum",
            f"{_shown(spec.minimum)} is above the maximum {_shown(spec.maximum)}",
        )
    if spec.max_length is not None:
        if spec.type is not InputType.TEXT:
            raise InvalidInput(f"{where}.max_length", "bounds only a text input")
        if (
            isinstance(spec.max_length, bool)
            or not isinstance(spec.max_length, int)
            or spec.max_length < 1
        ):
            raise InvalidInput(
                f"{where}.max_length", f"must be a positive integer, not {_given(spec.max_length)}"
            )
    if spec.categories is not None:
        _categories(spec, where)
    return spec


def _categories(spec: RequestInput, where: str) -> None:
    field = f"{where}.categories"
    if spec.type is not InputType.TEXT:
        raise InvalidInput(field, "closes only a text input")
    if spec.max_length is not None:
        raise InvalidInput(field, "and max_length do not go together: a category is its length")
    categories = spec.categories or ()
    if not 1 <= len(categories) <= MAX_CATEGORIES:
        raise InvalidInput(field, f"must list 1 to {MAX_CATEGORIES} values, not {len(categories)}")
    for category in categories:
        if not isinstance(category, str) or not category or len(category) > NAME_MAX_LENGTH:
            raise InvalidInput(
                field,
                f"each must be text of 1 to {NAME_MAX_LENGTH} characters, not {_given(category)}",
            )
    if len(set(categories)) != len(categories):
        twice = next(c for c in categories if categories.count(c) > 1)
        raise InvalidInput(field, f"{twice!r} is listed twice")


def checked_values(
    specs: Iterable[RequestInput], values: object, where: str = "inputs", from_text: bool = False
) -> dict[str, Any]:
    """The request's values of the declared inputs, each checked (`RequestInput.checked`, or
    `RequestInput.read_text` for values written as text), by name in the declared order; a
    missing or undeclared one is refused naming it."""
    specs = tuple(specs)
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise InvalidInput(where, f"must be an object of input name to value, not {_given(values)}")
    declared = {spec.name for spec in specs}
    for key in values:
        if key not in declared:
            takes = ", ".join(spec.name for spec in specs) if specs else "none"
            raise InvalidInput(
                f"{where}.{key}", f"is not a request-time input of this version (it takes {takes})"
            )
    return {
        spec.name: (spec.read_text if from_text else spec.checked)(
            values.get(spec.name), f"{where}.{spec.name}"
        )
        for spec in specs
    }


def request_input_of_option(option: str, field: str = "--request-input") -> RequestInput:
    """An input written `name:type[:rule]`: `amount:number:0..10000` (either bound may be
    left out: `0..`, `..10`), `count:integer:1..5`, `flag:boolean`, `note:text:500` (at most
    500 characters) or `channel:text:web|app|store` (one of those)."""
    usage = (
        "must be written name:type[:rule], e.g. amount:number:0..10000, count:integer:1.., "
        "flag:boolean, note:text:500 or channel:text:web|app|store"
    )
    parts = option.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise InvalidInput(field, f"{option!r} {usage}")
    name, kind = parts[0].strip(), parts[1].strip()
    rule = parts[2].strip() if len(parts) == 3 else ""
    if kind not in {t.value for t in InputType}:
        raise InvalidInput(
            field, f"{option!r}: the type must be one of {', '.join(t.value for t in InputType)}"
        )
    spec: dict[str, Any] = {"name": name, "type": kind}
    if rule and kind == InputType.BOOLEAN:
        raise InvalidInput(field, f"{option!r}: a boolean input takes no rule")
    if rule and kind == InputType.TEXT:
        if rule.isdigit():
            spec["max_length"] = int(rule)
        else:
            spec["categories"] = [category.strip() for category in rule.split("|")]
    elif rule:
        low, dots, high = rule.partition("..")
        try:
            spec["minimum"] = float(low) if low.strip() else None
            spec["maximum"] = float(high) if high.strip() else None
        except ValueError:
            dots = ""
        if not dots:
            raise InvalidInput(field, f"{option!r}: a range is written min..max, e.g. 0..10000")
    try:
        return _spec(_mapping(spec, field), field)
    except InvalidInput as error:
        raise InvalidInput(field, f"{option!r}: {error.rule}") from None


def _shown(number: float) -> str:
    """A bound as a person writes it: 10000, not 10000.0."""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _given(value: object) -> str:
    """A value in a sentence, with its JSON type for what is not plain."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {value[:50]!r}"
    if isinstance(value, int | float):
        return repr(value)
    return f"a {type(value).__name__}"
