"""The server's admin credentials: from PORTICO_ACCESS_KEY_ID / PORTICO_SECRET_ACCESS_KEY,
or generated at first start and kept in `<data-dir>/credentials` (mode 0600), in the AWS
credentials-file format so that the CLI and `aws --profile portico` find them there."""

from __future__ import annotations

import configparser
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

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
    """The keys the server accepts: the admin key (and, later, functions' session keys)."""

    def __init__(self, *keys: AccessKey) -> None:
        self._secrets = {key.access_key_id: key.secret_access_key for key in keys}

    def secret_for(self, access_key_id: str, session_token: str | None) -> str | None:
        return self._secrets.get(access_key_id)
