"""The ONNX flavour (H1 builds it): any classifier or regressor with named inputs, run by
onnxruntime."""

from __future__ import annotations

from pathlib import Path

from lucid.contracts.value.versions import ArtifactKind
from lucid.errors import InvalidInput
from lucid.registry.flavours import PreparedArtifact, Runner
from lucid.registry.model_signature import of_onnx


def prepare(path: Path) -> PreparedArtifact:
    """Check an ONNX file and read its signature."""
    try:
        data = path.expanduser().read_bytes()
    except FileNotFoundError:
        raise InvalidInput("artifact", f"the file {path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput("artifact", f"{path} is a folder, not a model file") from None
    if not data:
        raise InvalidInput("artifact", f"the ONNX file {path} is empty")
    return PreparedArtifact(
        ArtifactKind.ONNX, "model.onnx", data, signature=of_onnx(data, str(path))
    )


def load(data: bytes, location: str, allow_pickle: bool) -> Runner:
    raise NotImplementedError("built by its helper")
