"""XGBoost and LightGBM models saved natively, stored as their bytes and run by their library.

- XGBoost: `Booster.save_model` as JSON or UBJSON, told apart by the bytes (never the file
  name), its trees checked once XGBoost read them (`xgboost_trees`), stored as
  `model.xgb.json` or `model.xgb.ubj`; its signature is its `feature_names`, else its
  feature count.
- LightGBM: `Booster.save_model`'s text, checked before LightGBM parses it (`lightgbm_text`)
  and stored as `model.lgb.txt`; its signature is its `feature_name()` (`Column_0`, ... mean
  unnamed inputs).

Predictions follow the objective: a binary classifier's score is its probability and its
prediction 1 when the score is at least 0.5; a multi-class one answers its most probable class
and P(class 1); any other objective answers its value and no score. Each library is imported
only when a model of its kind is prepared or loaded (`lucid.extras`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lucid.contracts.value.versions import ArtifactKind
from lucid.errors import Conflict, InvalidInput
from lucid.extras import require
from lucid.registry.flavours import PreparedArtifact, model_file
from lucid.registry.flavours.arrays import numeric_matrix
from lucid.registry.flavours.lightgbm_text import MalformedModel, check
from lucid.registry.flavours.xgboost_trees import MalformedTrees, check_trees
from lucid.registry.model_signature import of_lightgbm, of_xgboost

XGBOOST_JSON = "model.xgb.json"
XGBOOST_UBJ = "model.xgb.ubj"
LIGHTGBM_TEXT = "model.lgb.txt"


def prepare_xgboost(path: Path) -> PreparedArtifact:
    """Check an XGBoost model file (JSON or UBJSON) and read its signature."""
    data = model_file(path)
    location = XGBOOST_JSON if _is_json(data) else XGBOOST_UBJ
    try:
        booster = _xgboost_booster(data)
    except Conflict:
        raise InvalidInput(
            "artifact",
            f"{path} is not an XGBoost model saved by Booster.save_model as JSON or UBJSON "
            "(XGBoost cannot read it)",
        ) from None
    except MalformedTrees as error:
        raise InvalidInput("artifact", f"{path} holds malformed trees ({error})") from None
    return PreparedArtifact(ArtifactKind.XGBOOST, location, data, signature=of_xgboost(booster))


def prepare_lightgbm(path: Path) -> PreparedArtifact:
    """Check a LightGBM text model file and read its signature."""
    data = model_file(path)
    try:
        check(data)
        booster = _lightgbm_booster(data)
    except (MalformedModel, Conflict) as error:
        raise InvalidInput(
            "artifact", f"{path} is not a LightGBM model saved by Booster.save_model ({error})"
        ) from None
    return PreparedArtifact(
        ArtifactKind.LIGHTGBM, LIGHTGBM_TEXT, data, signature=of_lightgbm(booster)
    )


def load_xgboost(data: bytes, location: str, allow_pickle: bool) -> XgboostRunner:
    """The runner of a stored XGBoost model."""
    try:
        return XgboostRunner(_xgboost_booster(data))
    except Conflict:
        raise Conflict(f"The artifact {location} is not an XGBoost model XGBoost reads.") from None
    except MalformedTrees as error:
        raise Conflict(f"The artifact {location} holds malformed trees ({error}).") from None


def load_lightgbm(data: bytes, location: str, allow_pickle: bool) -> LightgbmRunner:
    """The runner of a stored LightGBM model."""
    try:
        header = check(data)
        return LightgbmRunner(_lightgbm_booster(data), header.objective)
    except (MalformedModel, Conflict) as error:
        raise Conflict(f"The artifact {location} is not a LightGBM model ({error}).") from None


def _is_json(data: bytes) -> bool:
    """JSON's object opens with `{` then a quoted key; UBJSON's with `{` then a length marker."""
    return data.lstrip()[:1] == b"{" and data.lstrip()[1:].lstrip()[:1] in (b'"', b"}")


def _xgboost_booster(data: bytes) -> Any:
    require("xgboost", "xgboost", "an XGBoost model")
    import xgboost

    if data.lstrip()[:1] != b"{":  # XGBoost's deprecated binary format, or not a model
        raise Conflict("not JSON or UBJSON")
    booster = xgboost.Booster()
    try:
        booster.load_model(bytearray(data))
    except xgboost.core.XGBoostError:
        raise Conflict("unreadable") from None
    check_trees(booster)  # XGBoost walks its node tables unchecked when it predicts
    booster.set_param({"nthread": 1})  # serving workers each run one model call at a time
    return booster


def _lightgbm_booster(data: bytes) -> Any:
    require("lightgbm", "lightgbm", "a LightGBM model")
    import lightgbm

    try:
        return lightgbm.Booster(model_str=data.decode("utf-8"))
    except (lightgbm.basic.LightGBMError, UnicodeDecodeError) as error:
        raise Conflict(str(error).splitlines()[0][:200] or "unreadable") from None


def _classified(probabilities: Any) -> tuple[list[Any], list[float | None]]:
    """Most probable class and P(class 1) of a [N, C] probability table."""
    return probabilities.argmax(axis=1).tolist(), probabilities[:, 1].astype(float).tolist()


def _binary(probability: Any) -> tuple[list[Any], list[float | None]]:
    scores = probability.astype(float).tolist()
    return [1 if score >= 0.5 else 0 for score in scores], scores


class XgboostRunner:
    """An XGBoost booster fed float32 rows in its feature order (`inplace_predict`)."""

    def __init__(self, booster: Any) -> None:
        self.booster = booster
        config = json.loads(booster.save_config())
        self.objective: str = config["learner"]["objective"]["name"]
        names = booster.feature_names
        self._names = None if not names else list(names)

    def predict_scored(
        self, columns: Sequence[str], matrix: list[list[Any]]
    ) -> tuple[list[Any], list[float | None]]:
        """Per the objective: a binary model's class and probability, a multi-class one's
        most probable class and P(class 1), any other its value and no score."""
        if self._names is not None and list(columns) != self._names:
            raise InvalidInput("rows", f"the model takes {', '.join(self._names)}, in that order")
        matrix_32 = numeric_matrix(columns, matrix, np.float32)
        values = self.booster.inplace_predict(matrix_32, validate_features=False)
        if self.objective == "binary:logistic":
            return _binary(values)
        if self.objective == "binary:logitraw":
            return _binary(1.0 / (1.0 + np.exp(-values)))
        if self.objective == "multi:softprob":
            return _classified(values.reshape(len(matrix), -1))
        if self.objective in ("multi:softmax", "binary:hinge"):
            return values.astype(int).tolist(), [None] * len(matrix)
        return values.reshape(len(matrix)).astype(float).tolist(), [None] * len(matrix)


class LightgbmRunner:
    """A LightGBM booster fed float64 rows in its feature order, on one thread."""

    def __init__(self, booster: Any, objective: str) -> None:
        self.booster = booster
        self.objective = objective

    def predict_scored(
        self, columns: Sequence[str], matrix: list[list[Any]]
    ) -> tuple[list[Any], list[float | None]]:
        """Per the objective: a binary model's class and probability, a multi-class one's
        most probable class and P(class 1), any other its value and no score."""
        values = self.booster.predict(numeric_matrix(columns, matrix, np.float64), num_threads=1)
        if self.objective == "binary":
            return _binary(values)
        if self.objective in ("multiclass", "multiclassova", "softmax", "ova"):
            return _classified(values.reshape(len(matrix), -1))
        return values.reshape(len(matrix)).astype(float).tolist(), [None] * len(matrix)
