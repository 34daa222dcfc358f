"""The directory index in one file, memory-mapped: a fixed prefix (magic, format version,
header length, CRC-32 of the header), a JSON header (the metadata, and each array's dtype,
shape and offset), then the arrays, each 64-byte aligned, with a BLAKE2b checksum of the
whole data section in the header.

Written to a temporary file beside it, synced, then renamed over it, so a reader sees either
the old file or the new one, whole. A file that is truncated, of another format version, or
whose header or data do not match their checksums is refused with ``IndexFileError``.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from hotline.directory.build import IndexData
from hotline.errors import HotlineError

MAGIC = b"HLDIRIX\0"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sIII4x")  # magic, format version, header length, header CRC-32
_ALIGN = 64
_CHUNK = 8 << 20


class IndexFileError(HotlineError):
    """The index file cannot be trusted (why, in words)."""


def _aligned(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def _raw(arr: np.ndarray) -> memoryview:
    return memoryview(np.ascontiguousarray(arr).reshape(-1).view(np.uint8).data)


def save(data: IndexData, path: Path) -> int:
    """Write ``data`` to ``path`` atomically; returns the file's size in bytes."""
    layout: dict[str, dict[str, Any]] = {}
    at = 0
    for name, arr in data.arrays.items():
        layout[name] = {"dtype": arr.dtype.str, "shape": list(arr.shape), "offset": at,
                        "nbytes": int(arr.nbytes)}
        at = _aligned(at + arr.nbytes)
    digest = hashlib.blake2b(digest_size=16)
    for arr in data.arrays.values():
        digest.update(_raw(arr))
        digest.update(b"\0" * (_aligned(arr.nbytes) - arr.nbytes))
    header = json.dumps({"meta": data.meta, "arrays": layout, "data_bytes": at,
                         "checksum": digest.hexdigest()}, ensure_ascii=False).encode()
    start = _aligned(_PREFIX.size + len(header))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(_PREFIX.pack(MAGIC, FORMAT_VERSION, len(header), zlib.crc32(header)))
            f.write(header)
            f.write(b"\0" * (start - _PREFIX.size - len(header)))
            for arr in data.arrays.values():
                f.write(_raw(arr))
                f.write(b"\0" * (_aligned(arr.nbytes) - arr.nbytes))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return start + at


def read_header(path: Path) -> tuple[dict[str, Any], int]:
    """The header (checked against its CRC) and where the data starts."""
    try:
        with path.open("rb") as f:
            prefix = f.read(_PREFIX.size)
            if len(prefix) < _PREFIX.size:
                raise IndexFileError(f"{path}: truncated ({len(prefix)} bytes)")
            magic, version, length, crc = _PREFIX.unpack(prefix)
            if magic != MAGIC:
                raise IndexFileError(f"{path}: not a directory index file")
            if version != FORMAT_VERSION:
                raise IndexFileError(f"{path}: format version {version}, this hotline reads "
                                     f"{FORMAT_VERSION}")
            raw = f.read(length)
    except OSError as exc:
        raise IndexFileError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) < length or zlib.crc32(raw) != crc:
        raise IndexFileError(f"{path}: the header is truncated or damaged (CRC mismatch)")
    try:
        header = json.loads(raw)
    except ValueError:
        raise IndexFileError(f"{path}: the header is not JSON") from None
    return header, _aligned(_PREFIX.size + length)


def load(path: Path) -> IndexData:
    """The arrays of the index file, memory-mapped read-only, after checking its size and
    checksum (read through once, not mapped, so the check leaves the process small)."""
    header, start = read_header(path)
    size = path.stat().st_size
    if size != start + int(header["data_bytes"]):
        raise IndexFileError(f"{path}: truncated or padded ({size} bytes, expected "
                             f"{start + int(header['data_bytes'])})")
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        f.seek(start)
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != header["checksum"]:
            raise IndexFileError(f"{path}: checksum mismatch (the data is damaged)")
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    arrays: dict[str, np.ndarray] = {}
    for name, spec in header["arrays"].items():
        dtype = np.dtype(spec["dtype"])
        count = int(np.prod(spec["shape"])) if spec["shape"] else 1
        arrays[name] = np.frombuffer(mm, dtype=dtype, count=count,
                                     offset=start + int(spec["offset"])).reshape(spec["shape"])
    return IndexData(arrays, header["meta"])
