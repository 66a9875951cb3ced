"""MLflow pyfunc models (H2 builds it: the folder copied into the store, served by pyfunc)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from lucid.contracts.value.versions import ArtifactKind
from lucid.errors import Conflict, InvalidInput
from lucid.registry.flavours import PreparedArtifact, Runner
from lucid.registry.model_signature import of_mlmodel


def prepare(folder: Path) -> PreparedArtifact:
    """Check an MLflow model folder and read its signature."""
    folder = folder.expanduser().resolve()
    mlmodel = folder / "MLmodel"
    if not mlmodel.is_file():
        raise InvalidInput(
            "artifact", f"{folder} is not an MLflow model folder (it has no MLmodel file)"
        )
    content = mlmodel.read_bytes()
    signature = of_mlmodel(content.decode("utf-8", errors="replace"), str(mlmodel))
    digest = hashlib.sha256(content).hexdigest()
    return PreparedArtifact(ArtifactKind.MLFLOW, str(folder), sha256=digest, signature=signature)


def load(data: bytes, location: str, allow_pickle: bool) -> Runner:
    raise Conflict(f"Lucid does not serve mlflow artifacts ({location}) yet.")
