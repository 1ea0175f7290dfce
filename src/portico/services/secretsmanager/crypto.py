"""Secret values encrypted at rest: AES-256-GCM under one key kept beside the database.

    <data-dir>/secrets.key    base64 of 32 random bytes, mode 0600, made on first use
    sealed value              12-byte nonce || ciphertext || 16-byte tag

Each value is sealed with its secret's ARN, version id and type as associated data, so a
ciphertext copied onto another secret or version (or read as the other type) fails to open
instead of yielding someone else's value. The database only ever holds sealed values; the key
never leaves this module and is never logged.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portico import keyfiles

KEY_FILENAME = "secrets.key"
_KEY_BYTES = 32
_NONCE_BYTES = 12


class SecretKeyError(keyfiles.KeyFileError):
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
    """The key in `path`; a new one written there (0600) if there is none yet."""
    try:
        return keyfiles.load_or_create_key(path, _KEY_BYTES, purpose="secrets key")
    except keyfiles.KeyFileError as exc:
        raise SecretKeyError(str(exc)) from None
