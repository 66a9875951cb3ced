"""Model flavours: how each kind of artifact is checked, stored and run.

Each flavour lives in its own module with two functions:
- `prepare(artifact, ...) -> PreparedArtifact`: check what a user registers and read what
  must be stored (the bytes Lucid keeps, the signature the model states); refuse with a
  sentence naming the field otherwise. Nothing is stored here.
- `load(data, location, allow_pickle) -> Runner`: turn a stored artifact's bytes (their
  SHA-256 already checked) into a `Runner`.

A `Runner` scores a batch of rows given as a matrix whose columns are the model's inputs in
its order (`columns`). Every flavour answers the same thing: each row's prediction and, for a
classifier, P(label = 1); any other model answers no score.

A flavour imports its library only when it prepares or loads a model, so the core install
never imports XGBoost, LightGBM, tokenizers or MLflow; a flavour whose package is missing
refuses with the `pip install` that brings it (`lucid.extras`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lucid.contracts.value.versions import ArtifactKind
from lucid.errors import Conflict, InvalidInput
from lucid.registry.model_signature import Signature


class Runner(Protocol):
    """A loaded model."""

    def predict_scored(
        self, columns: Sequence[str], matrix: list[list[Any]]
    ) -> tuple[list[Any], list[float | None]]:
        """Each row's prediction and score (P(label = 1), None without one); `matrix` holds
        one list per row, its values in the order of `columns`, and is never empty."""
        ...


@dataclass(frozen=True)
class PreparedArtifact:
    """An artifact checked and ready: the bytes to store (if Lucid keeps them), its ref and
    the inputs the model takes (None when the artifact does not say). `load_once_stored`: a
    pickle, whose model and signature are read only from the store (`stored_signature`)."""

    kind: ArtifactKind
    location: str
    data: bytes | None = None
    sha256: str | None = None
    signature: Signature | None = None
    load_once_stored: bool = False


def model_file(path: Path) -> bytes:
    """The bytes of a model file a user registers; a sentence naming `artifact` for a file
    that does not exist, a folder or an empty file."""
    try:
        data = path.expanduser().read_bytes()
    except FileNotFoundError:
        raise InvalidInput("artifact", f"the file {path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput("artifact", f"{path} is a folder, not a model file") from None
    if not data:
        raise InvalidInput("artifact", f"the model file {path} is empty")
    return data


Loader = Callable[[bytes, str, bool], Runner]
"""Stored bytes (hash checked), their location, whether the project allows pickles → runner."""


@dataclass(frozen=True)
class Flavour:
    """A kind of artifact Lucid serves itself: its loader and its name in a sentence."""

    kind: ArtifactKind
    description: str
    load: Loader


@functools.cache
def flavours() -> dict[ArtifactKind, Flavour]:
    """The kinds Lucid serves itself, each with its loader (`external` is served elsewhere);
    built on first call, which imports every flavour's module."""
    from lucid.registry.flavours import boosters, mlflow, onnx, sklearn, text

    found = [
        Flavour(ArtifactKind.SKLEARN, "scikit-learn", sklearn.load),
        Flavour(ArtifactKind.ONNX, "ONNX", onnx.load),
        Flavour(ArtifactKind.XGBOOST, "XGBoost", boosters.load_xgboost),
        Flavour(ArtifactKind.LIGHTGBM, "LightGBM", boosters.load_lightgbm),
        Flavour(ArtifactKind.MLFLOW, "MLflow pyfunc", mlflow.load),
        Flavour(ArtifactKind.HUGGINGFACE, "text (ONNX with its tokenizer)", text.load),
    ]
    return {flavour.kind: flavour for flavour in found}


def flavour_of(kind: ArtifactKind, location: str) -> Flavour:
    """The flavour that serves `kind`; a sentence when Lucid serves no such artifact."""
    served_here = flavours()
    flavour = served_here.get(kind)
    if flavour is None:
        served = ", ".join(sorted(k.value for k in served_here))
        raise Conflict(
            f"Lucid does not serve {kind.value} artifacts ({location}); it serves {served}."
        )
    return flavour
