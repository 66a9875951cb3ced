"""MLflow pyfunc models: the model folder (it holds an `MLmodel` file) copied into the artifact
store as one archive (`archives`), its signature read from `MLmodel`, served by
`mlflow.pyfunc`.

Loading an MLflow model unpickles and runs the model's own Python code, so Lucid loads one
only where the project sets `allow_pickle: true`. A model saved with the scikit-learn flavour
whose estimator has `predict_proba` answers P(label = 1) as its score; any other model answers
its predictions and no score.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from lucid.contracts.value.versions import ArtifactKind
from lucid.errors import Conflict, InvalidInput
from lucid.extras import require
from lucid.registry.flavours import PreparedArtifact, Runner, archives
from lucid.registry.flavours.sklearn import SklearnRunner
from lucid.registry.model_signature import of_mlmodel

LOCATION = "model.mlflow.zip"

_DTYPES = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32"}
"""MLflow column types and the pandas dtypes a column is cast to before it is checked."""


def prepare(folder: Path) -> PreparedArtifact:
    """Check an MLflow model folder, read its signature and pack it (`archives.pack`)."""
    root = folder.expanduser().resolve()
    mlmodel = root / "MLmodel"
    if not mlmodel.is_file():
        raise InvalidInput(
            "artifact", f"{folder} is not an MLflow model folder (it has no MLmodel file)"
        )
    signature = of_mlmodel(mlmodel.read_text(encoding="utf-8", errors="replace"), str(mlmodel))
    data = archives.pack(root)
    return PreparedArtifact(ArtifactKind.MLFLOW, LOCATION, data, signature=signature)


def load(data: bytes, location: str, allow_pickle: bool) -> Runner:
    """The runner of a stored MLflow model, only where the project allows pickles."""
    if not allow_pickle:
        raise Conflict(
            f"Loading the MLflow model {location} unpickles and runs its Python code, which "
            "this project does not allow (allow_pickle: false); export it to ONNX, or register "
            "it as served elsewhere (--kind external)."
        )
    require("mlflow", "mlflow", "an MLflow model")
    folder = archives.unpack(data, location)
    flavours = _flavours(folder / "MLmodel")
    with warnings.catch_warnings():  # MLflow warns about its own type hints when imported
        warnings.simplefilter("ignore")
        import mlflow.pyfunc
        import mlflow.sklearn

    if "sklearn" in flavours:
        estimator = mlflow.sklearn.load_model(str(folder))
        if hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_"):
            return SklearnRunner(estimator)
    return PyfuncRunner(mlflow.pyfunc.load_model(str(folder)))


def _flavours(mlmodel: Path) -> dict[str, Any]:
    spec = yaml.safe_load(mlmodel.read_text(encoding="utf-8"))
    flavours = spec.get("flavors") if isinstance(spec, dict) else None
    return flavours if isinstance(flavours, dict) else {}


class PyfuncRunner:
    """Runs an MLflow pyfunc model on a table of its input columns; no score."""

    def __init__(self, model: Any) -> None:
        self.model = model
        schema = model.metadata.get_input_schema()
        inputs = getattr(schema, "inputs", None) or []
        types = {
            getattr(spec, "name", None): getattr(getattr(spec, "type", None), "name", None)
            for spec in inputs
        }
        self._casts = {
            name: _DTYPES[kind] for name, kind in types.items() if name and kind in _DTYPES
        }

    def predict_scored(
        self, columns: Sequence[str], matrix: list[list[Any]]
    ) -> tuple[list[Any], list[float | None]]:
        import numpy as np
        import pandas as pd  # type: ignore[import-untyped]

        table = pd.DataFrame(matrix, columns=list(columns))
        for column, dtype in self._casts.items():
            if column in table.columns:
                table[column] = table[column].astype(dtype)
        answer = self.model.predict(table)
        if isinstance(answer, pd.DataFrame):
            answer = answer.iloc[:, 0]
        predictions = np.asarray(answer).reshape(len(matrix), -1)[:, 0].tolist()
        return predictions, [None] * len(matrix)
