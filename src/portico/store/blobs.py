"""Content-addressed blobs: code archives (function and layer zips) stored once by SHA-256.

    root/
      sha256/ab/cdef0123...   one read-only file per blob, named by its hex digest
      tmp/                    uploads being written; renamed into place when complete

A blob appears under its name only when complete and fsynced (write to `tmp/`, fsync,
rename, fsync the directory), so a reader never sees a partial file and a reference the
database committed after `put` returned still resolves after a power loss.

Deleting is the caller's decision, and racy by nature (a `put` of the same bytes may be
deduplicated against a file that is about to go): delete from a sweeper that finds digests no
record refers to and that are older than any upload in flight, not inline in a request.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from portico.store.errors import BlobNotFound, StoreError

_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_STALE_UPLOAD_SECONDS = 3600.0


def hex_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def code_sha256(data: bytes) -> str:
    """The `CodeSha256` AWS Lambda reports: base64 of the raw SHA-256 digest of the zip."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


@dataclass(frozen=True, slots=True)
class BlobRef:
    digest: str  # hex SHA-256, the blob's name
    size: int

    @property
    def code_sha256(self) -> str:
        return base64.b64encode(bytes.fromhex(self.digest)).decode("ascii")


class BlobStore(Protocol):
    """Immutable blobs named by their SHA-256. A filesystem now, an object store later."""

    def put(self, data: bytes) -> BlobRef: ...

    def exists(self, digest: str) -> bool: ...

    def read(self, digest: str) -> bytes: ...

    def open(self, digest: str) -> BinaryIO:
        """A seekable binary file; the caller closes it."""
        ...

    def delete(self, digest: str) -> bool:
        """Remove the blob; False when there was none."""
        ...

    def digests(self) -> Iterator[str]: ...


def check_digest(digest: str) -> str:
    if not _HEX_DIGEST.match(digest):
        raise ValueError(f"digest must be 64 lowercase hex characters, got {digest!r}")
    return digest


class FileBlobStore:
    """Blobs as files under `root`. Safe for concurrent use by threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._objects = root / "sha256"
        self._uploads = root / "tmp"
        try:
            self._objects.mkdir(parents=True, exist_ok=True)
            self._uploads.mkdir(parents=True, exist_ok=True)
            self._sweep_stale_uploads()
        except OSError as exc:
            raise StoreError(f"cannot prepare blob store at {root}: {exc}") from exc

    def path(self, digest: str) -> Path:
        check_digest(digest)
        return self._objects / digest[:2] / digest[2:]

    def put(self, data: bytes) -> BlobRef:
        ref = BlobRef(hex_digest(data), len(data))
        final = self.path(ref.digest)
        if final.exists():
            return ref
        try:
            self._write_atomically(final, data)
        except OSError as exc:
            raise StoreError(f"cannot store blob {ref.digest}: {exc}") from exc
        return ref

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def read(self, digest: str) -> bytes:
        with self.open(digest) as file:
            return file.read()

    def open(self, digest: str) -> BinaryIO:
        try:
            return self.path(digest).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(f"no blob {digest}") from None
        except OSError as exc:
            raise StoreError(f"cannot open blob {digest}: {exc}") from exc

    def delete(self, digest: str) -> bool:
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreError(f"cannot delete blob {digest}: {exc}") from exc
        return True

    def digests(self) -> Iterator[str]:
        for shard in sorted(self._objects.iterdir()):
            for file in sorted(shard.iterdir()):
                digest = shard.name + file.name
                if _HEX_DIGEST.match(digest):
                    yield digest

    def _write_atomically(self, final: Path, data: bytes) -> None:
        fd, temp_name = tempfile.mkstemp(dir=self._uploads, suffix=".part")
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            temp.chmod(0o444)
            shard_is_new = not final.parent.exists()
            final.parent.mkdir(exist_ok=True)
            if shard_is_new:
                _fsync_directory(self._objects)
            # Two writers of the same bytes may race here; either rename wins, both are whole.
            temp.replace(final)
            _fsync_directory(final.parent)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def _sweep_stale_uploads(self) -> None:
        """Uploads left by a process killed mid-`put`; old enough that none is in flight."""
        horizon = time.time() - _STALE_UPLOAD_SECONDS
        for leftover in self._uploads.glob("*.part"):
            try:
                if leftover.stat().st_mtime < horizon:
                    leftover.unlink()
            except FileNotFoundError:
                continue


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _conforms(blobs: FileBlobStore) -> BlobStore:
    """Never called: mypy checks here that `FileBlobStore` implements `BlobStore`."""
    return blobs
