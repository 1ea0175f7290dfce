"""Log groups, streams and events in the store: every method is one short transaction.

Synchronous, like the store: callers on the event loop go through `asyncio.to_thread`.
Missing groups and streams surface as CloudWatch Logs' own errors.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from portico.services.logs.errors import (
    GROUP_EXISTS,
    STREAM_EXISTS,
    ResourceAlreadyExistsException,
    group_not_found,
    stream_not_found,
)
from portico.services.logs.models import (
    GROUPS,
    RETENTION,
    RETENTION_SCOPE,
    STREAMS,
    GroupRef,
    LogGroup,
    LogStream,
)
from portico.services.logs.reading import event_size
from portico.store import (
    Database,
    LogCursor,
    LogEventLike,
    RecordExists,
    StoredLogEvent,
    Transaction,
    Versioned,
)

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class Batch:
    """Events for one stream; `create` makes the group and stream if they are missing."""

    ref: GroupRef
    stream: str
    events: Sequence[LogEventLike]
    create: bool = False


class LogsRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # -- groups --------------------------------------------------------------------------

    def create_group(self, ref: GroupRef, group: LogGroup) -> None:
        with self._db.transaction() as tx:
            try:
                GROUPS.create(tx.records, ref.scope, ref.name, group)
            except RecordExists:
                raise ResourceAlreadyExistsException(GROUP_EXISTS) from None

    def group(self, ref: GroupRef) -> LogGroup:
        with self._db.snapshot() as tx:
            return _group(tx, ref)

    def groups(
        self, scope: str, *, prefix: str = "", after: str | None = None, limit: int | None = None
    ) -> list[Versioned[LogGroup]]:
        with self._db.snapshot() as tx:
            return GROUPS.list(tx.records, scope, prefix=prefix, after=after, limit=limit)

    def update_group(self, ref: GroupRef, change: Callable[[LogGroup], LogGroup]) -> LogGroup:
        with self._db.transaction() as tx:
            found = GROUPS.get(tx.records, ref.scope, ref.name)
            if found is None:
                raise group_not_found()
            group = change(found.value)
            GROUPS.put(tx.records, ref.scope, ref.name, group, expected_version=found.version)
            if group.retention_in_days is None:
                RETENTION.delete(tx.records, RETENTION_SCOPE, ref.key)
            elif group.retention_in_days != found.value.retention_in_days:
                RETENTION.put(tx.records, RETENTION_SCOPE, ref.key, group.retention_in_days)
            return group

    def delete_group(self, ref: GroupRef) -> None:
        with self._db.transaction() as tx:
            if not GROUPS.delete(tx.records, ref.scope, ref.name):
                raise group_not_found()
            tx.records.delete_scope(ref.key)
            tx.log_events.delete(ref.key)
            RETENTION.delete(tx.records, RETENTION_SCOPE, ref.key)

    # -- streams -------------------------------------------------------------------------

    def create_stream(self, ref: GroupRef, name: str, creation_time: int) -> None:
        with self._db.transaction() as tx:
            _group(tx, ref)
            try:
                STREAMS.create(tx.records, ref.key, name, LogStream(creation_time))
            except RecordExists:
                raise ResourceAlreadyExistsException(STREAM_EXISTS) from None

    def streams(
        self, ref: GroupRef, *, prefix: str = "", after: str | None = None, limit: int | None = None
    ) -> list[Versioned[LogStream]]:
        """The group's streams by name; the group must exist."""
        with self._db.snapshot() as tx:
            _group(tx, ref)
            return STREAMS.list(tx.records, ref.key, prefix=prefix, after=after, limit=limit)

    def delete_stream(self, ref: GroupRef, name: str) -> None:
        with self._db.transaction() as tx:
            group = _group(tx, ref)
            stream = STREAMS.get(tx.records, ref.key, name)
            if stream is None:
                raise stream_not_found()
            STREAMS.delete(tx.records, ref.key, name)
            tx.log_events.delete(ref.key, stream=name)
            freed = min(group.stored_bytes, stream.value.stored_bytes)
            GROUPS.put(
                tx.records,
                ref.scope,
                ref.name,
                replace(group, stored_bytes=group.stored_bytes - freed),
            )

    # -- events --------------------------------------------------------------------------

    def append(self, batches: Iterable[Batch], ingestion_time: int) -> list[LogStream]:
        """Store each batch's events in one transaction; the streams as they are after."""
        with self._db.transaction() as tx:
            return _append(tx, list(batches), ingestion_time)

    def stream_events(
        self,
        ref: GroupRef,
        stream: str,
        *,
        start: int | None,
        end: int | None,
        after: LogCursor | None,
        limit: int,
        descending: bool,
        now: int,
    ) -> list[StoredLogEvent]:
        with self._db.snapshot() as tx:
            group = _group(tx, ref)
            if STREAMS.get(tx.records, ref.key, stream) is None:
                raise stream_not_found()
            return tx.log_events.query(
                ref.key,
                streams=[stream],
                start=_retained_start(group, start, now),
                end=end,
                after=after,
                limit=limit,
                descending=descending,
            )

    def group_events(
        self,
        ref: GroupRef,
        *,
        streams: Collection[str] | None,
        start: int | None,
        end: int | None,
        after: LogCursor | None,
        limit: int,
        now: int,
    ) -> list[StoredLogEvent]:
        with self._db.snapshot() as tx:
            group = _group(tx, ref)
            return tx.log_events.query(
                ref.key,
                streams=streams,
                start=_retained_start(group, start, now),
                end=end,
                after=after,
                limit=limit,
            )

    # -- retention -----------------------------------------------------------------------

    def retained_groups(self, after: str | None, limit: int) -> list[tuple[str, int]]:
        """(group key, retention days) of groups with a retention policy, by key."""
        with self._db.snapshot() as tx:
            found = RETENTION.list(tx.records, RETENTION_SCOPE, after=after, limit=limit)
        return [(item.name, item.value) for item in found]

    def expire(self, key: str, before: int) -> int:
        with self._db.transaction() as tx:
            return tx.log_events.delete_before(key, before)


def _group(tx: Transaction, ref: GroupRef) -> LogGroup:
    found = GROUPS.get(tx.records, ref.scope, ref.name)
    if found is None:
        raise group_not_found()
    return found.value


def _retained_start(group: LogGroup, start: int | None, now: int) -> int | None:
    """Expired events are not returned, whether or not the sweeper has removed them."""
    if group.retention_in_days is None:
        return start
    cutoff = now - group.retention_in_days * DAY_MS
    return cutoff if start is None else max(start, cutoff)


@dataclass(slots=True)
class _GroupGrowth:
    ref: GroupRef
    group: LogGroup
    added_bytes: int = 0


def _append(tx: Transaction, batches: list[Batch], ingestion_time: int) -> list[LogStream]:
    """All batches' events in one insert; each group and stream record written once, however
    many batches name it (a flush of the runtime's sink names one group many times)."""
    groups: dict[str, _GroupGrowth] = {}
    streams: dict[tuple[str, str], LogStream] = {}
    after: list[LogStream] = []
    for batch in batches:
        ref = batch.ref
        key = ref.key
        growth = groups.get(key)
        if growth is None:
            group_found = GROUPS.get(tx.records, ref.scope, ref.name)
            if group_found is None and not batch.create:
                raise group_not_found()
            group = group_found.value if group_found else LogGroup(creation_time=ingestion_time)
            growth = groups[key] = _GroupGrowth(ref, group)
        stream = streams.get((key, batch.stream))
        if stream is None:
            stream_found = STREAMS.get(tx.records, key, batch.stream)
            if stream_found is None and not batch.create:
                raise stream_not_found()
            stream = stream_found.value if stream_found else LogStream(creation_time=ingestion_time)
        stream = replace(stream, uploads=stream.uploads + 1)
        events = batch.events
        if events:
            size = sum(event_size(event.message) for event in events)
            stamps = [event.timestamp for event in events]
            stream = stream.with_events(min(stamps), max(stamps), ingestion_time, size)
            growth.added_bytes += size
        streams[(key, batch.stream)] = stream
        after.append(stream)
    tx.log_events.append_streams(
        ((batch.ref.key, batch.stream, batch.events) for batch in batches if batch.events),
        ingestion_time=ingestion_time,
    )
    for (key, name), stream in streams.items():
        STREAMS.put(tx.records, key, name, stream)
    for growth in groups.values():
        group = growth.group
        stored_bytes = group.stored_bytes + growth.added_bytes
        GROUPS.put(
            tx.records, growth.ref.scope, growth.ref.name, replace(group, stored_bytes=stored_bytes)
        )
    return after
