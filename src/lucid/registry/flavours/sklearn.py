"""The scikit-learn flavour: a fitted estimator (or pipeline, or an XGBoost/LightGBM model
through their scikit-learn API) stored as skops, or as a pickle where the project allows it
(`lucid.registry.sklearn_artifacts`).

A model that knows its input names is given a table with those column names, so it checks
them itself. A plain scikit-learn estimator (no estimator inside it) uses its names for that
check and nothing else; a call on a table costs about six times the same call on an array
for a linear model or a tree (`bench/sklearn_runner.py`). So when Lucid has built the rows
in exactly the order of its names and every value is a number, such an estimator is given
the bare array, through a shallow copy that does not keep the names (it still checks the
number of inputs). The copy is used only if it scores probe rows exactly as the estimator
does from a table.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from lucid.registry import sklearn_artifacts
from lucid.registry.model_signature import of_estimator

_PROBES = (0.0, 1.0, -1.5)
"""The values of the probe rows (one row per value, each input the same value)."""


class SklearnRunner:
    """Runs an estimator. A model that knows its input names is given a table with those
    column names (or, for a plain scikit-learn estimator given numbers in their order, the
    same values as an array); one fitted on a bare array is given the bare rows."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator
        signature = of_estimator(estimator)
        self._names = signature.names if signature is not None else None
        self._unnamed = _without_names(estimator, self._names)

    def predict_scored(
        self, columns: Sequence[str], matrix: list[list[Any]]
    ) -> tuple[list[Any], list[float | None]]:
        """A classifier with probabilities answers its most probable class, so a prediction
        never contradicts its score, and P(label = 1); any other model answers `predict` and
        no score."""
        estimator, table = self._input(columns, matrix)
        return _predicted(estimator, table)

    def _input(self, columns: Sequence[str], matrix: list[list[Any]]) -> tuple[Any, Any]:
        """The estimator to call and what to give it."""
        if self._names is None:
            return self.estimator, matrix
        if self._unnamed is not None and tuple(columns) == self._names:
            numbers = _numbers(matrix)
            if numbers is not None:
                return self._unnamed, numbers
        return self.estimator, _table(columns, matrix)


def load(data: bytes, location: str, allow_pickle: bool) -> SklearnRunner:
    """The runner of a stored scikit-learn artifact (skops, or a pickle where allowed)."""
    return SklearnRunner(sklearn_artifacts.load(data, location, allow_pickle))


def _predicted(estimator: Any, table: Any) -> tuple[list[Any], list[float | None]]:
    """`SklearnRunner.predict_scored` of `estimator` given `table`."""
    classes = getattr(estimator, "classes_", None)
    if classes is None or not hasattr(estimator, "predict_proba"):
        return estimator.predict(table).tolist(), [None] * len(table)
    probabilities = estimator.predict_proba(table)
    predictions: list[Any] = classes[probabilities.argmax(axis=1)].tolist()
    return predictions, [float(p) for p in probabilities[:, 1]]


def _table(columns: Sequence[str], matrix: list[list[Any]]) -> Any:
    import pandas as pd  # type: ignore[import-untyped]

    return pd.DataFrame(matrix, columns=list(columns))


def _numbers(matrix: list[list[Any]]) -> Any:
    """The rows as a numeric array (booleans, integers or floats, as a table's columns would
    convert), or None when a value is text, missing or of another kind."""
    try:
        array = np.array(matrix)
    except (ValueError, TypeError, OverflowError):  # rows of different lengths, odd values
        return None
    return array if array.dtype.kind in "biuf" and array.ndim == 2 else None


def _without_names(estimator: Any, names: tuple[str, ...] | None) -> Any:
    """A shallow copy of a plain scikit-learn estimator without its input names, when it
    scores the probe rows as the estimator does from a table; else None."""
    if names is None or not _plain(estimator):
        return None
    unnamed = copy.copy(estimator)
    try:
        del unnamed.feature_names_in_
    except AttributeError:
        return None
    for value in _PROBES:
        rows = [[value] * len(names)]
        try:
            expected = _predicted(estimator, _table(names, rows))
            given = _predicted(unnamed, np.array(rows))
        except Exception:  # a model that refuses the probe is not checked: it keeps its table
            return None
        if repr(given) != repr(expected):
            return None
    return unnamed


def _plain(estimator: Any) -> bool:
    """A scikit-learn estimator holding no other estimator (no pipeline, column transformer,
    ensemble of estimators or wrapper)."""
    if not type(estimator).__module__.startswith("sklearn."):
        return False
    try:
        parameters = estimator.get_params(deep=False)
    except Exception:
        return False
    return not any(hasattr(value, "fit") for value in _flattened(parameters.values()))


def _flattened(values: Any) -> Any:
    for value in values:
        if isinstance(value, list | tuple):
            yield from _flattened(value)
        else:
            yield value
