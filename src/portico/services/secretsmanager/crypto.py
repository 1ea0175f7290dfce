"""Secret values encrypted at rest: AES-256-GCM under one key kept beside the database.

    <data-dir>/secrets.key    base64 of 32 random bytes, mode 0600, made on first use
    sealed value              12-byte nonce || ciphertext || 16-byte tag

Each value is sealed with its secret's ARN, version id and type as associated data, so a
ciphertext copied onto another secret or version (or read as the other type) fails to open
instead of yielding someone else's value. The database only ever holds sealed values; the key
never leaves this module and is never logged.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import stat
import tempfile
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

logger = logging.getLogger(__name__)

KEY_FILENAME = "secrets.key"
_KEY_BYTES = 32
_NONCE_BYTES = 12


class SecretKeyError(Exception):
    """The key file is unreadable or malformed (its contents are never quoted)."""


class SealedValueError(Exception):
    """A sealed value does not open under this key and context."""


class SecretCipher:
    """Seals and opens values; thread-safe. The key file is read (or made) on first use."""

    def __init__(self, key_path: Path) -> None:
        self._key_path = key_path
        self._lock = threading.Lock()
        self._aead: AESGCM | None = None

    def prepare(self) -> None:
        """Read (or make) the key now, before a caller opens a transaction."""
        self._cipher()

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._cipher().encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return self._cipher().decrypt(nonce, ciphertext, context)
        except (InvalidTag, ValueError):
            raise SealedValueError("the value does not open under this key") from None

    def _cipher(self) -> AESGCM:
        with self._lock:
            if self._aead is None:
                self._aead = AESGCM(load_or_create_key(self._key_path))
            return self._aead

    def __repr__(self) -> str:
        return f"SecretCipher({str(self._key_path)!r})"


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`; a new one written there (0600) if there is none yet. Safe against a
    concurrent first use by another process: the file appears whole, and only once."""
    if not path.exists():
        _create_key(path)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        encoded = path.read_bytes()
    except OSError as exc:
        raise SecretKeyError(f"cannot read the secrets key {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("the secrets key %s is readable by others; chmod 600 it", path)
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != _KEY_BYTES:
        raise SecretKeyError(f"the secrets key {path} is not base64 of {_KEY_BYTES} bytes")
    return key


def _create_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:  # mkstemp made it 0600
            file.write(base64.b64encode(AESGCM.generate_key(_KEY_BYTES * 8)) + b"\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process made one first: use it
            os.link(temporary, path)
        _fsync_directory(path.parent)
    finally:
        os.unlink(temporary)
    logger.info("created the secrets key %s", path)


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
