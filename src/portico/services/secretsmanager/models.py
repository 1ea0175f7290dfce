"""What Secrets Manager keeps: a secret's metadata with its versions' staging labels, and each
version's sealed value in a record of its own.

    scope                                   kind                    name
    secretsmanager:<account>:<region>       secretsmanager.secret   <secret name>
    <secret ARN>                            secretsmanager.value    <version id>

Describing and listing read only the first kind; a value is read, and opened, only by
GetSecretValue and the idempotency check of a write. Deleting a secret deletes its ARN's scope.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from portico.store import JsonObject, RecordKind

AWSCURRENT = "AWSCURRENT"
AWSPREVIOUS = "AWSPREVIOUS"
AWSPENDING = "AWSPENDING"
DAY = 86_400.0

ValueType = Literal["string", "binary"]


def scope_of(account_id: str, region: str) -> str:
    return f"secretsmanager:{account_id}:{region}"


@dataclass(frozen=True, slots=True)
class SecretValue:
    """A plaintext value: text or bytes. Its repr never shows it."""

    type: ValueType
    data: bytes = field(repr=False)

    @classmethod
    def of(cls, text: str | None, binary: bytes | None) -> SecretValue | None:
        if text:
            return cls("string", text.encode("utf-8", "surrogatepass"))
        if binary:
            return cls("binary", binary)
        return None

    @property
    def text(self) -> str | None:
        return self.data.decode("utf-8", "surrogatepass") if self.type == "string" else None

    @property
    def binary(self) -> bytes | None:
        return self.data if self.type == "binary" else None

    def same_as(self, other: SecretValue) -> bool:
        return self.type == other.type and hmac.compare_digest(self.data, other.data)


@dataclass(frozen=True, slots=True)
class SealedValue:
    type: ValueType
    sealed: bytes = field(repr=False)

    def to_json(self) -> JsonObject:
        return {"type": self.type, "sealed": base64.b64encode(self.sealed).decode("ascii")}

    @classmethod
    def from_json(cls, document: JsonObject) -> SealedValue:
        return cls(document["type"], base64.b64decode(document["sealed"]))


@dataclass(frozen=True, slots=True)
class Version:
    id: str
    stages: tuple[str, ...]
    created: float
    last_accessed: float | None = None

    @property
    def deprecated(self) -> bool:
        return not self.stages

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "stages": list(self.stages),
            "created": self.created,
            "last_accessed": self.last_accessed,
        }

    @classmethod
    def from_json(cls, document: JsonObject) -> Version:
        return cls(
            document["id"],
            tuple(document["stages"]),
            document["created"],
            document.get("last_accessed"),
        )


Tag = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Secret:
    name: str
    arn: str
    created: float
    last_changed: float
    description: str | None = None
    kms_key_id: str | None = None
    tags: tuple[Tag, ...] | None = None  # None until tags were ever set: AWS then omits them
    last_accessed: float | None = None
    deletion_date: float | None = None  # set while scheduled for deletion
    versions: tuple[Version, ...] = ()  # oldest first

    @property
    def deleted(self) -> bool:
        return self.deletion_date is not None

    def purge_due(self, now: float) -> bool:
        return self.deletion_date is not None and self.deletion_date <= now

    def version(self, version_id: str) -> Version | None:
        return next((v for v in self.versions if v.id == version_id), None)

    def staged(self, stage: str) -> Version | None:
        return next((v for v in self.versions if stage in v.stages), None)

    def stage_map(self) -> dict[str, list[str]]:
        return {v.id: list(v.stages) for v in self.versions if v.stages}

    def accessed(self, version_id: str, now: float) -> Secret:
        """Marked read today (AWS keeps the date only, so a secret is written once a day)."""
        today = now - now % DAY
        versions = tuple(
            replace(v, last_accessed=today) if v.id == version_id else v for v in self.versions
        )
        return replace(self, last_accessed=today, versions=versions)

    def to_json(self) -> JsonObject:
        document: dict[str, Any] = {
            "name": self.name,
            "arn": self.arn,
            "created": self.created,
            "last_changed": self.last_changed,
            "description": self.description,
            "kms_key_id": self.kms_key_id,
            "tags": None if self.tags is None else [list(tag) for tag in self.tags],
            "last_accessed": self.last_accessed,
            "deletion_date": self.deletion_date,
            "versions": [version.to_json() for version in self.versions],
        }
        return document

    @classmethod
    def from_json(cls, document: JsonObject) -> Secret:
        tags = document.get("tags")
        return cls(
            name=document["name"],
            arn=document["arn"],
            created=document["created"],
            last_changed=document["last_changed"],
            description=document.get("description"),
            kms_key_id=document.get("kms_key_id"),
            tags=None if tags is None else tuple((key, value) for key, value in tags),
            last_accessed=document.get("last_accessed"),
            deletion_date=document.get("deletion_date"),
            versions=tuple(Version.from_json(v) for v in document.get("versions", [])),
        )


SECRETS: RecordKind[Secret] = RecordKind("secretsmanager.secret", Secret.to_json, Secret.from_json)
VALUES: RecordKind[SealedValue] = RecordKind(
    "secretsmanager.value", SealedValue.to_json, SealedValue.from_json
)
