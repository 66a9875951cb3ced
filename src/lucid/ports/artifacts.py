"""The ports of model artifacts: the store that keeps their bytes, and the model hub that is
asked whether a referenced model exists and gives its files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol


class StoredFile(Protocol):
    """Where a stored file is (its key under the store's root) and its SHA-256 (hex)."""

    @property
    def key(self) -> str: ...

    @property
    def sha256(self) -> str: ...


class ArtifactStore(Protocol):
    """Files kept by key, read back only when their SHA-256 still matches."""

    def put(self, key: str, data: bytes) -> StoredFile: ...

    def read_verified(self, key: str, sha256: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class HubAnswer(Protocol):
    """Whether a hub has a model id, and why not in a few words."""

    @property
    def available(self) -> bool: ...

    @property
    def reason(self) -> str: ...


class ModelHub(Protocol):
    """A model hub (Hugging Face) asked whether a model id can be served from it, and the
    files of a model fetched from it."""

    def availability(self, model_id: str) -> HubAnswer: ...

    def snapshot(self, model_id: str, patterns: Sequence[str]) -> Path:
        """The local folder of the model's snapshot holding the files matching `patterns`
        (glob patterns) that the model has; fetched when the hub is online."""
        ...
