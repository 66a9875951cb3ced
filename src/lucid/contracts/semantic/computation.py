"""A definition's computation: filters, aggregates, normalisers, weighted terms, SQL aggregates
and exclusions."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from lucid.contracts.semantic.fields import (
    as_column,
    as_mapping,
    as_text,
    check_name,
    enum_values,
    refuse_unknown,
)
from lucid.errors import InvalidInput


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
        as_column(self.column, f"{where}.column")
        for item in self.value if isinstance(self.value, tuple) else (self.value,):
            if item is not None and not isinstance(item, Scalar):
                raise InvalidInput(
                    f"{where}.value", f"{item!r} must be text, a number or true/false"
                )
            if isinstance(item, float) and not math.isfinite(item):
                raise InvalidInput(where, "values must be finite numbers")

    @classmethod
    def from_dict(cls, data: object, where: str) -> Condition:
        mapping = as_mapping(data, where)
        refuse_unknown(mapping, ("column", "op", "value"), where)
        try:
            op = Operator(str(mapping.get("op", "=")).lower())
        except ValueError:
            raise InvalidInput(
                f"{where}.op", f"{mapping.get('op')!r} must be one of {enum_values(Operator)}"
            ) from None
        value = mapping.get("value")
        if isinstance(value, list):
            value = tuple(value)
        return cls(as_column(mapping.get("column"), f"{where}.column"), op, value)

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
        mapping = as_mapping(data, where)
        refuse_unknown(mapping, ("kind", "cap", "half"), where)
        try:
            kind = NormaliserKind(mapping.get("kind"))
        except ValueError:
            raise InvalidInput(
                f"{where}.kind",
                f"{mapping.get('kind')!r} must be one of {enum_values(NormaliserKind)}",
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
        if self.column is not None:
            as_column(self.column, f"{where}.column")
        if self.aggregate.needs_column and not self.column:
            raise InvalidInput(f"{where}.column", f"the {self.aggregate.value} aggregate needs one")
        if not self.aggregate.needs_column and self.column is not None:
            raise InvalidInput(f"{where}.column", "count counts events and takes no column")
        object.__setattr__(self, "weight", float(self.weight))
        if not math.isfinite(self.weight) or self.weight == 0:
            raise InvalidInput(f"{where}.weight", f"{self.weight} must be a finite non-zero number")

    @classmethod
    def from_dict(cls, data: object, where: str) -> Term:
        mapping = as_mapping(data, where)
        refuse_unknown(
            mapping, ("source", "aggregate", "column", "filters", "normalise", "weight"), where
        )
        try:
            aggregate = Aggregate(mapping.get("aggregate", "count"))
        except ValueError:
            raise InvalidInput(
                f"{where}.aggregate",
                f"{mapping.get('aggregate')!r} must be one of {enum_values(Aggregate)}",
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
    e.g. `SUM(amount) FILTER (WHERE status = 'paid')`. Lucid applies the window and
    exclusions; the engines accept only an expression over the source's declared columns
    built from an allow-list of functions (`lucid.engines.sql_aggregates`), refused at
    apply and again when compiled."""

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
    mapping = as_mapping(data, "computation")
    refuse_unknown(mapping, ("aggregation", "sql"), "computation")
    if ("aggregation" in mapping) == ("sql" in mapping):
        raise InvalidInput("computation", "must be either an aggregation or sql, exactly one")
    if "sql" in mapping:
        sql = as_mapping(mapping["sql"], "computation.sql")
        refuse_unknown(sql, ("source", "expression"), "computation.sql")
        return SqlAggregate(
            check_name(sql.get("source"), "computation.sql.source"),
            as_text(sql.get("expression"), "computation.sql.expression"),
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
        mapping = as_mapping(data, where)
        refuse_unknown(mapping, ("name", "where", "sources"), where)
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
