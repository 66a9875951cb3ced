"""A model folder kept as one archive: packed deterministically so the same folder always
gives the same bytes (and SHA-256), and unpacked into a cache folder named by that hash.

A zip whose members are sorted by path, each with a fixed time and mode. Packing refuses a
symbolic link that leaves the folder and a folder larger than `MAX_BYTES`; unpacking refuses a
member with an absolute path or a `..` part.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from lucid.errors import Conflict, InvalidInput

MAX_BYTES = 4 * 1024**3
"""The largest model folder Lucid copies into its artifact store: 4 GiB of files."""

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip member can carry


def pack(folder: Path, field: str = "artifact") -> bytes:
    """The files of `folder` as one deterministic zip; a sentence naming `field` otherwise."""
    root = folder.expanduser().resolve()
    if not root.is_dir():
        raise InvalidInput(field, f"{folder} is not a folder")
    return pack_files(_files(root, field), str(folder), field)


def pack_files(files: list[tuple[str, Path]], where: str, field: str = "artifact") -> bytes:
    """The given files (name in the archive, path) as one deterministic zip."""
    ordered = sorted(files, key=lambda pair: pair[0])
    total = sum(path.stat().st_size for _, path in ordered)
    if total > MAX_BYTES:
        raise InvalidInput(
            field,
            f"{where} holds {total / 1024**3:.1f} GiB of files; Lucid copies model folders "
            f"of at most {MAX_BYTES // 1024**3} GiB",
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in ordered:
            member = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            member.external_attr = 0o644 << 16
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, path.read_bytes())
    return buffer.getvalue()


def _files(root: Path, field: str) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for directory, folders, names in os.walk(root, followlinks=False):
        here = Path(directory)
        for name in [*folders, *names]:
            path = here / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                relative = path.relative_to(root).as_posix()
                raise InvalidInput(
                    field, f"{relative} in {root} is a link that leaves the folder; copy it in"
                )
        for name in names:
            path = here / name
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
    return found


def unpack(data: bytes, location: str) -> Path:
    """The folder holding the archive `data`, unpacked once into a cache folder named by its
    SHA-256 (`_cache`); refused with a sentence when a member would land outside it."""
    digest = hashlib.sha256(data).hexdigest()
    cache = _cache()
    target = cache / digest
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=cache))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                path = PurePosixPath(name)
                if path.is_absolute() or ".." in path.parts or "\\" in name:
                    raise Conflict(
                        f"The archive {location} holds the member {name!r}, which would land "
                        "outside its folder; Lucid does not unpack it."
                    )
            archive.extractall(staging)
        try:
            staging.rename(target)  # another process may have unpacked the same archive first
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _cache() -> Path:
    """This user's cache of unpacked models, under the system's temporary folder, readable by
    this user only: another user of a shared machine cannot place a model in it."""
    user = os.getuid() if hasattr(os, "getuid") else 0
    cache = Path(tempfile.gettempdir()) / f"lucid-models-{user}"
    cache.mkdir(mode=0o700, exist_ok=True)
    if cache.is_symlink() or cache.stat().st_uid != user:
        raise Conflict(
            f"The model cache {cache} belongs to another user; Lucid does not unpack models "
            "into it."
        )
    return cache
