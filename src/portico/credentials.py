"""The server's admin credentials: from PORTICO_ACCESS_KEY_ID / PORTICO_SECRET_ACCESS_KEY,
or generated at first start and kept in `<data-dir>/credentials` (mode 0600), in the AWS
credentials-file format so that the CLI and `aws --profile portico` find them there."""

from __future__ import annotations

import configparser
import hmac
import os
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from portico.aws.sigv4 import ExpiredCredentials

PROFILE = "portico"
_KEY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    secret_access_key: str = ""

    def __repr__(self) -> str:  # never print the secret
        return f"AccessKey({self.access_key_id!r})"


def generate() -> AccessKey:
    key_id = "AKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    return AccessKey(key_id, secrets.token_urlsafe(30)[:40])


def credentials_path(data_dir: Path) -> Path:
    return data_dir / "credentials"


def load_or_create(
    data_dir: Path, access_key_id: str | None = None, secret_access_key: str | None = None
) -> AccessKey:
    """Explicit keys win; else the saved ones; else new ones, saved for the next start."""
    if access_key_id and secret_access_key:
        return AccessKey(access_key_id, secret_access_key)
    path = credentials_path(data_dir)
    if path.exists():
        parser = configparser.ConfigParser()
        parser.read(path)
        section = parser[PROFILE]
        return AccessKey(section["aws_access_key_id"], section["aws_secret_access_key"])
    key = generate()
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(
            f"[{PROFILE}]\naws_access_key_id = {key.access_key_id}\n"
            f"aws_secret_access_key = {key.secret_access_key}\n"
        )
    os.replace(temporary, path)
    return key


class StaticCredentials:
    """Long-lived keys (the admin key)."""

    def __init__(self, *keys: AccessKey, principal: str = "admin") -> None:
        self._secrets = {key.access_key_id: key.secret_access_key for key in keys}
        self._principal = principal

    def secret_for(self, access_key_id: str, session_token: str | None) -> str | None:
        if session_token is not None:
            return None
        return self._secrets.get(access_key_id)

    def principal_for(self, access_key_id: str) -> str | None:
        return self._principal if access_key_id in self._secrets else None


@dataclass(frozen=True)
class SessionKey:
    """Short-lived credentials issued to one principal (a function's execution role)."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    principal: str
    expires_at: float

    def __repr__(self) -> str:
        return f"SessionKey({self.access_key_id!r}, principal={self.principal!r})"


class SessionIssuer:
    """Issues and checks session keys, kept in memory: they die with the server, as do the
    execution environments that hold them.

    A key past its `lifetime` is refused as expired (`ExpiredCredentials`), not as unknown,
    for `remembered` seconds more; then it is forgotten."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        lifetime: float = 12 * 3600,
        remembered: float = 12 * 3600,
    ) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._remembered = remembered
        self._keys: dict[str, SessionKey] = {}

    def issue(self, principal: str) -> SessionKey:
        self._forget_expired()
        key = SessionKey(
            access_key_id="ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            secret_access_key=secrets.token_urlsafe(30)[:40],
            session_token=secrets.token_urlsafe(96),
            principal=principal,
            expires_at=self._clock() + self._lifetime,
        )
        self._keys[key.access_key_id] = key
        return key

    def secret_for(self, access_key_id: str, session_token: str | None) -> str | None:
        key = self._keys.get(access_key_id)
        if key is None or session_token is None:
            return None
        if not hmac.compare_digest(key.session_token, session_token):
            return None
        if key.expires_at <= self._clock():
            raise ExpiredCredentials(access_key_id)
        return key.secret_access_key

    def principal_for(self, access_key_id: str) -> str | None:
        key = self._keys.get(access_key_id)
        return None if key is None else key.principal

    def _forget_expired(self) -> None:
        horizon = self._clock() - self._remembered
        for access_key_id in [k for k, key in self._keys.items() if key.expires_at <= horizon]:
            del self._keys[access_key_id]


class CredentialChain:
    """The keys the server accepts: each store asked in turn."""

    def __init__(self, *stores: StaticCredentials | SessionIssuer) -> None:
        self._stores = stores

    def secret_for(self, access_key_id: str, session_token: str | None) -> str | None:
        for store in self._stores:
            secret = store.secret_for(access_key_id, session_token)
            if secret is not None:
                return secret
        return None

    def principal_for(self, access_key_id: str) -> str | None:
        for store in self._stores:
            principal = store.principal_for(access_key_id)
            if principal is not None:
                return principal
        return None
