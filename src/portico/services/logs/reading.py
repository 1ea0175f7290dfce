"""Paging through events: GetLogEvents' two-way tokens and FilterLogEvents' scan.

Pure functions over what the store returns (or a `fetch` callable), so the paging rules are
tested without a database:

- GetLogEvents reads one stream from the head (`startFromHead`) or the tail (the default),
  then forward past `f/<id>/s` or backward before `b/<id>/s`. A page always carries both
  tokens; a page with no events hands back the token it was given, which is how clients
  know they reached the end.
- FilterLogEvents scans a group oldest first, keeps the events the pattern matches, and
  stops at `limit` matches, at 1 MB of them, or after a bounded number of scanned events;
  a `nextToken` resumes the scan where it stopped, and is absent once it reached the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from portico.services.logs.tokens import ORIGIN, StreamToken
from portico.store import LogCursor, StoredLogEvent

MAX_RESPONSE_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26  # what AWS counts per event on top of its message
SCAN_CHUNK = 1_000
SCAN_BUDGET = 100_000

Fetch = Callable[[LogCursor | None, int], Sequence[StoredLogEvent]]


def event_size(message: str) -> int:
    # Most lines are ASCII, whose UTF-8 size is their length (known without encoding).
    size = len(message) if message.isascii() else len(message.encode())
    return size + EVENT_OVERHEAD_BYTES


@dataclass(frozen=True, slots=True)
class StreamRead:
    """The store query behind one GetLogEvents call."""

    after: LogCursor | None
    descending: bool


def plan_stream_read(token: StreamToken | None, start_from_head: bool) -> StreamRead:
    if token is None:
        return StreamRead(after=None, descending=not start_from_head)
    return StreamRead(after=token.cursor, descending=not token.forward)


@dataclass(frozen=True, slots=True)
class StreamPage:
    events: list[StoredLogEvent]  # oldest first
    forward_token: str
    backward_token: str


def stream_page(
    token: StreamToken | None, start_from_head: bool, fetched: Sequence[StoredLogEvent]
) -> StreamPage:
    """The page for events `fetched` in the order `plan_stream_read` asked for."""
    forward = token.forward if token is not None else start_from_head
    kept = within_bytes(fetched, MAX_RESPONSE_BYTES)
    events = kept if forward else kept[::-1]
    if events:
        return StreamPage(
            events,
            StreamToken(True, events[-1].cursor).encode(),
            StreamToken(False, events[0].cursor).encode(),
        )
    cursor = token.cursor if token is not None else ORIGIN
    return StreamPage([], StreamToken(True, cursor).encode(), StreamToken(False, cursor).encode())


def within_bytes(events: Sequence[StoredLogEvent], limit: int) -> list[StoredLogEvent]:
    """The leading events whose sizes add up to at most `limit` (at least one event)."""
    total = 0
    for index, event in enumerate(events):
        total += event_size(event.message)
        if total > limit and index > 0:
            return list(events[:index])
    return list(events)


@dataclass(frozen=True, slots=True)
class FilterPage:
    events: list[StoredLogEvent]
    resume_after: LogCursor | None  # None: the scan reached the end


def filter_scan(
    fetch: Fetch,
    matches: Callable[[str], bool],
    *,
    after: LogCursor | None,
    limit: int,
    chunk: int = SCAN_CHUNK,
    budget: int = SCAN_BUDGET,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> FilterPage:
    found: list[StoredLogEvent] = []
    size = 0
    scanned = 0
    cursor = after
    while True:
        batch = fetch(cursor, chunk)
        for index, event in enumerate(batch):
            if matches(event.message):
                size += event_size(event.message)
                if found and size > max_bytes:
                    return FilterPage(found, found[-1].cursor)
                found.append(event)
                if len(found) >= limit:
                    more = index < len(batch) - 1 or len(batch) == chunk
                    return FilterPage(found, event.cursor if more else None)
        scanned += len(batch)
        if len(batch) < chunk:
            return FilterPage(found, None)
        cursor = batch[-1].cursor
        if scanned >= budget:
            return FilterPage(found, cursor)
