"""Log events: the one high-volume, append-only, time-ordered thing the services keep.

They get their own table rather than records: a function writes thousands of lines a second,
and CloudWatch Logs reads them by time range across the streams of a group
(`FilterLogEvents`) or within one stream from either end (`GetLogEvents`). Log groups and
streams themselves (retention, tags, last event time) are records.

Events are ordered by (timestamp, position); `position` grows with every append, so two
events of the same millisecond keep their order, and `cursor` marks where a page ended.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Protocol


class LogEventLike(Protocol):
    @property
    def timestamp(self) -> int:
        """Milliseconds since the epoch."""
        ...

    @property
    def message(self) -> str: ...


@dataclass(frozen=True, slots=True)
class LogCursor:
    timestamp: int
    position: int


@dataclass(frozen=True, slots=True)
class StoredLogEvent:
    position: int
    stream: str
    timestamp: int  # milliseconds since the epoch
    ingestion_time: int  # milliseconds since the epoch
    message: str

    @property
    def cursor(self) -> LogCursor:
        return LogCursor(self.timestamp, self.position)


class LogEventStore(Protocol):
    """Log event access inside one transaction. `group` is the caller's key for a log group
    (account, region and name); `stream` a stream name within it."""

    def append(
        self, group: str, stream: str, events: Iterable[LogEventLike], *, ingestion_time: int
    ) -> int:
        """Store events in the order given; return how many."""
        ...

    def append_streams(
        self,
        batches: Iterable[tuple[str, str, Iterable[LogEventLike]]],
        *,
        ingestion_time: int,
    ) -> int:
        """Store the events of several (group, stream) pairs, in the order given, as one
        `append` each would; return how many."""
        ...

    def query(
        self,
        group: str,
        *,
        streams: Collection[str] | None = None,
        start: int | None = None,
        end: int | None = None,
        after: LogCursor | None = None,
        limit: int = 10_000,
        descending: bool = False,
    ) -> list[StoredLogEvent]:
        """Events with `start <= timestamp < end`, oldest first (newest first when
        `descending`), resuming past `after` in that direction."""
        ...

    def delete(self, group: str, *, stream: str | None = None) -> int:
        """Delete a group's events (one stream's only, if given); return how many."""
        ...

    def delete_before(self, group: str, timestamp: int) -> int:
        """Delete events older than `timestamp` (retention); return how many."""
        ...
