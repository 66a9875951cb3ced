"""The artifact store: model files under the project's `artifacts_url`, each with its SHA-256.

The root is a local folder or any fsspec URL (`s3://bucket/lucid`, `memory://…`). Files are
addressed by a key relative to the root, so a project folder can move. Reading checks the
hash: a file changed after it was stored is refused, never loaded. fsspec is imported and the
root opened on the first file operation, so a registry that only reads versions pays for
neither.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import Any

from lucid.errors import IntegrityViolation, NotFound, StorageUnavailable


@dataclass(frozen=True, slots=True)
class StoredArtifact:
    """Where a stored file is (key under the root), its SHA-256 (hex) and its size in bytes."""

    key: str
    sha256: str
    size: int


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ArtifactStore:
    """Files under one root URL, written once and read back only when their hash matches."""

    def __init__(self, root_url: str) -> None:
        self.root_url = root_url.rstrip("/")
        self._opened: tuple[Any, str] | None = None

    @property
    def _fs(self) -> Any:
        return self._open()[0]

    def _open(self) -> tuple[Any, str]:
        """The filesystem of the root URL and the root's path in it; a sentence when the URL
        cannot be opened."""
        if self._opened is None:
            import fsspec

            try:
                self._opened = fsspec.core.url_to_fs(self.root_url)
            except (ImportError, ValueError) as error:
                raise StorageUnavailable(
                    f"artifacts_url {self.root_url!r} cannot be opened: {error}"
                ) from None
        return self._opened

    def _path(self, key: str) -> str:
        return f"{self._open()[1]}/{key}"

    def put(self, key: str, data: bytes) -> StoredArtifact:
        """Store `data` at `key` and return its hash."""
        path = self._path(key)
        try:
            self._fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            self._fs.pipe_file(path, data)
        except OSError as error:
            raise StorageUnavailable(
                f"Cannot write the artifact {key} under {self.root_url}: {error}"
            ) from None
        return StoredArtifact(key, sha256_of(data), len(data))

    def read_verified(self, key: str, sha256: str) -> bytes:
        """The bytes at `key`, refused when their SHA-256 differs from the one registered."""
        try:
            data: bytes = self._fs.cat_file(self._path(key))
        except FileNotFoundError:
            raise NotFound(
                f"The artifact {key} is missing from {self.root_url}; it cannot be loaded."
            ) from None
        actual = sha256_of(data)
        if actual != sha256:
            raise IntegrityViolation(
                f"The artifact {key} has SHA-256 {actual[:12]}… but {sha256[:12]}… was "
                "registered: the file was changed after registration and is refused."
            )
        return data

    def delete(self, key: str) -> None:
        """Remove a file written by a registration that did not commit."""
        with contextlib.suppress(FileNotFoundError):
            self._fs.rm_file(self._path(key))
