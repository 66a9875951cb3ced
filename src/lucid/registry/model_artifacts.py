"""The four kinds of model artifact a version may carry, and how each is made ready to store.

- `SklearnArtifact`: a fitted scikit-learn estimator, or a skops file of one, stored in the
  artifact store as skops with its SHA-256 and loaded only when the hash still matches. A
  pickle (joblib) file only where the project sets `allow_pickle: true` (`sklearn_artifacts`).
- `OnnxArtifact`: an ONNX file, stored and hashed (Lucid does not run ONNX models yet).
- `MlflowArtifact`: a reference to an MLflow model folder, which must hold an `MLmodel` file;
  the hash of that file is kept so a changed folder can be noticed.
- `HubArtifact`: a Hugging Face Hub model id, registered only when the Hub (or, offline, the
  local Hub cache) has it.

Preparing an artifact also reads the inputs the model takes (`model_signature`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lucid.contracts.value.versions import ArtifactKind, ArtifactRef
from lucid.errors import Conflict, InvalidInput
from lucid.ports.artifacts import ArtifactStore, ModelHub
from lucid.registry import sklearn_artifacts
from lucid.registry.flavours import Runner, flavour_of
from lucid.registry.model_signature import Signature, of_estimator, of_mlmodel, of_onnx


@dataclass(frozen=True)
class SklearnArtifact:
    """A fitted estimator given in memory (`estimator`) or as a file (`path`): skops, or a
    pickle (joblib) where the project allows pickles."""

    estimator: Any = None
    path: Path | None = None


@dataclass(frozen=True)
class OnnxArtifact:
    path: Path


@dataclass(frozen=True)
class MlflowArtifact:
    folder: Path


@dataclass(frozen=True)
class HubArtifact:
    model_id: str


Artifact = SklearnArtifact | OnnxArtifact | MlflowArtifact | HubArtifact


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


def artifact_from_option(kind: str, location: str) -> Artifact:
    """The artifact a command line names: `--kind sklearn|onnx|mlflow|huggingface` and a path
    or Hub id."""
    try:
        chosen = ArtifactKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in ArtifactKind)
        raise InvalidInput("kind", f"must be one of {kinds}, not {kind!r}") from None
    if chosen is ArtifactKind.SKLEARN:
        return SklearnArtifact(path=Path(location))
    if chosen is ArtifactKind.ONNX:
        return OnnxArtifact(Path(location))
    if chosen is ArtifactKind.MLFLOW:
        return MlflowArtifact(Path(location))
    return HubArtifact(location)


def prepare(artifact: Artifact, hub: ModelHub, *, allow_pickle: bool = False) -> PreparedArtifact:
    """Check `artifact` and read what must be stored; refuse with a sentence otherwise. No
    pickle is unpickled here; without `allow_pickle` none is accepted."""
    if isinstance(artifact, SklearnArtifact):
        return _prepare_sklearn(artifact, allow_pickle)
    if isinstance(artifact, OnnxArtifact):
        data = _read_file(artifact.path, "artifact")
        if not data:
            raise InvalidInput("artifact", f"the ONNX file {artifact.path} is empty")
        signature = of_onnx(data, str(artifact.path))
        return PreparedArtifact(ArtifactKind.ONNX, "model.onnx", data, signature=signature)
    if isinstance(artifact, MlflowArtifact):
        folder = artifact.folder.expanduser().resolve()
        mlmodel = folder / "MLmodel"
        if not mlmodel.is_file():
            raise InvalidInput(
                "artifact", f"{folder} is not an MLflow model folder (it has no MLmodel file)"
            )
        content = mlmodel.read_bytes()
        signature = of_mlmodel(content.decode("utf-8", errors="replace"), str(mlmodel))
        digest = hashlib.sha256(content).hexdigest()
        return PreparedArtifact(
            ArtifactKind.MLFLOW, str(folder), sha256=digest, signature=signature
        )
    if isinstance(artifact, HubArtifact):
        model_id = artifact.model_id.strip()
        if not model_id:
            raise InvalidInput("artifact", "a Hugging Face Hub id must not be empty")
        answer = hub.availability(model_id)
        if not answer.available:
            raise Conflict(
                f"artifact: the Hugging Face model {model_id} is unavailable ({answer.reason}); "
                "nothing was registered."
            )
        return PreparedArtifact(ArtifactKind.HUGGINGFACE, model_id)
    raise InvalidInput("artifact", f"must be a model artifact, not {artifact!r}")


def _read_file(path: Path, field: str) -> bytes:
    try:
        return path.expanduser().read_bytes()
    except FileNotFoundError:
        raise InvalidInput(field, f"the file {path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput(field, f"{path} is a folder, not a model file") from None


def _prepare_sklearn(artifact: SklearnArtifact, allow_pickle: bool) -> PreparedArtifact:
    if (artifact.estimator is None) == (artifact.path is None):
        raise InvalidInput("artifact", "give a fitted estimator or the path of its file, not both")
    if artifact.path is not None:
        data = _read_file(artifact.path, "artifact")
        estimator, location = sklearn_artifacts.file_bytes(artifact.path, data, allow_pickle)
    else:
        estimator = artifact.estimator
        data, location = sklearn_artifacts.estimator_bytes(estimator, allow_pickle)
    if estimator is None:
        return PreparedArtifact(ArtifactKind.SKLEARN, location, data, load_once_stored=True)
    return PreparedArtifact(ArtifactKind.SKLEARN, location, data, signature=of_estimator(estimator))


def store(prepared: PreparedArtifact, store: ArtifactStore, name: str, version: int) -> ArtifactRef:
    """Write the prepared bytes under `models/<name>/<version>/`; references stay as given."""
    if prepared.data is None:
        return ArtifactRef(prepared.kind, prepared.location, prepared.sha256)
    stored = store.put(f"models/{name}/{version}/{prepared.location}", prepared.data)
    return ArtifactRef(prepared.kind, stored.key, stored.sha256)


def stored_signature(
    ref: ArtifactRef, store: ArtifactStore, allow_pickle: bool
) -> Signature | None:
    """The signature of a stored pickle, unpickled from the store after its hash was checked;
    refused with a sentence when it is not a model."""
    try:
        estimator = load_estimator(ref, store, allow_pickle=allow_pickle)
    except Conflict as error:
        sentence = error.sentence.rstrip(".")
        raise InvalidInput("artifact", sentence[:1].lower() + sentence[1:]) from None
    return of_estimator(sklearn_artifacts.checked_model(estimator, ref.location))


def load_runner(ref: ArtifactRef, store: ArtifactStore, *, allow_pickle: bool = False) -> Runner:
    """The model of `ref` ready to run, after its hash was checked, by its flavour; a
    sentence when Lucid serves no such artifact."""
    flavour = flavour_of(ref.kind, ref.location)
    if ref.sha256 is None:
        raise Conflict(
            f"The artifact {ref.location} is not held by Lucid (it has no hash), so Lucid "
            "does not serve it."
        )
    return flavour.load(store.read_verified(ref.location, ref.sha256), ref.location, allow_pickle)


def load_estimator(ref: ArtifactRef, store: ArtifactStore, *, allow_pickle: bool = False) -> Any:
    """The scikit-learn estimator of `ref`, after its hash was checked: skops with allowed
    types, a pickle only when `allow_pickle`."""
    if ref.kind is not ArtifactKind.SKLEARN or ref.sha256 is None:
        raise Conflict(f"The artifact {ref.location} is not a scikit-learn artifact.")
    return sklearn_artifacts.load(
        store.read_verified(ref.location, ref.sha256), ref.location, allow_pickle
    )
