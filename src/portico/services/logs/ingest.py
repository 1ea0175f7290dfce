"""PutLogEvents' rules for a batch: what fails the call, and what is quietly rejected.

Fails (InvalidParameterException, nothing stored): events out of chronological order, a
batch spanning more than 24 hours, more than 10,000 events or 1 MB. Rejected (the call
succeeds, `rejectedLogEventsInfo` says which): events more than 2 hours in the future,
older than 14 days, or older than the group's retention. Since the batch is in order, those
are a prefix (too old, expired: end index, exclusive) and a suffix (too new: start index).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from portico.services.logs.errors import InvalidParameterException
from portico.services.logs.reading import event_size
from portico.services.logs.validation import check_range, constraint

MAX_BATCH_BYTES = 1_048_576
MAX_BATCH_EVENTS = 10_000
MAX_SPAN_MS = 24 * 3600 * 1000
MAX_FUTURE_MS = 2 * 3600 * 1000
MAX_AGE_MS = 14 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class InputEvent:
    timestamp: int  # milliseconds since the epoch
    message: str


@dataclass(frozen=True, slots=True)
class Accepted:
    events: list[InputEvent]
    rejected: dict[str, int] = field(default_factory=dict)  # rejectedLogEventsInfo


def parse_events(value: Any) -> list[InputEvent]:
    if not isinstance(value, list) or not value:
        raise constraint(
            value if value is None else "[]",
            "logEvents",
            "Member must have length greater than or equal to 1",
        )
    if len(value) > MAX_BATCH_EVENTS:
        raise constraint(
            f"[{len(value)} events]",
            "logEvents",
            f"Member must have length less than or equal to {MAX_BATCH_EVENTS}",
        )
    events = []
    for index, item in enumerate(value, start=1):
        where = f"logEvents.{index}.member"
        timestamp = item.get("timestamp") if isinstance(item, dict) else None
        message = item.get("message") if isinstance(item, dict) else None
        if not isinstance(timestamp, int) or isinstance(timestamp, bool):
            raise constraint(timestamp, f"{where}.timestamp", "Member must not be null")
        check_range(timestamp, f"{where}.timestamp", 0, 2**63 - 1)
        if not isinstance(message, str) or not message:
            raise constraint(
                message, f"{where}.message", "Member must have length greater than or equal to 1"
            )
        events.append(InputEvent(timestamp, message))
    return events


def check_batch(events: Sequence[InputEvent]) -> None:
    for before, after in itertools.pairwise(events):
        if after.timestamp < before.timestamp:
            raise InvalidParameterException(
                "Log events in a single PutLogEvents request must be in chronological order."
            )
    if events and events[-1].timestamp - events[0].timestamp > MAX_SPAN_MS:
        raise InvalidParameterException(
            "The batch of log events in a single PutLogEvents request cannot span more than "
            "24 hours."
        )
    size = sum(event_size(event.message) for event in events)
    if size > MAX_BATCH_BYTES:
        raise InvalidParameterException(
            f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )


def accept(events: Sequence[InputEvent], now: int, retention_days: int | None) -> Accepted:
    """Split a checked batch into what is stored and what `rejectedLogEventsInfo` reports."""
    too_old_end = _count_before(events, now - MAX_AGE_MS)
    expired_end = (
        _count_before(events, now - retention_days * DAY_MS) if retention_days is not None else 0
    )
    too_new_start = len(events) - sum(
        1 for event in events if event.timestamp > now + MAX_FUTURE_MS
    )
    rejected: dict[str, int] = {}
    if too_new_start < len(events):
        rejected["tooNewLogEventStartIndex"] = too_new_start
    if too_old_end:
        rejected["tooOldLogEventEndIndex"] = too_old_end
    if expired_end:
        rejected["expiredLogEventEndIndex"] = expired_end
    first = max(too_old_end, expired_end)
    return Accepted(list(events[first:too_new_start]), rejected)


def _count_before(events: Sequence[InputEvent], cutoff: int) -> int:
    return sum(1 for event in events if event.timestamp < cutoff)
