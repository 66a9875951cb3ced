"""Where log checkpoints go and are read back, and the signing key's file.

A place is one of:
- a local file (a path or `file://…`): statements appended as JSON lines, never rewritten;
  the trusted public keys beside it in `<file>.pub`, one base64 key per line;
- another fsspec URL (`s3://bucket/lucid-checkpoints`, `gcs://…`, `memory://…`): a folder,
  one object per statement (`checkpoint-<head seq>-<time>.json`, created only if absent,
  since object stores cannot append), the public keys in `public_keys.txt` there;
- an `https://` URL (or `http://` on the loopback interface): each statement POSTed as its
  JSON line; the receiver keeps them, so a webhook cannot be read back from here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import fsspec
import httpx

from lucid.contracts.log_checkpoints import (
    ListedCheckpoint,
    PublicKey,
    SignedCheckpoint,
    SigningKey,
)
from lucid.errors import Conflict, InvalidInput, NotFound, StorageUnavailable

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_FOLDER_KEYS = "public_keys.txt"


def read_signing_key(path: Path) -> SigningKey:
    """The private key in the file `path` (PEM)."""
    try:
        data = path.expanduser().read_bytes()
    except FileNotFoundError:
        raise NotFound(
            f"The checkpoint signing key {path} does not exist; make one with "
            "`lucid events keygen FILE`."
        ) from None
    except OSError as error:
        raise StorageUnavailable(
            f"The checkpoint signing key {path} cannot be read: {error}."
        ) from None
    return SigningKey.from_pem(data, str(path))


def write_signing_key(path: Path, key: SigningKey) -> None:
    """Create `path` readable by its owner only (0600); never replace an existing file."""
    target = path.expanduser()
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Conflict(f"{target} already exists; a signing key is never overwritten.") from None
    except OSError as error:
        raise StorageUnavailable(f"{target} cannot be created: {error}.") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(key.to_pem())
        file.flush()
        os.fsync(file.fileno())


class CheckpointPlace:
    """One place statements are appended to (see the module docstring)."""

    def __init__(self, target: str, *, timeout_seconds: float = 10.0) -> None:
        self.target = target
        self._timeout = timeout_seconds
        parts = urlsplit(target)
        self.kind = "webhook" if parts.scheme in ("http", "https") else "file"
        if self.kind == "webhook":
            if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
                raise InvalidInput("to", f"a checkpoint webhook must use https, not {target!r}")
            return
        self._fs, path = fsspec.core.url_to_fs(target)
        self._path: str = str(path)
        protocol = self._fs.protocol
        local = "file" in (protocol if isinstance(protocol, tuple) else (protocol,))
        self.kind = "file" if local else "folder"

    def append(self, signed: SignedCheckpoint) -> None:
        """Add one statement; what the place held before is left as it was."""
        line = signed.to_line()
        try:
            if self.kind == "webhook":
                self._post(line)
            elif self.kind == "file":
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
                with open(self._path, "a", encoding="utf-8") as file:
                    file.write(line + "\n")
                    file.flush()
                    os.fsync(file.fileno())
            else:
                checkpoint = signed.checkpoint
                stamp = checkpoint.at.replace(":", "").replace("-", "")
                name = f"checkpoint-{checkpoint.head_seq:012d}-{stamp}.json"
                self._create(f"{self._path.rstrip('/')}/{name}", line + "\n")
        except OSError as error:
            raise StorageUnavailable(f"Checkpoint place {self.target}: {error}.") from None

    def _post(self, line: str) -> None:
        try:
            response = httpx.post(
                self.target,
                content=line.encode(),
                headers={"content-type": "application/json"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as error:
            raise StorageUnavailable(
                f"Checkpoint webhook {self.target} was not reached: {error}."
            ) from None
        if response.status_code >= 300:
            raise StorageUnavailable(
                f"Checkpoint webhook {self.target} answered {response.status_code}."
            )

    def _create(self, path: str, text: str) -> None:
        if self._fs.exists(path):
            raise Conflict(f"{path} already exists; a checkpoint is never overwritten.")
        self._fs.makedirs(self._path, exist_ok=True)
        with self._fs.open(path, "wb") as file:
            file.write(text.encode())

    def read(self) -> list[ListedCheckpoint]:
        """Every statement the place holds, oldest first."""
        if self.kind == "webhook":
            raise InvalidInput(
                "checkpoint",
                f"{self.target} is a webhook; verify against the file its receiver kept",
            )
        if self.kind == "file":
            texts = [(self.target, self._text(self._path))]
        else:
            try:
                names = self._fs.ls(self._path, detail=False)
            except FileNotFoundError:
                raise NotFound(f"There are no checkpoints at {self.target}.") from None
            found = sorted(p for p in names if p.endswith(".json"))
            texts = [
                (f"{self.target}/{name.rsplit('/', 1)[-1]}", self._text(name)) for name in found
            ]
        listed: list[ListedCheckpoint] = []
        for name, text in texts:
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    where = f"{name} line {number}"
                    listed.append(ListedCheckpoint(SignedCheckpoint.parse_line(line, where), where))
        return listed

    def _text(self, path: str) -> str:
        try:
            with self._fs.open(path, "rb") as file:
                data: Any = file.read()
        except FileNotFoundError:
            raise NotFound(f"There is no checkpoint file at {self.target}.") from None
        return bytes(data).decode("utf-8", errors="replace")

    def _keys_path(self) -> str:
        if self.kind == "file":
            return self._path + ".pub"
        return f"{self._path.rstrip('/')}/{_FOLDER_KEYS}"

    def public_keys(self) -> list[PublicKey]:
        """The public keys kept beside the statements (none for a webhook)."""
        if self.kind == "webhook" or not self._fs.exists(self._keys_path()):
            return []
        lines = self._text(self._keys_path()).splitlines()
        return [PublicKey.from_text(line) for line in lines if line.strip()]

    def keep_public_key(self, key: PublicKey) -> None:
        """Add `key` to the public keys beside the statements, unless it is there already."""
        if self.kind == "webhook" or key in self.public_keys():
            return
        path = self._keys_path()
        if self.kind == "file":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as file:
                file.write(key.text + "\n")
            return
        known = "".join(k.text + "\n" for k in self.public_keys())
        self._fs.makedirs(self._path, exist_ok=True)
        with self._fs.open(path, "wb") as file:
            file.write((known + key.text + "\n").encode())
