"""Serving a registered version: a callable from feature rows to predictions.

The version's artifact is loaded only after its SHA-256 is checked. Rows are mappings from the
pinned feature names to values; each row's inputs are built by name in the order the model
takes them (its signature), whatever the order of the pins — a version stored without a
signature takes them in the order it pinned them. A model that knows its input names gets a
table with those column names, so it checks them itself. `for_entities` reads those rows from
the online store at exactly the pinned feature versions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from lucid.errors import Conflict, InvalidInput
from lucid.ports.feature_catalog import FeatureCatalog
from lucid.registry.model_signature import feature_name, of_estimator


@dataclass(frozen=True)
class ServedModel:
    """A loaded version: call it with feature rows, get one prediction per row. `inputs` are
    the feature names in the order the model takes them (None: the order of the pins)."""

    name: str
    version: int
    features: tuple[str, ...]
    estimator: Any
    catalog: FeatureCatalog | None = None
    inputs: tuple[str, ...] | None = None

    def for_entities(self, entity_ids: Sequence[str]) -> list[Any]:
        """Predictions for entities, their features read online at the pinned versions."""
        return self(self.online_rows(entity_ids))

    def online_rows(self, entity_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Each entity's pinned features read online, by feature name (refused if stale)."""
        if self.catalog is None:
            raise Conflict("This model was loaded without a feature store to read from.")
        return self.by_name(self.catalog.online_rows(entity_ids, self.features))

    def by_name(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Rows keyed by pin (`name@version`) re-keyed by feature name, as the model takes them."""
        return [{feature_name(pin): row[pin] for pin in self.features} for row in rows]

    def scores(self, rows: Sequence[Mapping[str, float]]) -> list[float | None]:
        """P(label = 1) per row when the model gives probabilities, else None per row."""
        if not rows or not hasattr(self.estimator, "predict_proba"):
            return [None] * len(rows)
        matrix = self._matrix(rows)
        return [float(p) for p in self.estimator.predict_proba(matrix)[:, 1]]

    @cached_property
    def columns(self) -> list[str]:
        """The feature names (without versions) in the order the model takes them."""
        if self.inputs is not None:
            return list(self.inputs)
        return [feature_name(pin) for pin in self.features]

    @cached_property
    def _named(self) -> bool:
        """Whether the model is given a table with column names: it knows its input names and
        the version stored them."""
        signature = of_estimator(self.estimator)
        return self.inputs is not None and signature is not None and signature.names is not None

    def __call__(self, rows: Sequence[Mapping[str, float]]) -> list[Any]:
        matrix = self._matrix(rows)
        if not rows:
            return []
        predictions: list[Any] = self.estimator.predict(matrix).tolist()
        return predictions

    def predict_scored(
        self, rows: Sequence[Mapping[str, float]]
    ) -> tuple[list[Any], list[float | None]]:
        """Predictions and scores from one call of the model (serving's hot path: a call's
        input checks cost more than its rows). A classifier with probabilities answers its
        most probable class, so a prediction never contradicts its score, and P(label = 1);
        any other model answers `predict` and no score."""
        matrix = self._matrix(rows)
        if not rows:
            return [], []
        classes = getattr(self.estimator, "classes_", None)
        if classes is None or not hasattr(self.estimator, "predict_proba"):
            return self.estimator.predict(matrix).tolist(), [None] * len(rows)
        probabilities = self.estimator.predict_proba(matrix)
        predictions: list[Any] = classes[probabilities.argmax(axis=1)].tolist()
        return predictions, [float(p) for p in probabilities[:, 1]]

    def _matrix(self, rows: Sequence[Mapping[str, float]]) -> Any:
        """The rows' inputs in the model's order: a list of lists, or a table with the model's
        column names when it knows them; an empty list without rows."""
        columns = self.columns
        matrix: list[list[float]] = []
        for index, row in enumerate(rows):
            missing = [column for column in columns if column not in row]
            if missing:
                raise InvalidInput(
                    f"rows[{index}]", f"lacks the pinned feature(s) {', '.join(missing)}"
                )
            matrix.append([row[column] for column in columns])
        if not matrix or not self._named:
            return matrix
        import pandas as pd  # type: ignore[import-untyped]

        return pd.DataFrame(matrix, columns=columns)
