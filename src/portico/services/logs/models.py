"""Log groups and streams as the store keeps them, and as the wire shows them.

    records scope                         kind             name
    logs:<account>:<region>               logs.group       /aws/lambda/fn
    logs:<account>:<region>:<group>       logs.stream      2024/01/31/[$LATEST]0123...
    logs                                  logs.retention   logs:<account>:<region>:<group>

A group's events live in `log_events` under the group's key (the streams' scope); the
retention index lists every group with a retention policy, so the sweeper finds them all
without walking every account and region.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from portico.store import JsonObject, RecordKind

RETENTION_SCOPE = "logs"


@dataclass(frozen=True, slots=True)
class GroupRef:
    """A log group by account, region and name."""

    account_id: str
    region: str
    name: str

    @property
    def scope(self) -> str:
        """Where the groups of this account and region are listed."""
        return groups_scope(self.account_id, self.region)

    @property
    def key(self) -> str:
        """The group's own key: its streams' scope, its events' group."""
        return f"{self.scope}:{self.name}"

    @property
    def arn(self) -> str:
        """The ARN DescribeLogGroups reports as `arn` (with AWS's trailing `:*`)."""
        return f"{self.group_arn}:*"

    @property
    def group_arn(self) -> str:
        return f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{self.name}"

    def stream_arn(self, stream: str) -> str:
        return f"{self.group_arn}:log-stream:{stream}"


def groups_scope(account_id: str, region: str) -> str:
    return f"logs:{account_id}:{region}"


@dataclass(frozen=True, slots=True)
class LogGroup:
    creation_time: int  # milliseconds since the epoch
    retention_in_days: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    kms_key_id: str | None = None
    log_group_class: str = "STANDARD"
    stored_bytes: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "creationTime": self.creation_time,
            "retentionInDays": self.retention_in_days,
            "tags": dict(self.tags),
            "kmsKeyId": self.kms_key_id,
            "logGroupClass": self.log_group_class,
            "storedBytes": self.stored_bytes,
        }

    @classmethod
    def from_json(cls, value: JsonObject) -> LogGroup:
        return cls(
            creation_time=int(value["creationTime"]),
            retention_in_days=value.get("retentionInDays"),
            tags=dict(value.get("tags") or {}),
            kms_key_id=value.get("kmsKeyId"),
            log_group_class=value.get("logGroupClass") or "STANDARD",
            stored_bytes=int(value.get("storedBytes") or 0),
        )

    def to_wire(self, ref: GroupRef) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "logGroupName": ref.name,
            "creationTime": self.creation_time,
            "metricFilterCount": 0,
            "arn": ref.arn,
            "storedBytes": self.stored_bytes,
            "logGroupClass": self.log_group_class,
            "logGroupArn": ref.group_arn,
        }
        if self.retention_in_days is not None:
            wire["retentionInDays"] = self.retention_in_days
        if self.kms_key_id is not None:
            wire["kmsKeyId"] = self.kms_key_id
        return wire


@dataclass(frozen=True, slots=True)
class LogStream:
    creation_time: int  # milliseconds since the epoch
    first_event_timestamp: int | None = None
    last_event_timestamp: int | None = None
    last_ingestion_time: int | None = None
    stored_bytes: int = 0  # kept for the group's total; AWS reports 0 for streams
    uploads: int = 0  # PutLogEvents calls, for the (ignored) sequence token

    def to_json(self) -> dict[str, Any]:
        return {
            "creationTime": self.creation_time,
            "firstEventTimestamp": self.first_event_timestamp,
            "lastEventTimestamp": self.last_event_timestamp,
            "lastIngestionTime": self.last_ingestion_time,
            "storedBytes": self.stored_bytes,
            "uploads": self.uploads,
        }

    @classmethod
    def from_json(cls, value: JsonObject) -> LogStream:
        return cls(
            creation_time=int(value["creationTime"]),
            first_event_timestamp=value.get("firstEventTimestamp"),
            last_event_timestamp=value.get("lastEventTimestamp"),
            last_ingestion_time=value.get("lastIngestionTime"),
            stored_bytes=int(value.get("storedBytes") or 0),
            uploads=int(value.get("uploads") or 0),
        )

    def with_events(self, first: int, last: int, ingestion_time: int, size: int) -> LogStream:
        """The stream after events stamped `first`..`last` arrived at `ingestion_time`."""
        return replace(
            self,
            first_event_timestamp=_least(self.first_event_timestamp, first),
            last_event_timestamp=_greatest(self.last_event_timestamp, last),
            last_ingestion_time=ingestion_time,
            stored_bytes=self.stored_bytes + size,
        )

    def to_wire(self, ref: GroupRef, name: str) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "logStreamName": name,
            "creationTime": self.creation_time,
            "arn": ref.stream_arn(name),
            "storedBytes": 0,
        }
        if self.first_event_timestamp is not None:
            wire["firstEventTimestamp"] = self.first_event_timestamp
        if self.last_event_timestamp is not None:
            wire["lastEventTimestamp"] = self.last_event_timestamp
        if self.last_ingestion_time is not None:
            wire["lastIngestionTime"] = self.last_ingestion_time
        if self.uploads:
            wire["uploadSequenceToken"] = sequence_token(self.uploads)
        return wire


def sequence_token(uploads: int) -> str:
    """PutLogEvents' sequence token: ignored by AWS since 2023, still returned."""
    return f"{uploads:056d}"


def _least(current: int | None, candidate: int) -> int:
    return candidate if current is None else min(current, candidate)


def _greatest(current: int | None, candidate: int) -> int:
    return candidate if current is None else max(current, candidate)


def _retention_days(value: JsonObject) -> int:
    return int(value["days"])


def _retention_json(days: int) -> dict[str, Any]:
    return {"days": days}


GROUPS = RecordKind("logs.group", LogGroup.to_json, LogGroup.from_json)
STREAMS = RecordKind("logs.stream", LogStream.to_json, LogStream.from_json)
RETENTION = RecordKind("logs.retention", _retention_json, _retention_days)
