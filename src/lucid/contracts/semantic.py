"""The semantic contract: canonical feature definitions, their versions and their governance.

One business concept has one approved definition, shared by every team. A definition states
its computation explicitly — sources, filters, per-source aggregation, normaliser, weight,
window, exclusions — so that two definitions can be compared field by field, fingerprinted,
and compiled to the same SQL for training and serving. This module is pure: parsing, rules,
diffs and decisions; storage and compute live elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum
from functools import total_ordering
from typing import Any

from lucid.contracts.events import DomainEvent, event_type
from lucid.errors import Conflict, Forbidden, InvalidInput

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TEAM = re.compile(r"^[a-z][a-z0-9_-]*$")
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def check_name(value: object, field_name: str) -> str:
    """A lower-case identifier: letters, digits and '_', starting with a letter."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidInput(
            field_name,
            f"{value!r} must be a lower-case identifier (letters, digits, '_'; starts with a "
            "letter)",
        )
    return value


def _text(value: object, field_name: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(field_name, "must be a non-empty text")
    return value.strip()


def _mapping(value: object, field_name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(field_name, f"must be a mapping of fields, not {type(value).__name__}")
    return value


def _iso(value: object) -> object:
    """YAML reads unquoted times as datetimes; examples keep them as ISO-8601 text."""
    return value.isoformat() if isinstance(value, datetime | date) else value


def _list(value: object, field_name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(field_name, "must be a list")
    return value


def _refuse_unknown(data: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"{where}.{unknown[0]}", f"is not a known field (known: {', '.join(sorted(allowed))})"
        )


# --- durations and versions --------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Duration:
    """A span of time in whole seconds, written like `30d`, `12h`, `15m`, `2w`."""

    seconds: int

    @classmethod
    def parse(cls, value: object, field_name: str) -> Duration:
        if isinstance(value, Duration):
            return value
        match = _DURATION.match(value.strip()) if isinstance(value, str) else None
        if not match or int(match.group(1)) == 0:
            raise InvalidInput(
                field_name, f"{value!r} must be a positive duration such as 30d, 12h, 15m or 2w"
            )
        return cls(int(match.group(1)) * _DURATION_SECONDS[match.group(2)])

    def __str__(self) -> str:
        for unit in ("d", "h", "m"):
            if self.seconds % _DURATION_SECONDS[unit] == 0:
                return f"{self.seconds // _DURATION_SECONDS[unit]}{unit}"
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
        text = str(value).strip() if isinstance(value, str | int | float) else ""
        parts = text.split(".")
        if not 1 <= len(parts) <= 3 or not all(part.isdigit() for part in parts):
            raise InvalidInput(field_name, f"{value!r} must be a version like 1.0.0 or 2.0")
        numbers = [int(part) for part in parts] + [0] * (3 - len(parts))
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


# --- sources -----------------------------------------------------------------------------


class ColumnType(Enum):
    """The column types a source schema may declare."""

    STRING = "string"
    INTEGER = "integer"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    DATE = "date"


class SourceKind(Enum):
    PARQUET = "parquet"
    CSV = "csv"
    DUCKDB = "duckdb"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True, slots=True)
class Source:
    """A registered event source: where its rows are, which entity they describe, its schema.

    `location` is a file, folder or glob for Parquet/CSV; `database#table` for DuckDB; and
    `postgresql://…#table` for PostgreSQL. `ingestion_time`, when given, names the column that
    says when each row became known (used to build training sets as known at a time).
    """

    name: str
    kind: SourceKind
    location: str
    entity: str
    entity_key: str
    event_time: str
    schema: Mapping[str, ColumnType]
    ingestion_time: str | None = None
    description: str = ""
    lists_entities: bool = False
    """Whether this source lists every id of its entity (at most one per entity): an id it
    does not hold is unknown to materialisation and the online read."""

    def __post_init__(self) -> None:
        check_name(self.name, "source.name")
        check_name(self.entity, f"source {self.name}.entity")
        if not self.schema:
            raise InvalidInput(f"source {self.name}.schema", "must declare at least one column")
        for role in ("entity_key", "event_time", "ingestion_time"):
            column = getattr(self, role)
            if column is not None and column not in self.schema:
                raise InvalidInput(
                    f"source {self.name}.{role}",
                    f"column {column!r} is not in the declared schema ({', '.join(self.schema)})",
                )
        for role in ("event_time", "ingestion_time"):
            column = getattr(self, role)
            if column is not None and self.schema[column] not in (
                ColumnType.TIMESTAMP,
                ColumnType.DATE,
            ):
                raise InvalidInput(
                    f"source {self.name}.{role}",
                    f"column {column!r} must be a timestamp or date, not "
                    f"{self.schema[column].value}",
                )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Source:
        where = f"source {data.get('name', '?')}"
        _refuse_unknown(data, _SOURCE_FIELDS, where)
        kind_text = data.get("kind")
        try:
            kind = SourceKind(kind_text)
        except ValueError:
            raise InvalidInput(
                f"{where}.kind", f"{kind_text!r} must be one of {_values(SourceKind)}"
            ) from None
        schema_data = _mapping(data.get("schema"), f"{where}.schema")
        schema: dict[str, ColumnType] = {}
        for column, type_text in schema_data.items():
            try:
                schema[str(column)] = ColumnType(type_text)
            except ValueError:
                raise InvalidInput(
                    f"{where}.schema.{column}",
                    f"{type_text!r} must be one of {_values(ColumnType)}",
                ) from None
        return cls(
            name=check_name(data.get("name"), "source.name"),
            kind=kind,
            location=_text(data.get("location"), f"{where}.location"),
            entity=check_name(data.get("entity"), f"{where}.entity"),
            entity_key=_text(data.get("entity_key"), f"{where}.entity_key"),
            event_time=_text(data.get("event_time"), f"{where}.event_time"),
            schema=schema,
            ingestion_time=data.get("ingestion_time") or None,
            description=_text(data.get("description"), f"{where}.description", required=False),
            lists_entities=_flag(data.get("lists_entities", False), f"{where}.lists_entities"),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind.value,
            "location": self.location,
            "entity": self.entity,
            "entity_key": self.entity_key,
            "event_time": self.event_time,
            "schema": {column: kind.value for column, kind in self.schema.items()},
        }
        if self.ingestion_time:
            data["ingestion_time"] = self.ingestion_time
        if self.description:
            data["description"] = self.description
        if self.lists_entities:  # only when set: specs stored without it keep their form
            data["lists_entities"] = True
        return data


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, f"{value!r} must be true or false")
    return value


def listing_source(sources: Mapping[str, Source], entity: str) -> Source | None:
    """The source that lists every id of `entity`, if one is registered."""
    for source in sources.values():
        if source.lists_entities and source.entity == entity:
            return source
    return None


def second_listing(source: Source, others: Mapping[str, Source]) -> str | None:
    """Why `source` is refused beside `others` (the sources registered or being registered)
    when it would be a second source listing the ids of one entity; None when it is not."""
    if not source.lists_entities:
        return None
    for other in others.values():
        if other.name != source.name and other.lists_entities and other.entity == source.entity:
            return (
                f"source {source.name} lists the ids of {source.entity}, which source "
                f"{other.name} lists already; an entity has at most one listing source"
            )
    return None


_SOURCE_FIELDS = (
    "name",
    "kind",
    "location",
    "entity",
    "entity_key",
    "event_time",
    "ingestion_time",
    "schema",
    "description",
    "lists_entities",
)


def _values(enum: type[Enum]) -> str:
    return ", ".join(str(member.value) for member in enum)


def schema_mismatches(
    declared: Mapping[str, ColumnType], actual: Mapping[str, ColumnType | str | None]
) -> list[str]:
    """Sentences for each declared column that is missing or has another type in the data.

    `actual` maps the data's columns to their type, or to the engine's name of a type Lucid
    does not map (None when the engine gives no name). Extra columns in the data are allowed.
    """
    problems = []
    for column, kind in declared.items():
        if column not in actual:
            problems.append(f"column {column!r} is declared but not in the data")
        elif actual[column] is not kind and not _compatible(kind, actual[column]):
            found = actual[column]
            problems.append(
                f"column {column!r} is declared {kind.value} but the data has {_type_named(found)}"
            )
    return problems


def _type_named(found: ColumnType | str | None) -> str:
    if isinstance(found, ColumnType):
        return found.value
    return f"the unsupported type {found}" if found else "an unsupported type"


def _compatible(declared: ColumnType, actual: ColumnType | str | None) -> bool:
    # An integer column may be read where a double is declared; nothing else converts silently.
    return declared is ColumnType.DOUBLE and actual is ColumnType.INTEGER


# --- the computation ---------------------------------------------------------------------


class Operator(Enum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not in"
    IS_NULL = "is null"
    NOT_NULL = "is not null"


Scalar = str | int | float | bool


@dataclass(frozen=True, slots=True)
class Condition:
    """`column op value`, e.g. `is_bot = true` or `plan in [pro, team]`."""

    column: str
    op: Operator
    value: Scalar | tuple[Scalar, ...] | None = None

    def __post_init__(self) -> None:
        where = f"condition on {self.column}"
        if self.op in (Operator.IS_NULL, Operator.NOT_NULL):
            if self.value is not None:
                raise InvalidInput(where, f"'{self.op.value}' takes no value")
        elif self.op in (Operator.IN, Operator.NOT_IN):
            if not isinstance(self.value, tuple) or not self.value:
                raise InvalidInput(where, f"'{self.op.value}' needs a non-empty list of values")
        elif self.value is None or isinstance(self.value, tuple):
            raise InvalidInput(where, f"'{self.op.value}' needs one value")
        for item in self.value if isinstance(self.value, tuple) else (self.value,):
            if isinstance(item, float) and not math.isfinite(item):
                raise InvalidInput(where, "values must be finite numbers")

    @classmethod
    def from_dict(cls, data: object, where: str) -> Condition:
        mapping = _mapping(data, where)
        _refuse_unknown(mapping, ("column", "op", "value"), where)
        try:
            op = Operator(str(mapping.get("op", "=")).lower())
        except ValueError:
            raise InvalidInput(
                f"{where}.op", f"{mapping.get('op')!r} must be one of {_values(Operator)}"
            ) from None
        value = mapping.get("value")
        if isinstance(value, list):
            value = tuple(value)
        return cls(_text(mapping.get("column"), f"{where}.column"), op, value)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"column": self.column, "op": self.op.value}
        if self.value is not None:
            data["value"] = list(self.value) if isinstance(self.value, tuple) else self.value
        return data

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.column} {self.op.value}"
        shown = list(self.value) if isinstance(self.value, tuple) else self.value
        return f"{self.column} {self.op.value} {json.dumps(shown)}"


class Aggregate(Enum):
    """Per-source aggregation over the events in the window."""

    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    COUNT_DISTINCT = "count_distinct"
    LAST = "last"
    """The column's value in the latest event of the window (a snapshot, e.g. the plan)."""

    @property
    def needs_column(self) -> bool:
        return self is not Aggregate.COUNT

    @property
    def zero_when_empty(self) -> bool:
        """Counts and sums of no events are 0; the others are missing (NULL)."""
        return self in (Aggregate.COUNT, Aggregate.SUM, Aggregate.COUNT_DISTINCT)


class NormaliserKind(Enum):
    """How a per-source aggregate is brought to a common scale before weighting.

    - none: x
    - cap: min(x, cap) / cap — a share of a declared ceiling, in [0, 1] for x ≥ 0
    - log1p: ln(1 + x)
    - saturating: x / (x + half) — 0.5 at x = half, approaching 1
    """

    NONE = "none"
    CAP = "cap"
    LOG1P = "log1p"
    SATURATING = "saturating"


@dataclass(frozen=True, slots=True)
class Normaliser:
    kind: NormaliserKind = NormaliserKind.NONE
    parameter: float | None = None

    def __post_init__(self) -> None:
        if self.parameter is not None:  # 20 and 20.0 are the same cap: one fingerprint
            object.__setattr__(self, "parameter", float(self.parameter))
        needs = self.kind in (NormaliserKind.CAP, NormaliserKind.SATURATING)
        if needs and (
            self.parameter is None or not math.isfinite(self.parameter) or self.parameter <= 0
        ):
            name = "cap" if self.kind is NormaliserKind.CAP else "half"
            raise InvalidInput(
                f"normalise.{name}", f"the {self.kind.value} normaliser needs a finite {name} > 0"
            )
        if not needs and self.parameter is not None:
            raise InvalidInput("normalise", f"the {self.kind.value} normaliser takes no parameter")

    @classmethod
    def from_dict(cls, data: object, where: str) -> Normaliser:
        if data is None:
            return cls()
        if isinstance(data, str):
            data = {"kind": data}
        mapping = _mapping(data, where)
        _refuse_unknown(mapping, ("kind", "cap", "half"), where)
        try:
            kind = NormaliserKind(mapping.get("kind"))
        except ValueError:
            raise InvalidInput(
                f"{where}.kind", f"{mapping.get('kind')!r} must be one of {_values(NormaliserKind)}"
            ) from None
        parameter = mapping.get("cap", mapping.get("half"))
        if parameter is not None and (
            isinstance(parameter, bool) or not isinstance(parameter, int | float)
        ):
            raise InvalidInput(f"{where}", f"parameter {parameter!r} must be a number")
        return cls(kind, float(parameter) if parameter is not None else None)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.kind is NormaliserKind.CAP:
            data["cap"] = self.parameter
        elif self.kind is NormaliserKind.SATURATING:
            data["half"] = self.parameter
        return data

    def __str__(self) -> str:
        if self.parameter is None:
            return self.kind.value
        return f"{self.kind.value}({self.parameter:g})"


@dataclass(frozen=True, slots=True)
class Term:
    """One source's contribution: `weight × normalise(aggregate(column) over filtered events)`."""

    source: str
    aggregate: Aggregate = Aggregate.COUNT
    column: str | None = None
    filters: tuple[Condition, ...] = ()
    normalise: Normaliser = field(default_factory=Normaliser)
    weight: float = 1.0

    def __post_init__(self) -> None:
        where = f"term {self.source}"
        check_name(self.source, f"{where}.source")
        if self.aggregate.needs_column and not self.column:
            raise InvalidInput(f"{where}.column", f"the {self.aggregate.value} aggregate needs one")
        if not self.aggregate.needs_column and self.column is not None:
            raise InvalidInput(f"{where}.column", "count counts events and takes no column")
        object.__setattr__(self, "weight", float(self.weight))
        if not math.isfinite(self.weight) or self.weight == 0:
            raise InvalidInput(f"{where}.weight", f"{self.weight} must be a finite non-zero number")

    @classmethod
    def from_dict(cls, data: object, where: str) -> Term:
        mapping = _mapping(data, where)
        _refuse_unknown(
            mapping, ("source", "aggregate", "column", "filters", "normalise", "weight"), where
        )
        try:
            aggregate = Aggregate(mapping.get("aggregate", "count"))
        except ValueError:
            raise InvalidInput(
                f"{where}.aggregate",
                f"{mapping.get('aggregate')!r} must be one of {_values(Aggregate)}",
            ) from None
        weight = mapping.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise InvalidInput(f"{where}.weight", f"{weight!r} must be a number")
        filters = mapping.get("filters") or []
        if not isinstance(filters, list):
            raise InvalidInput(f"{where}.filters", "must be a list of conditions")
        return cls(
            source=check_name(mapping.get("source"), f"{where}.source"),
            aggregate=aggregate,
            column=mapping.get("column"),
            filters=tuple(
                Condition.from_dict(item, f"{where}.filters[{index}]")
                for index, item in enumerate(filters)
            ),
            normalise=Normaliser.from_dict(mapping.get("normalise"), f"{where}.normalise"),
            weight=float(weight),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source": self.source, "aggregate": self.aggregate.value}
        if self.column is not None:
            data["column"] = self.column
        if self.filters:
            data["filters"] = [condition.to_dict() for condition in self.filters]
        data["normalise"] = self.normalise.to_dict()
        data["weight"] = self.weight
        return data

    def describe(self) -> str:
        target = f"({self.column})" if self.column else ""
        filters = f" where {' and '.join(map(str, self.filters))}" if self.filters else ""
        return f"{self.aggregate.value}{target}{filters}"


@dataclass(frozen=True, slots=True)
class WindowedAggregation:
    """Σ over terms of weight × normalise(aggregate of that source's events in the window)."""

    terms: tuple[Term, ...]

    def __post_init__(self) -> None:
        if not self.terms:
            raise InvalidInput("computation.aggregation", "must list at least one source term")
        sources = [term.source for term in self.terms]
        if len(set(sources)) != len(sources):
            raise InvalidInput("computation.aggregation", "each source may appear in one term only")

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(term.source for term in self.terms)

    def to_dict(self) -> dict[str, Any]:
        terms = sorted(self.terms, key=lambda term: term.source)
        return {"aggregation": [term.to_dict() for term in terms]}


@dataclass(frozen=True, slots=True)
class SqlAggregate:
    """An aggregate SQL expression over one source's events in the window,
    e.g. `SUM(amount) FILTER (WHERE status = 'paid')`; Lucid applies the window and
    exclusions, so the expression cannot look outside them."""

    source: str
    expression: str

    def __post_init__(self) -> None:
        check_name(self.source, "computation.sql.source")
        if not self.expression.strip():
            raise InvalidInput("computation.sql.expression", "must be a SQL aggregate expression")

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,)

    def to_dict(self) -> dict[str, Any]:
        return {"sql": {"source": self.source, "expression": " ".join(self.expression.split())}}


Computation = WindowedAggregation | SqlAggregate


def computation_from_dict(data: object) -> Computation:
    mapping = _mapping(data, "computation")
    _refuse_unknown(mapping, ("aggregation", "sql"), "computation")
    if ("aggregation" in mapping) == ("sql" in mapping):
        raise InvalidInput("computation", "must be either an aggregation or sql, exactly one")
    if "sql" in mapping:
        sql = _mapping(mapping["sql"], "computation.sql")
        _refuse_unknown(sql, ("source", "expression"), "computation.sql")
        return SqlAggregate(
            check_name(sql.get("source"), "computation.sql.source"),
            _text(sql.get("expression"), "computation.sql.expression"),
        )
    terms = mapping["aggregation"]
    if not isinstance(terms, list):
        raise InvalidInput("computation.aggregation", "must be a list of source terms")
    return WindowedAggregation(
        tuple(Term.from_dict(item, f"computation.aggregation[{i}]") for i, item in enumerate(terms))
    )


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Rows for which `where` holds are left out (a NULL condition does not exclude).

    `sources` limits the exclusion to some sources; empty means every source of the feature.
    """

    name: str
    where: Condition
    sources: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: object, where: str) -> Exclusion:
        mapping = _mapping(data, where)
        _refuse_unknown(mapping, ("name", "where", "sources"), where)
        sources = mapping.get("sources") or []
        if not isinstance(sources, list):
            raise InvalidInput(f"{where}.sources", "must be a list of source names")
        return cls(
            check_name(mapping.get("name"), f"{where}.name"),
            Condition.from_dict(mapping.get("where"), f"{where}.where"),
            tuple(check_name(source, f"{where}.sources") for source in sources),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "where": self.where.to_dict()}
        if self.sources:
            data["sources"] = sorted(self.sources)
        return data

    def applies_to(self, source: str) -> bool:
        return not self.sources or source in self.sources


class ValueType(Enum):
    FLOAT = "float"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    STRING = "string"

    def coerce(self, value: Any) -> Any:
        """A stored value in this type (online stores may keep booleans as 0/1)."""
        if value is None:
            return None
        if self is ValueType.BOOLEAN:
            return bool(value)
        if self is ValueType.INTEGER:
            return int(value)
        if self is ValueType.FLOAT:
            return float(value)
        return str(value)


@dataclass(frozen=True, slots=True)
class GoldenExample:
    """A small input → expected-output case a definition must reproduce on every path.

    `events` maps a source name to its rows (column → value; times as ISO-8601 text, read as
    UTC); `at` is the time the value is computed for; `expected` is the value (None: missing).
    """

    entity: str
    at: str
    events: Mapping[str, tuple[Mapping[str, Any], ...]]
    expected: Scalar | None
    description: str = ""

    @classmethod
    def from_dict(cls, data: object, where: str) -> GoldenExample:
        mapping = _mapping(data, where)
        _refuse_unknown(mapping, ("entity", "at", "events", "expected", "description"), where)
        events = _mapping(mapping.get("events", {}), f"{where}.events")
        rows: dict[str, tuple[Mapping[str, Any], ...]] = {}
        for source, items in events.items():
            if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
                raise InvalidInput(f"{where}.events.{source}", "must be a list of rows")
            rows[str(source)] = tuple(
                {str(key): _iso(value) for key, value in i.items()} for i in items
            )
        if "expected" not in mapping:
            raise InvalidInput(f"{where}.expected", "is required (null for a missing value)")
        at = mapping.get("at")
        return cls(
            entity=_text(str(mapping.get("entity", "")), f"{where}.entity"),
            at=_text(_iso(at), f"{where}.at"),
            events=rows,
            expected=mapping["expected"],
            description=str(mapping.get("description", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "at": self.at,
            "events": {source: [dict(row) for row in rows] for source, rows in self.events.items()},
            "expected": self.expected,
            "description": self.description,
        }


def values_match(expected: Any, actual: Any, tolerance: float = 1e-9) -> bool:
    """Equal values, numbers within `tolerance` (absolute, or relative to the larger one)."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return bool(expected) == bool(actual) and type(expected) is type(actual)
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        scale = max(abs(float(expected)), abs(float(actual)), 1.0)
        return abs(float(expected) - float(actual)) <= tolerance * scale
    return bool(expected == actual)


# --- the definition ----------------------------------------------------------------------

MEANING_FIELDS = ("entity", "value_type", "window", "ttl", "computation", "exclusions", "concept")
OPTIONAL_FIELDS = ("tags", "unit", "docs_url", "examples")
GOVERNANCE_FIELDS = ("required_approvals",)
TEXT_FIELDS = ("description", "owner")
_DEFINITION_FIELDS = (
    "name",
    "version",
    *MEANING_FIELDS,
    *OPTIONAL_FIELDS,
    *GOVERNANCE_FIELDS,
    *TEXT_FIELDS,
)


@dataclass(frozen=True, slots=True)
class FeatureDefinition:
    """One version of a feature: what it means (the computation) and who answers for it."""

    name: str
    version: Version
    concept: str
    description: str
    owner: str
    entity: str
    value_type: ValueType
    window: Duration
    computation: Computation
    exclusions: tuple[Exclusion, ...] = ()
    ttl: Duration | None = None
    required_approvals: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    unit: str | None = None
    docs_url: str | None = None
    examples: tuple[GoldenExample, ...] = ()

    def __post_init__(self) -> None:
        check_name(self.name, "name")
        check_name(self.concept, f"{self.name}.concept")
        check_name(self.entity, f"{self.name}.entity")
        _text(self.description, f"{self.name}.description")
        _text(self.owner, f"{self.name}.owner")
        for team in self.required_approvals:
            if not _TEAM.match(team):
                raise InvalidInput(
                    f"{self.name}.required_approvals", f"team {team!r} must be a lower-case name"
                )
        if len(set(self.required_approvals)) != len(self.required_approvals):
            raise InvalidInput(f"{self.name}.required_approvals", "lists a team twice")
        sources = set(self.computation.sources)
        for number, example in enumerate(self.examples):
            strangers = sorted(set(example.events) - sources)
            if strangers:
                raise InvalidInput(
                    f"{self.name}.examples[{number}].events",
                    f"{', '.join(strangers)} is not a source of this feature",
                )
        for exclusion in self.exclusions:
            unknown = set(exclusion.sources) - sources
            if unknown:
                raise InvalidInput(
                    f"{self.name}.exclusions.{exclusion.name}.sources",
                    f"{', '.join(sorted(unknown))} is not a source of this feature",
                )

    @property
    def ref(self) -> FeatureRef:
        return FeatureRef(self.name, self.version)

    @property
    def empty_value(self) -> Any:
        """The value for an entity with no kept event in the window: 0 when every term is a
        count or sum (each declared normaliser maps 0 to 0), else missing (None)."""
        computation = self.computation
        if isinstance(computation, WindowedAggregation) and all(
            term.aggregate.zero_when_empty for term in computation.terms
        ):
            return self.value_type.coerce(0)
        return None

    @property
    def sources(self) -> tuple[str, ...]:
        return self.computation.sources

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureDefinition:
        """Build a definition from the mapping a YAML file holds (the SDK shares the model)."""
        name = check_name(data.get("name"), "name")
        _refuse_unknown(data, _DEFINITION_FIELDS, name)
        try:
            value_type = ValueType(data.get("value_type", "float"))
        except ValueError:
            raise InvalidInput(
                f"{name}.value_type",
                f"{data.get('value_type')!r} must be one of {_values(ValueType)}",
            ) from None
        exclusions = data.get("exclusions") or []
        if not isinstance(exclusions, list):
            raise InvalidInput(f"{name}.exclusions", "must be a list")
        teams = data.get("required_approvals") or []
        tags = data.get("tags") or []
        if not isinstance(teams, list) or not isinstance(tags, list):
            raise InvalidInput(f"{name}.required_approvals", "and tags must be lists")
        if "computation" not in data:
            raise InvalidInput(f"{name}.computation", "is required")
        return cls(
            name=name,
            version=Version.parse(data.get("version"), f"{name}.version"),
            concept=check_name(data.get("concept"), f"{name}.concept"),
            description=_text(data.get("description"), f"{name}.description"),
            owner=_text(data.get("owner"), f"{name}.owner"),
            entity=check_name(data.get("entity"), f"{name}.entity"),
            value_type=value_type,
            window=Duration.parse(data.get("window"), f"{name}.window"),
            computation=computation_from_dict(data["computation"]),
            exclusions=tuple(
                Exclusion.from_dict(item, f"{name}.exclusions[{index}]")
                for index, item in enumerate(exclusions)
            ),
            ttl=Duration.parse(data["ttl"], f"{name}.ttl") if data.get("ttl") else None,
            required_approvals=tuple(str(team) for team in teams),
            tags=tuple(str(tag) for tag in tags),
            unit=data.get("unit"),
            docs_url=data.get("docs_url"),
            examples=tuple(
                GoldenExample.from_dict(item, f"{name}.examples[{index}]")
                for index, item in enumerate(_list(data.get("examples"), f"{name}.examples"))
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The canonical mapping: what is stored, diffed and (in part) fingerprinted."""
        data: dict[str, Any] = {
            "name": self.name,
            "version": str(self.version),
            "concept": self.concept,
            "description": self.description,
            "owner": self.owner,
            "entity": self.entity,
            "value_type": self.value_type.value,
            "window": str(self.window),
            "computation": self.computation.to_dict(),
            "exclusions": [e.to_dict() for e in sorted(self.exclusions, key=lambda e: e.name)],
            "ttl": str(self.ttl) if self.ttl else None,
            "required_approvals": sorted(self.required_approvals),
            "tags": sorted(self.tags),
            "unit": self.unit,
            "docs_url": self.docs_url,
            "examples": [example.to_dict() for example in self.examples],
        }
        return data

    def meaning(self) -> dict[str, Any]:
        """The fields that decide what the value means; their change needs a major version."""
        full = self.to_dict()
        return {key: full[key] for key in MEANING_FIELDS}

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the normalised meaning (term order, spacing and text fields ignored)."""
        canonical = json.dumps(self.meaning(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# --- versions derived from the diff ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: Any
    new: Any
    bump: Bump


def _bump_of(field_name: str) -> Bump:
    if field_name in MEANING_FIELDS:
        return Bump.MAJOR
    if field_name in OPTIONAL_FIELDS or field_name in GOVERNANCE_FIELDS:
        return Bump.MINOR
    return Bump.PATCH


def diff_definitions(old: FeatureDefinition, new: FeatureDefinition) -> list[FieldChange]:
    """Every field that differs, with the version bump its change needs."""
    before, after = old.to_dict(), new.to_dict()
    changes = []
    for key in _DEFINITION_FIELDS:
        if key in ("name", "version") or before.get(key) == after.get(key):
            continue
        changes.append(FieldChange(key, before.get(key), after.get(key), _bump_of(key)))
    return changes


def required_bump(changes: Sequence[FieldChange]) -> Bump:
    return max((change.bump for change in changes), key=lambda bump: bump.value, default=Bump.NONE)


class PlanAction(Enum):
    ADD = "add"
    NEW_VERSION = "new version"
    KEEP = "keep"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class PlanItem:
    """What `apply` would do with one definition, and why."""

    ref: FeatureRef
    action: PlanAction
    changes: tuple[FieldChange, ...] = ()
    required: Bump = Bump.NONE
    previous: Version | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": str(self.ref),
            "action": self.action.value,
            "previous": str(self.previous) if self.previous else None,
            "required_bump": self.required.label if self.required is not Bump.NONE else None,
            "changes": [
                {"field": c.field, "old": c.old, "new": c.new, "bump": c.bump.label}
                for c in self.changes
            ],
            "reason": self.reason,
        }


def plan_definition(desired: FeatureDefinition, stored: Sequence[FeatureDefinition]) -> PlanItem:
    """Decide what applying `desired` means, given the stored versions of the same name."""
    ref = desired.ref
    same = [d for d in stored if d.version == desired.version]
    if same:
        changes = tuple(diff_definitions(same[0], desired))
        if not changes:
            return PlanItem(ref, PlanAction.KEEP, reason="identical to the stored version")
        needed = required_bump(changes)
        latest = max(d.version for d in stored)
        return PlanItem(
            ref,
            PlanAction.REFUSE,
            changes,
            needed,
            desired.version,
            f"{ref} is already stored and this file changes "
            f"{', '.join(c.field for c in changes)}; a {needed.label} change needs version "
            f"{latest.bumped(needed)} (nothing is changed under an existing version)",
        )
    if not stored:
        return PlanItem(ref, PlanAction.ADD, reason="new feature")
    latest_definition = max(stored, key=lambda d: d.version)
    latest = latest_definition.version
    if desired.version < latest:
        return PlanItem(
            ref,
            PlanAction.REFUSE,
            previous=latest,
            reason=f"version {desired.version} is older than the stored {latest}; versions only "
            "go forward",
        )
    changes = tuple(diff_definitions(latest_definition, desired))
    needed = required_bump(changes)
    if not changes:
        return PlanItem(
            ref,
            PlanAction.REFUSE,
            previous=latest,
            reason=f"nothing changed since {desired.name}@{latest}; keep that version",
        )
    given = desired.version.bump_from(latest)
    if given.value < needed.value:
        return PlanItem(
            ref,
            PlanAction.REFUSE,
            changes,
            needed,
            latest,
            f"changing {', '.join(c.field for c in changes if c.bump is needed)} is a "
            f"{needed.label} change: {desired.name}@{latest} must become at least "
            f"{latest.bumped(needed)}, not {desired.version}",
        )
    return PlanItem(ref, PlanAction.NEW_VERSION, changes, needed, latest, f"{given.label} bump")


# --- governance --------------------------------------------------------------------------


class Status(Enum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    DEPRECATED = "deprecated"
    LEGACY = "legacy"

    @property
    def active(self) -> bool:
        """Whether the definition still speaks for its concept (deprecated ones do not)."""
        return self is not Status.DEPRECATED


@dataclass(frozen=True, slots=True)
class Approval:
    team: str
    person: str


@dataclass(frozen=True, slots=True)
class Governed:
    """A stored definition with its governance state."""

    definition: FeatureDefinition
    status: Status
    proposed_by: str
    approvals: tuple[Approval, ...] = ()

    @property
    def missing_teams(self) -> tuple[str, ...]:
        done = {approval.team for approval in self.approvals}
        return tuple(t for t in self.definition.required_approvals if t not in done)

    @property
    def was_approved(self) -> bool:
        """Approved now, or approved before it was superseded or retired."""
        if self.status is Status.APPROVED:
            return True
        return (
            self.status is Status.DEPRECATED
            and bool(self.definition.required_approvals)
            and not self.missing_teams
        )


def check_servable(governed: Governed) -> None:
    """Only definitions that every required team approved are served to models online."""
    if not governed.was_approved:
        raise Forbidden(
            f"{governed.definition.ref} is {governed.status.value} and was never approved by "
            "every required team; online serving uses approved definitions only."
        )


def check_trainable(governed: Governed) -> None:
    """Training sets take approved definitions, and proposed ones for evaluation before
    approval; legacy team definitions are kept for the audit, never computed for models."""
    if governed.status is Status.LEGACY or (
        governed.status is Status.DEPRECATED and not governed.was_approved
    ):
        raise Forbidden(
            f"{governed.definition.ref} is a legacy definition that was never approved; "
            "training sets use approved (or proposed) definitions."
        )


def is_stale(data_time: float | None, ttl: Duration | None, now: float) -> bool:
    """Whether a value whose latest underlying event happened at epoch `data_time` (seconds;
    None for an empty window) is past `ttl` at epoch `now`: the data is older than the TTL, or
    nothing recent stands behind it. Without a TTL a value never is."""
    return ttl is not None and (data_time is None or now - data_time > ttl.seconds)


def check_approval(governed: Governed, team: str, person: str) -> bool:
    """Refuse an approval that breaks a rule; True when it completes the required approvals."""
    definition = governed.definition
    if governed.status is not Status.PROPOSED:
        raise Conflict(
            f"{definition.ref} is {governed.status.value}; only proposed definitions are approved."
        )
    if person == governed.proposed_by:
        raise Forbidden(
            f"{person} proposed {definition.ref} and cannot approve it: nobody approves their "
            "own change."
        )
    if team not in definition.required_approvals:
        required = ", ".join(definition.required_approvals) or "none"
        raise Forbidden(
            f"team {team!r} is not among the teams that must approve {definition.ref} ({required})."
        )
    if any(approval.team == team for approval in governed.approvals):
        raise Conflict(f"team {team} has already approved {definition.ref}.")
    return set(governed.missing_teams) == {team}


def check_canonical(candidate: Governed, others: Iterable[Governed]) -> list[Governed]:
    """The definitions `candidate` supersedes when approved; refuse a second canonical one.

    An earlier approved version of the same feature is superseded (deprecated, history kept);
    an approved definition of the same concept under another name blocks the approval.
    """
    superseded = []
    for other in others:
        if other.status is not Status.APPROVED or other.definition.concept != (
            candidate.definition.concept
        ):
            continue
        if other.definition.name == candidate.definition.name:
            superseded.append(other)
            continue
        raise Conflict(
            f"concept {candidate.definition.concept} already has the approved definition "
            f"{other.definition.ref}; at most one definition per concept is canonical — "
            f"deprecate it or propose a new version of {other.definition.name}."
        )
    return superseded


# --- training-serving skew ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SkewStats:
    """How served values compare with the offline recomputation at the served time.

    `mismatch_rate`: share of served values that differ beyond the tolerance, a missing or stale
    value where offline has one counting as a mismatch; `missing_rate`: share served missing
    or stale; `mean_relative_error`: over pairs where both sides are numbers.
    """

    feature: str
    served: int
    mismatches: int
    missing: int
    mean_relative_error: float

    @property
    def mismatch_rate(self) -> float:
        return self.mismatches / self.served if self.served else 0.0

    @property
    def missing_rate(self) -> float:
        return self.missing / self.served if self.served else 0.0

    @classmethod
    def of(cls, feature: str, pairs: Iterable[tuple[Any, Any]], tolerance: float) -> SkewStats:
        """Stats over (served, offline) pairs; a served None means missing or stale."""
        served = mismatches = missing = numeric = 0
        relative = 0.0
        for online, offline in pairs:
            served += 1
            if online is None:
                missing += 1
            if not values_match(offline, online, tolerance):
                mismatches += 1
            if isinstance(online, int | float) and isinstance(offline, int | float):
                numeric += 1
                relative += abs(float(online) - float(offline)) / max(abs(float(offline)), 1e-12)
        return cls(feature, served, mismatches, missing, relative / numeric if numeric else 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "served": self.served,
            "mismatch_rate": self.mismatch_rate,
            "missing_rate": self.missing_rate,
            "mean_relative_error": self.mean_relative_error,
        }


def overall_skew(stats: Sequence[SkewStats]) -> SkewStats:
    """Every feature's stats pooled into one."""
    served = sum(s.served for s in stats)
    numeric_weight = sum(s.served for s in stats if s.served)
    error = (
        sum(s.mean_relative_error * s.served for s in stats) / numeric_weight
        if numeric_weight
        else 0.0
    )
    return SkewStats(
        "overall", served, sum(s.mismatches for s in stats), sum(s.missing for s in stats), error
    )


# --- contradiction audit -----------------------------------------------------------------


AUDIT_FIELDS = (
    "entity",
    "window",
    "sources",
    "filters",
    "aggregates",
    "normalisers",
    "weights",
    "exclusions",
    "sql",
    "value_type",
    "ttl",
)


def comparable_fields(definition: FeatureDefinition) -> dict[str, Any]:
    """The meaning of a definition spelled out field by field, for a readable diff."""
    computation = definition.computation
    terms = (
        sorted(computation.terms, key=lambda t: t.source)
        if isinstance(computation, WindowedAggregation)
        else []
    )
    return {
        "entity": definition.entity,
        "window": str(definition.window),
        "sources": list(definition.sources),
        "filters": {t.source: [str(c) for c in t.filters] for t in terms if t.filters} or None,
        "aggregates": {t.source: t.describe() for t in terms} or None,
        "normalisers": {t.source: str(t.normalise) for t in terms} or None,
        "weights": {t.source: t.weight for t in terms} or None,
        "exclusions": sorted(
            f"{e.name}: {e.where}" + (f" (on {', '.join(e.sources)})" if e.sources else "")
            for e in definition.exclusions
        ),
        "sql": computation.to_dict()["sql"]["expression"]
        if isinstance(computation, SqlAggregate)
        else None,
        "value_type": definition.value_type.value,
        "ttl": str(definition.ttl) if definition.ttl else None,
    }


@dataclass(frozen=True, slots=True)
class ConceptContradiction:
    concept: str
    canonical: FeatureRef | None
    definitions: tuple[Governed, ...]
    contradictory: tuple[FeatureRef, ...]
    differences: tuple[tuple[str, dict[str, Any]], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "concept": self.concept,
            "canonical": str(self.canonical) if self.canonical else None,
            "definitions": [
                {
                    "name": g.definition.name,
                    "version": str(g.definition.version),
                    "owner": g.definition.owner,
                    "status": g.status.value,
                    "contradicts": g.definition.ref in self.contradictory,
                }
                for g in self.definitions
            ],
            "differences": [{"field": name, "values": values} for name, values in self.differences],
        }


@dataclass(frozen=True, slots=True)
class AuditReport:
    concepts: tuple[ConceptContradiction, ...]

    @property
    def contradictory_definitions(self) -> int:
        return sum(len(concept.contradictory) for concept in self.concepts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contradictory_definitions": self.contradictory_definitions,
            "concepts": [concept.to_dict() for concept in self.concepts],
        }


def audit(definitions: Iterable[Governed]) -> AuditReport:
    """Contradictions among active definitions: same concept, different computation.

    With a canonical (approved) definition, every active definition of the concept whose
    meaning differs from it contradicts it — except proposed new versions of the canonical
    feature itself, which are pending changes, not rivals. Without one, when the active
    definitions disagree, each of them counts.
    """
    by_concept: dict[str, list[Governed]] = {}
    for governed in definitions:
        if governed.status.active:
            by_concept.setdefault(governed.definition.concept, []).append(governed)
    found = []
    for concept in sorted(by_concept):
        members = sorted(
            by_concept[concept], key=lambda g: (g.definition.name, g.definition.version)
        )
        canonical = next((g for g in members if g.status is Status.APPROVED), None)
        if canonical is not None:
            rivals = [
                g
                for g in members
                if g is not canonical
                and g.definition.name != canonical.definition.name
                and g.definition.fingerprint != canonical.definition.fingerprint
            ]
        elif len({g.definition.fingerprint for g in members}) > 1:
            rivals = members
        else:
            rivals = []
        if not rivals:
            continue
        compared = [canonical, *rivals] if canonical else rivals
        fields = {str(g.definition.ref): comparable_fields(g.definition) for g in compared}
        differences = []
        for name in AUDIT_FIELDS:
            values = {ref: item[name] for ref, item in fields.items()}
            if len({json.dumps(v, sort_keys=True) for v in values.values()}) > 1:
                differences.append((name, values))
        found.append(
            ConceptContradiction(
                concept,
                canonical.definition.ref if canonical else None,
                tuple(members),
                tuple(g.definition.ref for g in rivals),
                tuple(differences),
            )
        )
    return AuditReport(tuple(found))


def with_version(definition: FeatureDefinition, version: str) -> FeatureDefinition:
    """A copy of `definition` at another version (for plans and tests)."""
    return replace(definition, version=Version.parse(version))


# --- events of the semantic contract -----------------------------------------------------


@event_type("SourceRegistered")
@dataclass(frozen=True)
class SourceRegistered(DomainEvent):
    """An event source was registered after its schema was checked against its data."""

    name: str
    spec: dict[str, Any]


@event_type("FeatureProposed")
@dataclass(frozen=True)
class FeatureProposed(DomainEvent):
    """A new feature, or a new version of one, awaits the approval of the teams it names."""

    name: str
    version: str
    concept: str
    fingerprint: str
    required_approvals: list[str]
    previous: str | None
    bump: str | None
    changes: list[dict[str, Any]]
    spec: dict[str, Any]


@event_type("FeatureApprovalGiven")
@dataclass(frozen=True)
class FeatureApprovalGiven(DomainEvent):
    """One required team approved a proposed definition."""

    name: str
    version: str
    team: str
    person: str
    missing_teams: list[str]


@event_type("FeatureApproved")
@dataclass(frozen=True)
class FeatureApproved(DomainEvent):
    """Every required team approved: the definition is now its concept's canonical one."""

    name: str
    version: str
    concept: str
    fingerprint: str
    approvals: list[dict[str, str]]


@event_type("FeatureDeprecated")
@dataclass(frozen=True)
class FeatureDeprecated(DomainEvent):
    """A definition stopped speaking for its concept; its history is kept."""

    name: str
    version: str
    previous_status: str
    superseded_by: str | None


@event_type("LegacyFeatureImported")
@dataclass(frozen=True)
class LegacyFeatureImported(DomainEvent):
    """A team's existing definition, never approved, was imported to be audited."""

    name: str
    version: str
    concept: str
    owner: str
    fingerprint: str
    spec: dict[str, Any]
