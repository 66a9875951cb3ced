"""The scikit-learn flavour: a fitted estimator (or pipeline, or an XGBoost/LightGBM model
through their scikit-learn API) stored as skops, or as a pickle where the project allows it
(`lucid.registry.sklearn_artifacts`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lucid.registry import sklearn_artifacts
from lucid.registry.model_signature import of_estimator


class SklearnRunner:
    """Runs an estimator. A model that knows its input names is given a table with those
    column names, so it checks them itself (and warns of nothing); one fitted on a bare
    array is given the bare rows."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator
        signature = of_estimator(estimator)
        self._named = signature is not None and signature.names is not None

    def predict_scored(
        self, columns: Sequence[str], matrix: list[list[Any]]
    ) -> tuple[list[Any], list[float | None]]:
        """A classifier with probabilities answers its most probable class, so a prediction
        never contradicts its score, and P(label = 1); any other model answers `predict` and
        no score."""
        table = self._table(columns, matrix)
        classes = getattr(self.estimator, "classes_", None)
        if classes is None or not hasattr(self.estimator, "predict_proba"):
            return self.estimator.predict(table).tolist(), [None] * len(matrix)
        probabilities = self.estimator.predict_proba(table)
        predictions: list[Any] = classes[probabilities.argmax(axis=1)].tolist()
        return predictions, [float(p) for p in probabilities[:, 1]]

    def _table(self, columns: Sequence[str], matrix: list[list[Any]]) -> Any:
        if not self._named:
            return matrix
        import pandas as pd  # type: ignore[import-untyped]

        return pd.DataFrame(matrix, columns=list(columns))


def load(data: bytes, location: str, allow_pickle: bool) -> SklearnRunner:
    """The runner of a stored scikit-learn artifact (skops, or a pickle where allowed)."""
    return SklearnRunner(sklearn_artifacts.load(data, location, allow_pickle))
