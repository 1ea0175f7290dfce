"""A function (its `$LATEST`) or a published version, as stored and as the API shows it."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from portico.services.lambda_.names import function_arn

LATEST = "$LATEST"


def now_text(moment: datetime.datetime | None = None) -> str:
    """Lambda's LastModified format: 2024-05-17T12:30:45.123+0000."""
    moment = moment or datetime.datetime.now(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


@dataclass
class Code:
    digest: str  # hex SHA-256 of the zip: its blob and its extracted folder
    sha256: str  # base64 SHA-256, the API's CodeSha256
    size: int


@dataclass
class Layer:
    """A layer version a function uses: its ARN and its code."""

    arn: str
    code: Code


@dataclass
class FunctionVersion:
    """Everything an invocation of one version needs, and what Get* report of it."""

    name: str
    runtime: str
    handler: str
    role: str
    code: Code
    description: str = ""
    timeout: int = 3
    memory_size: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    architectures: list[str] = field(default_factory=lambda: ["x86_64"])
    ephemeral_storage: int = 512
    tracing_mode: str = "PassThrough"
    log_format: str = "Text"
    application_log_level: str | None = None
    system_log_level: str | None = None
    log_group: str | None = None
    dead_letter_target: str | None = None
    layers: list[Layer] = field(default_factory=list)
    version: str = LATEST
    last_modified: str = field(default_factory=now_text)
    revision_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> FunctionVersion:
        values = dict(value)
        values["code"] = Code(**values["code"])
        values["layers"] = [
            Layer(layer["arn"], Code(**layer["code"])) for layer in values.get("layers", [])
        ]
        return cls(**values)

    def changed(self, **changes: Any) -> FunctionVersion:
        """A copy with `changes`, a new revision id and a new LastModified."""
        return dataclasses.replace(
            self, **changes, last_modified=now_text(), revision_id=str(uuid.uuid4())
        )

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"

    def same_as(self, other: FunctionVersion) -> bool:
        """Same code and configuration (what PublishVersion compares)."""
        ignore = {"version", "last_modified", "revision_id", "description"}
        mine = {k: v for k, v in self.to_json().items() if k not in ignore}
        theirs = {k: v for k, v in other.to_json().items() if k not in ignore}
        return mine == theirs

    def configuration(self, region: str, account: str) -> dict[str, Any]:
        """The API's FunctionConfiguration."""
        qualifier = None if self.version == LATEST else self.version
        logging_config: dict[str, Any] = {
            "LogFormat": self.log_format,
            "LogGroup": self.log_group_name,
        }
        if self.log_format == "JSON":
            logging_config["ApplicationLogLevel"] = self.application_log_level or "INFO"
            logging_config["SystemLogLevel"] = self.system_log_level or "INFO"
        document: dict[str, Any] = {
            "FunctionName": self.name,
            "FunctionArn": function_arn(region, account, self.name, qualifier),
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "CodeSize": self.code.size,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": self.last_modified,
            "CodeSha256": self.code.sha256,
            "Version": self.version,
            "TracingConfig": {"Mode": self.tracing_mode},
            "RevisionId": self.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": list(self.architectures),
            "EphemeralStorage": {"Size": self.ephemeral_storage},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": logging_config,
        }
        if self.environment:
            document["Environment"] = {"Variables": dict(self.environment)}
        if self.layers:
            document["Layers"] = [
                {"Arn": layer.arn, "CodeSize": layer.code.size} for layer in self.layers
            ]
        if self.dead_letter_target:
            document["DeadLetterConfig"] = {"TargetArn": self.dead_letter_target}
        return document


@dataclass
class FunctionRecord:
    """A function: its `$LATEST`, its tags, and the bookkeeping of its versions."""

    latest: FunctionVersion
    tags: dict[str, str] = field(default_factory=dict)
    last_version: int = 0
    reserved_concurrency: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "latest": self.latest.to_json(),
            "tags": self.tags,
            "last_version": self.last_version,
            "reserved_concurrency": self.reserved_concurrency,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> FunctionRecord:
        return cls(
            latest=FunctionVersion.from_json(value["latest"]),
            tags=dict(value.get("tags", {})),
            last_version=int(value.get("last_version", 0)),
            reserved_concurrency=value.get("reserved_concurrency"),
        )
