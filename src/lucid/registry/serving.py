"""Serving a registered version: a callable from feature rows to predictions.

The version's artifact is loaded only after its SHA-256 is checked, by its flavour
(`lucid.registry.flavours`). Rows are mappings from the input names — the pinned features
without their versions, and the request-time inputs — to values; each row's inputs are built
by name in the order the model takes them (its signature), whatever the order of the pins —
a version stored without a signature takes the pins in the order it pinned them, then the
request-time inputs in the order they were declared. `for_entities` reads those rows from
the online store at exactly the pinned feature versions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from lucid.contracts.value.request_inputs import RequestInput
from lucid.errors import Conflict, InvalidInput
from lucid.ports.feature_catalog import FeatureCatalog
from lucid.registry.flavours import Runner
from lucid.registry.model_signature import feature_name


@dataclass(frozen=True)
class ServedModel:
    """A loaded version: call it with rows of its inputs, get one prediction per row. `inputs`
    are the input names in the order the model takes them (None: the order of the pins, then
    of the request-time inputs); `request_inputs` the values each request gives."""

    name: str
    version: int
    features: tuple[str, ...]
    runner: Runner
    catalog: FeatureCatalog | None = None
    inputs: tuple[str, ...] | None = None
    request_inputs: tuple[RequestInput, ...] = ()

    def for_entities(
        self,
        entity_ids: Sequence[str],
        inputs: Sequence[Mapping[str, Any]] | None = None,
    ) -> list[Any]:
        """Predictions for entities, their features read online at the pinned versions and
        each entity's request-time values from `inputs` (one mapping per entity)."""
        return self(self.online_rows(entity_ids, inputs))

    def online_rows(
        self,
        entity_ids: Sequence[str],
        inputs: Sequence[Mapping[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """Each entity's pinned features read online, by feature name (refused if stale),
        with its request-time values."""
        if self.catalog is None:
            raise Conflict("This model was loaded without a feature store to read from.")
        return self.by_name(self.catalog.online_rows(entity_ids, self.features), inputs)

    def by_name(
        self,
        rows: Sequence[Mapping[str, Any]],
        inputs: Sequence[Mapping[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows keyed by pin (`name@version`) re-keyed by feature name, as the model takes
        them, each with its request-time values (`inputs`, one mapping per row, by name)."""
        named = [{feature_name(pin): row[pin] for pin in self.features} for row in rows]
        if inputs is not None:
            for row, values in zip(named, inputs, strict=True):
                row.update(values)
        return named

    @cached_property
    def columns(self) -> list[str]:
        """The input names (features without versions, request-time inputs) in the order the
        model takes them."""
        if self.inputs is not None:
            return list(self.inputs)
        return [feature_name(pin) for pin in self.features] + [
            spec.name for spec in self.request_inputs
        ]

    def scores(self, rows: Sequence[Mapping[str, Any]]) -> list[float | None]:
        """P(label = 1) per row when the model gives probabilities, else None per row."""
        return self.predict_scored(rows)[1]

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        return self.predict_scored(rows)[0]

    def predict_scored(
        self, rows: Sequence[Mapping[str, Any]]
    ) -> tuple[list[Any], list[float | None]]:
        """Predictions and scores from one call of the model (serving's hot path: a call's
        input checks cost more than its rows): each row's prediction and P(label = 1), or
        no score for a model without probabilities."""
        matrix = self._matrix(rows)
        if not matrix:
            return [], []
        return self.runner.predict_scored(self.columns, matrix)

    def _matrix(self, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
        """The rows' inputs in the model's order."""
        columns = self.columns
        try:
            return [[row[column] for column in columns] for row in rows]
        except KeyError:
            return self._checked_matrix(rows)

    def _checked_matrix(self, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
        """`_matrix`, naming the first row that lacks an input and what it lacks."""
        columns = self.columns
        matrix: list[list[Any]] = []
        for index, row in enumerate(rows):
            missing = [column for column in columns if column not in row]
            if missing:
                asked = {spec.name for spec in self.request_inputs}
                what = "request-time input" if set(missing) <= asked else "pinned feature"
                raise InvalidInput(f"rows[{index}]", f"lacks the {what}(s) {', '.join(missing)}")
            matrix.append([row[column] for column in columns])
        return matrix
