"""Text models: a Hugging Face model exported to ONNX with its tokenizer (H2 builds it)."""

from __future__ import annotations

from pathlib import Path

from lucid.contracts.value.versions import ArtifactKind
from lucid.errors import Conflict, InvalidInput
from lucid.ports.artifacts import ModelHub
from lucid.registry.flavours import PreparedArtifact, Runner


def prepare_folder(folder: Path) -> PreparedArtifact:
    raise NotImplementedError("built by its helper")


def prepare_hub(model_id: str, hub: ModelHub) -> PreparedArtifact:
    """A Hub id, registered only when the Hub (or, offline, the local Hub cache) has it."""
    model_id = model_id.strip()
    if not model_id:
        raise InvalidInput("artifact", "a Hugging Face Hub id must not be empty")
    answer = hub.availability(model_id)
    if not answer.available:
        raise Conflict(
            f"artifact: the Hugging Face model {model_id} is unavailable ({answer.reason}); "
            "nothing was registered."
        )
    return PreparedArtifact(ArtifactKind.HUGGINGFACE, model_id)


def load(data: bytes, location: str, allow_pickle: bool) -> Runner:
    raise NotImplementedError("built by its helper")
