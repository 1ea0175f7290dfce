"""Keys kept in the data dir: base64 of random bytes in a file of mode 0600, made on first use.

A first use by two processes at once is safe: the file is written whole under a temporary
name and linked into place once; whoever comes second reads the first one's key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)


class KeyFileError(Exception):
    """The key file is unreadable or malformed (its contents are never quoted)."""


def load_or_create_key(path: Path, size: int, *, purpose: str) -> bytes:
    """The `size`-byte key in `path`; a new one written there if there is none yet.
    `purpose` names the key in messages ("secrets key")."""
    if not path.exists():
        _create(path, size, purpose)
    try:
        mode = path.stat().st_mode
        encoded = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the {purpose} {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("the %s %s is readable by others; chmod 600 it", purpose, path)
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != size:
        raise KeyFileError(f"the {purpose} {path} is not base64 of {size} bytes")
    return key


def _create(path: Path, size: int, purpose: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:  # mkstemp made it 0600
            file.write(base64.b64encode(secrets.token_bytes(size)) + b"\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process made one first: use it
            os.link(temporary, path)
        _fsync_directory(path.parent)
    finally:
        os.unlink(temporary)
    logger.info("created the %s %s", purpose, path)


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
