"""Links to download code archives: GetFunction's `Code.Location` and GetLayerVersion's
`Content.Location`.

AWS answers with a presigned S3 URL that is good for ten minutes; Portico serves the archive
itself (see `portico.code_downloads`), at a URL signed in the same spirit:

    <endpoint>/_portico/code/<sha256 hex of the zip>?Expires=<unix seconds>&Signature=<hex>

    Signature = HMAC-SHA256(key, "GET\\n/_portico/code/<digest>\\n<Expires>")

The key is kept in `<data-dir>/code-downloads.key` (32 random bytes, base64, mode 0600, made
on first use), so links outlive a restart and nobody without the key can forge or extend one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from portico import keyfiles

PATH_PREFIX = "/_portico/code/"
KEY_FILENAME = "code-downloads.key"
LIFETIME_SECONDS = 600
_KEY_BYTES = 32


class LinkRefused(Exception):
    """A download link that is not honoured."""


class SignatureMismatch(LinkRefused):
    """The link was not signed with this server's key, or was changed since."""


class LinkExpired(LinkRefused):
    """The link was signed here, and its time is up."""


class DownloadKeyError(keyfiles.KeyFileError):
    """The key file is unreadable or malformed (its contents are never quoted)."""


class DownloadLinks:
    """Signs download links and checks them. The key file is read (or made) on first use."""

    def __init__(
        self,
        key_path: Path,
        clock: Callable[[], float],
        lifetime: float = LIFETIME_SECONDS,
    ) -> None:
        self._key_path = key_path
        self._clock = clock
        self._lifetime = lifetime
        self._key: bytes | None = None

    def link(self, base_url: str, digest: str) -> str:
        """The URL under `base_url` (the server's address) that serves the blob `digest`
        until `lifetime` seconds from now."""
        path = PATH_PREFIX + digest
        expires = str(int(self._clock() + self._lifetime))
        query = urlencode({"Expires": expires, "Signature": self._sign("GET", path, expires)})
        return f"{base_url.rstrip('/')}{path}?{query}"

    def check(self, method: str, path: str, expires: str, signature: str) -> None:
        """Raises `SignatureMismatch` or `LinkExpired` unless the link is good now."""
        expected = self._sign(method, path, expires)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise SignatureMismatch(path)
        if not expires.isdigit() or int(expires) <= self._clock():
            raise LinkExpired(path)

    def _sign(self, method: str, path: str, expires: str) -> str:
        message = f"{method}\n{path}\n{expires}".encode("utf-8", "surrogateescape")
        return hmac.new(self._secret(), message, hashlib.sha256).hexdigest()

    def _secret(self) -> bytes:
        if self._key is None:
            self._key = load_or_create_key(self._key_path)
        return self._key

    def __repr__(self) -> str:
        return f"DownloadLinks({str(self._key_path)!r})"


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`; a new one written there (0600) if there is none yet."""
    try:
        return keyfiles.load_or_create_key(path, _KEY_BYTES, purpose="download key")
    except keyfiles.KeyFileError as exc:
        raise DownloadKeyError(str(exc)) from None
