"""PutLogEvents, GetLogEvents and FilterLogEvents: requests in, store reads and writes, results
out. The paging rules live in `reading`, the batch rules in `ingest`."""

from __future__ import annotations

import asyncio
from typing import Any

from portico.aws.handler import RequestContext
from portico.services.logs import validation
from portico.services.logs.errors import InvalidParameterException, invalid_token
from portico.services.logs.filter_pattern import compile_filter_pattern
from portico.services.logs.ingest import accept, check_batch, parse_events
from portico.services.logs.models import GroupRef, sequence_token
from portico.services.logs.reading import filter_scan, plan_stream_read, stream_page
from portico.services.logs.repository import Batch, LogsRepository
from portico.services.logs.tokens import (
    StreamToken,
    decode_cursor_token,
    encode_cursor_token,
    event_id,
)
from portico.store import Clock, LogCursor, StoredLogEvent

Params = dict[str, Any]
Result = dict[str, Any]
MAX_EVENTS = 10_000
MAX_STREAM_NAMES = 100
MAX_PATTERN = 1024


class EventOperations:
    def __init__(self, repository: LogsRepository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock

    def _now(self) -> int:
        return int(self._clock.now() * 1000)

    async def put_log_events(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.log_group_of(params))
        stream = validation.stream_name(params.get("logStreamName"))
        events = parse_events(params.get("logEvents"))
        check_batch(events)
        now = self._now()

        def store() -> Result:
            accepted = accept(events, now, self._repository.group(ref).retention_in_days)
            [after] = self._repository.append([Batch(ref, stream, accepted.events)], now)
            result: Result = {"nextSequenceToken": sequence_token(after.uploads)}
            if accepted.rejected:
                result["rejectedLogEventsInfo"] = accepted.rejected
            return result

        return await asyncio.to_thread(store)

    async def get_log_events(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.log_group_of(params))
        stream = validation.stream_name(params.get("logStreamName"))
        start, end = _time_range(params)
        limit = _limit(params, MAX_EVENTS)
        start_from_head = bool(params.get("startFromHead"))
        token = _stream_token(params.get("nextToken"))
        read = plan_stream_read(token, start_from_head)
        fetched = await asyncio.to_thread(
            self._repository.stream_events,
            ref,
            stream,
            start=start,
            end=end,
            after=read.after,
            limit=limit,
            descending=read.descending,
            now=self._now(),
        )
        page = stream_page(token, start_from_head, fetched)
        return {
            "events": [_output_event(event) for event in page.events],
            "nextForwardToken": page.forward_token,
            "nextBackwardToken": page.backward_token,
        }

    async def filter_log_events(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.log_group_of(params))
        names, prefix = _stream_selection(params)
        start, end = _time_range(params)
        limit = _limit(params, MAX_EVENTS)
        pattern = params.get("filterPattern")
        if isinstance(pattern, str):
            validation.check_length(pattern, "filterPattern", 0, MAX_PATTERN)
        matches = compile_filter_pattern(pattern)
        cursor = _cursor_token(params.get("nextToken"))
        now = self._now()

        def scan() -> Result:
            streams = names
            if prefix is not None:
                streams = [item.name for item in self._repository.streams(ref, prefix=prefix)]

            def fetch(after: LogCursor | None, count: int) -> list[StoredLogEvent]:
                return self._repository.group_events(
                    ref,
                    streams=streams,
                    start=start,
                    end=None if end is None else end + 1,  # FilterLogEvents' endTime is inclusive
                    after=after,
                    limit=count,
                    now=now,
                )

            page = filter_scan(fetch, matches, after=cursor, limit=limit)
            result: Result = {"events": [_filtered_event(event) for event in page.events]}
            if page.resume_after is not None:
                result["nextToken"] = encode_cursor_token(page.resume_after)
            return result

        return await asyncio.to_thread(scan)


def _ref(context: RequestContext, name: str) -> GroupRef:
    return GroupRef(context.account_id, context.region, name)


def _time_range(params: Params) -> tuple[int | None, int | None]:
    start, end = params.get("startTime"), params.get("endTime")
    validation.check_range(start, "startTime", 0, 2**63 - 1)
    validation.check_range(end, "endTime", 0, 2**63 - 1)
    return start, end


def _limit(params: Params, maximum: int) -> int:
    limit = params.get("limit")
    validation.check_range(limit, "limit", 1, maximum)
    return maximum if limit is None else int(limit)


def _stream_selection(params: Params) -> tuple[list[str] | None, str | None]:
    names, prefix = params.get("logStreamNames"), params.get("logStreamNamePrefix")
    if names is not None and prefix is not None:
        raise InvalidParameterException(
            "logStreamNames and logStreamNamePrefix are mutually exclusive parameters."
        )
    if prefix is not None:
        return None, validation.stream_name(prefix, "logStreamNamePrefix")
    if names is None:
        return None, None
    if not isinstance(names, list) or not names or len(names) > MAX_STREAM_NAMES:
        raise validation.constraint(
            names,
            "logStreamNames",
            f"Member must have length less than or equal to {MAX_STREAM_NAMES}"
            if isinstance(names, list) and names
            else "Member must have length greater than or equal to 1",
        )
    return [validation.stream_name(name, "logStreamNames.member") for name in names], None


def _stream_token(text: str | None) -> StreamToken | None:
    if text is None:
        return None
    token = StreamToken.decode(text)
    if token is None:
        raise invalid_token()
    return token


def _cursor_token(text: str | None) -> LogCursor | None:
    if text is None:
        return None
    cursor = decode_cursor_token(text)
    if cursor is None:
        raise invalid_token()
    return cursor


def _output_event(event: StoredLogEvent) -> Result:
    return {
        "timestamp": event.timestamp,
        "message": event.message,
        "ingestionTime": event.ingestion_time,
    }


def _filtered_event(event: StoredLogEvent) -> Result:
    return {
        "logStreamName": event.stream,
        "timestamp": event.timestamp,
        "message": event.message,
        "ingestionTime": event.ingestion_time,
        "eventId": event_id(event.cursor),
    }
