from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import time
import zipfile
from pathlib import Path

import pytest

from portico.store import BlobNotFound, FileBlobStore, StoreError, code_sha256, hex_digest

# A deployment package built byte for byte the same every time (fixed dates and modes).
HANDLER = b"def handler(event, context):\n    return event\n"


def known_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("app.py", date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = 0o100644 << 16
        archive.writestr(info, HANDLER)
    return buffer.getvalue()


def test_code_sha256_is_base64_of_the_raw_digest_as_lambda_reports_it() -> None:
    data = known_zip()
    expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert code_sha256(data) == expected
    assert len(expected) == 44 and expected.endswith("=")
    assert hex_digest(data) == hashlib.sha256(data).hexdigest()
    # The well-known SHA-256 of nothing, in base64: a value computed by other tools.
    assert code_sha256(b"") == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def test_put_stores_by_digest_and_reports_the_code_sha256(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path)
    data = known_zip()
    ref = blobs.put(data)

    digest = hashlib.sha256(data).hexdigest()
    assert (ref.digest, ref.size, ref.code_sha256) == (digest, len(data), code_sha256(data))
    assert blobs.path(digest) == tmp_path / "sha256" / digest[:2] / digest[2:]
    assert blobs.read(digest) == data
    with blobs.open(digest) as file:
        assert file.read() == data
    assert blobs.exists(digest)
    assert stat.S_IMODE(blobs.path(digest).stat().st_mode) == 0o444
    assert list(blobs.digests()) == [digest]


def test_put_deduplicates(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path)
    first = blobs.put(b"same bytes")
    inode = blobs.path(first.digest).stat().st_ino
    second = blobs.put(b"same bytes")
    assert first == second
    assert blobs.path(first.digest).stat().st_ino == inode, "not written again"
    assert list(blobs.digests()) == [first.digest]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_put_that_fails_midway_leaves_no_blob(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path)
    digest = hex_digest(b"data")
    shard = blobs.path(digest).parent
    shard.write_bytes(b"")  # a file where the shard directory must go: the move fails
    with pytest.raises(StoreError):
        blobs.put(b"data")
    shard.unlink()
    assert not blobs.exists(digest)
    assert list((tmp_path / "tmp").iterdir()) == [], "the upload was cleaned up"
    assert blobs.put(b"data").digest == digest


def test_stale_uploads_from_a_killed_process_are_swept(tmp_path: Path) -> None:
    FileBlobStore(tmp_path)
    old, recent = tmp_path / "tmp" / "old.part", tmp_path / "tmp" / "recent.part"
    old.write_bytes(b"partial")
    recent.write_bytes(b"partial")
    long_ago = time.time() - 2 * 3600
    os.utime(old, (long_ago, long_ago))

    FileBlobStore(tmp_path)
    assert not old.exists()
    assert recent.exists(), "may belong to a put in flight"


def test_delete_and_missing_blobs(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path)
    ref = blobs.put(b"bytes")
    assert blobs.delete(ref.digest)
    assert not blobs.delete(ref.digest)
    assert not blobs.exists(ref.digest)
    with pytest.raises(BlobNotFound):
        blobs.read(ref.digest)


@pytest.mark.parametrize("digest", ["../../etc/passwd", "AB" * 32, "a" * 63, "g" * 64, ""])
def test_a_digest_must_be_a_sha256_hex_name(tmp_path: Path, digest: str) -> None:
    blobs = FileBlobStore(tmp_path)
    with pytest.raises(ValueError, match="digest"):
        blobs.read(digest)
