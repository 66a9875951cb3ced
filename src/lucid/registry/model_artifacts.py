"""The kinds of model artifact a version may carry, and how each is made ready to store.

- `SklearnArtifact`: a fitted scikit-learn estimator, or a skops file of one, stored in the
  artifact store as skops with its SHA-256 and loaded only when the hash still matches. A
  pickle (joblib) file only where the project sets `allow_pickle: true` (`sklearn_artifacts`).
- `OnnxArtifact`, `XgboostArtifact`, `LightgbmArtifact`: a model file, stored and hashed.
- `MlflowArtifact`: an MLflow model folder (it holds an `MLmodel` file), copied into the
  artifact store and hashed.
- `TextArtifact` (a folder) and `HubArtifact` (a Hugging Face Hub id): a text model exported to
  ONNX with its tokenizer, copied into the artifact store and hashed.
- `ExternalArtifact`: a version served by the team's own system, which logs its predictions
  and outcomes to Lucid; Lucid holds no model and never serves it.

Each flavour prepares and loads its own kind (`lucid.registry.flavours`); preparing an
artifact also reads the inputs the model takes (`model_signature`). The flavours' modules
(NumPy and the model libraries behind them) are imported by the functions that use them, so a
registry that only reads versions imports none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lucid.contracts.value.fields import text
from lucid.contracts.value.versions import ArtifactKind, ArtifactRef
from lucid.errors import Conflict, InvalidInput
from lucid.ports.artifacts import ArtifactStore, ModelHub
from lucid.registry.flavours import PreparedArtifact, Runner, flavour_of, model_file
from lucid.registry.model_signature import Signature, of_estimator


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
class XgboostArtifact:
    """An XGBoost model saved natively (`Booster.save_model`: JSON or UBJSON)."""

    path: Path


@dataclass(frozen=True)
class LightgbmArtifact:
    """A LightGBM model saved natively (`Booster.save_model`: its text format)."""

    path: Path


@dataclass(frozen=True)
class MlflowArtifact:
    folder: Path


@dataclass(frozen=True)
class TextArtifact:
    """A folder holding a text model exported to ONNX and its tokenizer (`tokenizer.json`)."""

    folder: Path


@dataclass(frozen=True)
class HubArtifact:
    model_id: str


@dataclass(frozen=True)
class ExternalArtifact:
    """A version served by the team's own system (`served_by`: its name or address)."""

    served_by: str


Artifact = (
    SklearnArtifact
    | OnnxArtifact
    | XgboostArtifact
    | LightgbmArtifact
    | MlflowArtifact
    | TextArtifact
    | HubArtifact
    | ExternalArtifact
)


def artifact_from_option(kind: str, location: str) -> Artifact:
    """The artifact a command line names: `--kind` and a path, a Hub id or, for `external`,
    the system that serves the version."""
    try:
        chosen = ArtifactKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in ArtifactKind)
        raise InvalidInput("kind", f"must be one of {kinds}, not {kind!r}") from None
    if chosen is ArtifactKind.SKLEARN:
        return SklearnArtifact(path=Path(location))
    if chosen is ArtifactKind.ONNX:
        return OnnxArtifact(Path(location))
    if chosen is ArtifactKind.XGBOOST:
        return XgboostArtifact(Path(location))
    if chosen is ArtifactKind.LIGHTGBM:
        return LightgbmArtifact(Path(location))
    if chosen is ArtifactKind.MLFLOW:
        return MlflowArtifact(Path(location))
    if chosen is ArtifactKind.EXTERNAL:
        return ExternalArtifact(location)
    if Path(location).expanduser().is_dir():
        return TextArtifact(Path(location))
    return HubArtifact(location)


def prepare(artifact: Artifact, hub: ModelHub, *, allow_pickle: bool = False) -> PreparedArtifact:
    """Check `artifact` and read what must be stored; refuse with a sentence otherwise. No
    pickle is unpickled here; without `allow_pickle` none is accepted."""
    from lucid.registry.flavours import boosters, mlflow, onnx
    from lucid.registry.flavours import text as text_models

    if isinstance(artifact, SklearnArtifact):
        return _prepare_sklearn(artifact, allow_pickle)
    if isinstance(artifact, OnnxArtifact):
        return onnx.prepare(artifact.path)
    if isinstance(artifact, XgboostArtifact):
        return boosters.prepare_xgboost(artifact.path)
    if isinstance(artifact, LightgbmArtifact):
        return boosters.prepare_lightgbm(artifact.path)
    if isinstance(artifact, MlflowArtifact):
        return mlflow.prepare(artifact.folder)
    if isinstance(artifact, TextArtifact):
        return text_models.prepare_folder(artifact.folder)
    if isinstance(artifact, HubArtifact):
        return text_models.prepare_hub(artifact.model_id, hub)
    if isinstance(artifact, ExternalArtifact):
        where = text(artifact.served_by, "artifact")
        return PreparedArtifact(ArtifactKind.EXTERNAL, where)
    raise InvalidInput("artifact", f"must be a model artifact, not {artifact!r}")


def _prepare_sklearn(artifact: SklearnArtifact, allow_pickle: bool) -> PreparedArtifact:
    if (artifact.estimator is None) == (artifact.path is None):
        raise InvalidInput("artifact", "give a fitted estimator or the path of its file, not both")
    from lucid.registry import sklearn_artifacts

    if artifact.path is not None:
        data = model_file(artifact.path)
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
    from lucid.registry import sklearn_artifacts

    try:
        estimator = load_estimator(ref, store, allow_pickle=allow_pickle)
    except Conflict as error:
        sentence = error.sentence.rstrip(".")
        raise InvalidInput("artifact", sentence[:1].lower() + sentence[1:]) from None
    return of_estimator(sklearn_artifacts.checked_model(estimator, ref.location))


def load_runner(ref: ArtifactRef, store: ArtifactStore, *, allow_pickle: bool = False) -> Runner:
    """The model of `ref` ready to run, after its hash was checked, by its flavour; a
    sentence when Lucid serves no such artifact."""
    if ref.kind is ArtifactKind.EXTERNAL:
        raise Conflict(
            f"This version is served by {ref.location}, not by Lucid; that system logs its "
            "predictions with POST /v1/predictions/{model} or `lucid monitor predictions`."
        )
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
    from lucid.registry import sklearn_artifacts

    return sklearn_artifacts.load(
        store.read_verified(ref.location, ref.sha256), ref.location, allow_pickle
    )
