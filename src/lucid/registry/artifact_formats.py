"""What a model file is, read from its bytes (never from its name): a skops archive, a pickle
(plain or in one of joblib's compressed containers), or neither.

Nothing here unpickles or imports what a file names: pickle opcodes are only parsed
(`pickletools.genops`), compressed containers only partly decompressed. The safety of a
project that does not allow pickles does not rest on this detection — Lucid never calls an
unpickler there — it only chooses the sentence that refuses the file.
"""

from __future__ import annotations

import bz2
import io
import lzma
import pickletools
import zipfile
import zlib
from enum import StrEnum

SKOPS_SCHEMA = "schema.json"
"""The member every skops archive holds: the tree of the object it stores."""

_LOOK_INSIDE = 64 * 1024
"""How many bytes of a compressed container are decompressed to see what it holds."""

_ALWAYS_PICKLED = (b"ZF", b"\x04\x22\x4d\x18")
"""joblib's containers Lucid does not open to look (joblib < 0.9.3 zlib, lz4): joblib.load
unpickles whatever they hold."""


class ModelFormat(StrEnum):
    """How a model file stores its object. A pickle runs code when it is loaded; skops and
    ONNX do not."""

    SKOPS = "skops"
    PICKLE = "pickle"


def detect(data: bytes) -> ModelFormat | None:
    """The format of a model file's bytes, None when it is neither skops nor a pickle."""
    if _is_skops(data):
        return ModelFormat.SKOPS
    if is_pickle(data):
        return ModelFormat.PICKLE
    return None


def is_pickle(data: bytes) -> bool:
    """Whether `data` is a pickle (any protocol) or a joblib file, compressed or not."""
    if data.startswith(_ALWAYS_PICKLED):
        return True
    inside = _decompressed_start(data)
    return _pickle_opcodes(data if inside is None else inside, whole=inside is None)


def _is_skops(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return SKOPS_SCHEMA in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _decompressed_start(data: bytes) -> bytes | None:
    """The first bytes inside a zlib, gzip, bz2, xz or lzma container (joblib's `compress`),
    None when `data` is not one of them or does not decompress."""
    try:
        if data.startswith(b"\x78"):
            return zlib.decompressobj().decompress(data, _LOOK_INSIDE)
        if data.startswith(b"\x1f\x8b"):
            return zlib.decompressobj(wbits=31).decompress(data, _LOOK_INSIDE)
        if data.startswith(b"BZ"):
            return bz2.BZ2Decompressor().decompress(data, _LOOK_INSIDE)
        if data.startswith((b"\xfd\x37\x7a\x58\x5a", b"\x5d\x00")):
            return lzma.LZMADecompressor().decompress(data, _LOOK_INSIDE)
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
        return None
    return None


def _pickle_opcodes(data: bytes, *, whole: bool) -> bool:
    """Whether `data` parses as pickle opcodes up to STOP (for the start of a decompressed
    container: up to its end). A protocol 2+ header is enough."""
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return True
    if not data:
        return False
    try:
        for _ in pickletools.genops(io.BytesIO(data)):
            pass
    except Exception as error:  # arbitrary bytes: any parse failure means "not a pickle"
        return not whole and isinstance(error, ValueError) and "exhausted" in str(error)
    return True
