"""The four kinds of model artifact a version may carry, and how each is made ready to store.

- `SklearnArtifact`: a fitted scikit-learn estimator (or a joblib/pickle file of one), stored in
  the artifact store with its SHA-256 and loaded only when the hash still matches.
- `OnnxArtifact`: an ONNX file, stored and hashed (Lucid does not run ONNX models yet).
- `MlflowArtifact`: a reference to an MLflow model folder, which must hold an `MLmodel` file;
  the hash of that file is kept so a changed folder can be noticed.
- `HubArtifact`: a Hugging Face Hub model id, registered only when the Hub (or, offline, the
  local Hub cache) has it.

Preparing an artifact also reads the inputs the model takes (`model_signature`).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lucid.contracts.value.versions import ArtifactKind, ArtifactRef
from lucid.errors import Conflict, InvalidInput
from lucid.ports.artifacts import ArtifactStore, ModelHub
from lucid.registry.model_signature import Signature, of_estimator, of_mlmodel, of_onnx


@dataclass(frozen=True)
class SklearnArtifact:
    """A fitted estimator given in memory (`estimator`) or as a joblib/pickle file (`path`)."""

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
    the inputs the model takes (None when the artifact does not say)."""

    kind: ArtifactKind
    location: str
    data: bytes | None = None
    sha256: str | None = None
    signature: Signature | None = None


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


def prepare(artifact: Artifact, hub: ModelHub) -> PreparedArtifact:
    """Check `artifact` and read what must be stored; refuse with a sentence otherwise."""
    if isinstance(artifact, SklearnArtifact):
        return _prepare_sklearn(artifact)
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


def _prepare_sklearn(artifact: SklearnArtifact) -> PreparedArtifact:
    import joblib

    if (artifact.estimator is None) == (artifact.path is None):
        raise InvalidInput("artifact", "give a fitted estimator or the path of its file, not both")
    if artifact.path is not None:
        data = _read_file(artifact.path, "artifact")
        try:
            estimator = joblib.load(io.BytesIO(data))
        except Exception as error:
            raise InvalidInput(
                "artifact",
                f"{artifact.path} is not a joblib or pickle file of a model "
                f"({type(error).__name__})",
            ) from None
    else:
        estimator = artifact.estimator
        buffer = io.BytesIO()
        joblib.dump(estimator, buffer)
        data = buffer.getvalue()
    if not callable(getattr(estimator, "predict", None)):
        raise InvalidInput(
            "artifact", f"a {type(estimator).__name__} has no predict method; it is not a model"
        )
    return PreparedArtifact(
        ArtifactKind.SKLEARN, "model.joblib", data, signature=of_estimator(estimator)
    )


def store(prepared: PreparedArtifact, store: ArtifactStore, name: str, version: int) -> ArtifactRef:
    """Write the prepared bytes under `models/<name>/<version>/`; references stay as given."""
    if prepared.data is None:
        return ArtifactRef(prepared.kind, prepared.location, prepared.sha256)
    stored = store.put(f"models/{name}/{version}/{prepared.location}", prepared.data)
    return ArtifactRef(prepared.kind, stored.key, stored.sha256)


def load_estimator(ref: ArtifactRef, store: ArtifactStore) -> Any:
    """The scikit-learn estimator of `ref`, after its hash was checked."""
    import joblib

    if ref.kind is not ArtifactKind.SKLEARN or ref.sha256 is None:
        raise Conflict(
            f"Lucid serves scikit-learn artifacts only; this version's artifact is "
            f"{ref.kind.value} ({ref.location})."
        )
    return joblib.load(io.BytesIO(store.read_verified(ref.location, ref.sha256)))
