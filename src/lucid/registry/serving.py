"""Serving a registered version: a callable from feature rows to predictions.

The version's artifact is loaded only after its SHA-256 is checked. Rows are mappings from the
pinned feature names to values, and columns are fed in the order the version pinned them.
`for_entities` reads those rows from the online store at exactly the pinned feature versions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lucid.contracts.value import PINNED_FEATURE, Stage
from lucid.errors import Conflict, InvalidInput
from lucid.registry.model_artifacts import load_estimator
from lucid.registry.service import FeatureCatalog, ModelRegistry, ModelVersion
from lucid.storage.artifacts import ArtifactStore


@dataclass(frozen=True)
class ServedModel:
    """A loaded version: call it with feature rows, get one prediction per row."""

    name: str
    version: int
    features: tuple[str, ...]
    estimator: Any
    catalog: FeatureCatalog | None = None

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
        return [{_feature_name(pin): row[pin] for pin in self.features} for row in rows]

    def scores(self, rows: Sequence[Mapping[str, float]]) -> list[float | None]:
        """P(label = 1) per row when the model gives probabilities, else None per row."""
        if not rows or not hasattr(self.estimator, "predict_proba"):
            return [None] * len(rows)
        matrix = [[row[column] for column in self.columns] for row in rows]
        return [float(p) for p in self.estimator.predict_proba(matrix)[:, 1]]

    @property
    def columns(self) -> list[str]:
        """The feature names (without versions) in the order the model was trained on."""
        return [_feature_name(pin) for pin in self.features]

    def __call__(self, rows: Sequence[Mapping[str, float]]) -> list[Any]:
        matrix = self._matrix(rows)
        if not matrix:
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
        if not matrix:
            return [], []
        classes = getattr(self.estimator, "classes_", None)
        if classes is None or not hasattr(self.estimator, "predict_proba"):
            return self.estimator.predict(matrix).tolist(), [None] * len(matrix)
        probabilities = self.estimator.predict_proba(matrix)
        predictions: list[Any] = classes[probabilities.argmax(axis=1)].tolist()
        return predictions, [float(p) for p in probabilities[:, 1]]

    def _matrix(self, rows: Sequence[Mapping[str, float]]) -> list[list[float]]:
        columns = self.columns
        matrix: list[list[float]] = []
        for index, row in enumerate(rows):
            missing = [column for column in columns if column not in row]
            if missing:
                raise InvalidInput(
                    f"rows[{index}]", f"lacks the pinned feature(s) {', '.join(missing)}"
                )
            matrix.append([row[column] for column in columns])
        return matrix


def _feature_name(pin: str) -> str:
    match = PINNED_FEATURE.match(pin)
    return match["name"] if match else pin


def load_model(
    registry: ModelRegistry,
    artifacts: ArtifactStore,
    name: str,
    stage: Stage | str = Stage.PRODUCTION,
    version: int | None = None,
    *,
    features: FeatureCatalog | None = None,
) -> ServedModel:
    """The version of `name` at `stage` (or the given `version`), ready to predict."""
    chosen: ModelVersion | None
    if version is not None:
        chosen = registry.get_version(name, version)
    else:
        wanted = Stage(stage)
        matching = [v for v in registry.versions(name) if v.stage is wanted]
        chosen = matching[-1] if matching else None
        if chosen is None:
            raise Conflict(f"{name} has no {wanted.value} version to serve.")
    estimator = load_estimator(chosen.artifact, artifacts)
    return ServedModel(chosen.name, chosen.version, chosen.features, estimator, features)
