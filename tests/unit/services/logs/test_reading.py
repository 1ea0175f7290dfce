"""GetLogEvents' two-way tokens and FilterLogEvents' scan, over events in memory."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from portico.services.logs.reading import (
    EVENT_OVERHEAD_BYTES,
    Fetch,
    filter_scan,
    plan_stream_read,
    stream_page,
)
from portico.services.logs.tokens import (
    StreamToken,
    cursor_of_event_id,
    decode_cursor_token,
    decode_page_token,
    encode_cursor_token,
    encode_page_token,
    event_id,
)
from portico.store import LogCursor, StoredLogEvent

STREAM = [StoredLogEvent(i + 1, "s", 1000 + i, 5000, f"line {i}") for i in range(20)]


def read(
    events: Sequence[StoredLogEvent],
    token: StreamToken | None,
    start_from_head: bool,
    limit: int,
) -> tuple[list[str], str, str]:
    """What GetLogEvents does, with a list standing in for the store."""
    plan = plan_stream_read(token, start_from_head)
    ordered = sorted(events, key=lambda e: (e.timestamp, e.position), reverse=plan.descending)
    if plan.after is not None:
        after = (plan.after.timestamp, plan.after.position)
        ordered = [
            e
            for e in ordered
            if (
                (e.timestamp, e.position) < after
                if plan.descending
                else (e.timestamp, e.position) > after
            )
        ]
    page = stream_page(token, start_from_head, ordered[:limit])
    return [e.message for e in page.events], page.forward_token, page.backward_token


def test_event_ids_are_56_digits_and_round_trip() -> None:
    cursor = LogCursor(1_700_000_000_123, 42)
    text = event_id(cursor)
    assert len(text) == 56 and text.isdigit()
    assert cursor_of_event_id(text) == cursor
    assert event_id(LogCursor(1, 99)) < event_id(LogCursor(2, 1))


def test_stream_tokens_look_like_aws_and_round_trip() -> None:
    token = StreamToken(True, LogCursor(1000, 7))
    text = token.encode()
    assert text.startswith("f/") and text.endswith("/s") and len(text) == 60
    assert StreamToken.decode(text) == token
    assert StreamToken.decode(StreamToken(False, LogCursor(3, 4)).encode()) == StreamToken(
        False, LogCursor(3, 4)
    )


@pytest.mark.parametrize(
    "text", ["", "f/123/s", "n/" + "0" * 56 + "/s", "garbage", "f/" + "0" * 56]
)
def test_malformed_stream_tokens_decode_to_none(text: str) -> None:
    assert StreamToken.decode(text) is None


def test_reading_from_the_tail_then_backward_then_forward() -> None:
    messages, _, backward = read(STREAM, None, False, 10)
    assert messages == [f"line {i}" for i in range(10, 20)]

    messages, _, backward2 = read(STREAM, StreamToken.decode(backward), False, 20)
    assert messages == [f"line {i}" for i in range(10)]

    messages, forward3, backward3 = read(STREAM, StreamToken.decode(backward2), False, 10)
    assert messages == []
    assert backward3 == backward2  # the end: the same token comes back

    messages, _, _ = read(STREAM, StreamToken.decode(forward3), False, 1)
    assert messages == ["line 1"]  # forward past the first event


def test_reading_from_the_head_forward_to_the_end() -> None:
    messages, forward, backward = read(STREAM, None, True, 10)
    assert messages == [f"line {i}" for i in range(10)]
    messages, forward, _ = read(STREAM, StreamToken.decode(forward), True, 10)
    assert messages == [f"line {i}" for i in range(10, 20)]
    messages, again, backward = read(STREAM, StreamToken.decode(forward), True, 10)
    assert messages == []
    assert again == forward  # no more events: the token given is the token returned
    messages, _, _ = read(STREAM, StreamToken.decode(backward), True, 1)
    assert messages == ["line 18"]


def test_the_end_token_picks_up_events_that_arrive_later() -> None:
    _, forward, _ = read(STREAM[:5], None, True, 100)
    messages, _, _ = read(STREAM, StreamToken.decode(forward), True, 100)
    assert messages == [f"line {i}" for i in range(5, 20)]


def test_an_empty_stream_still_gives_both_tokens_and_the_forward_one_sees_new_events() -> None:
    messages, forward, backward = read([], None, False, 10)
    assert messages == []
    assert forward.startswith("f/") and backward.startswith("b/")
    messages, _, _ = read(STREAM[:3], StreamToken.decode(forward), False, 10)
    assert messages == ["line 0", "line 1", "line 2"]


def test_events_of_one_millisecond_keep_their_order_across_pages() -> None:
    same = [StoredLogEvent(i + 1, "s", 1000, 1000, f"m{i}") for i in range(5)]
    seen: list[str] = []
    token = None
    for _ in range(6):
        messages, forward, _ = read(same, token, True, 2)
        seen += messages
        token = StreamToken.decode(forward)
    assert seen == [f"m{i}" for i in range(5)]


def test_a_page_stops_at_one_megabyte_keeping_the_events_nearest_the_cursor() -> None:
    big = "x" * (400_000 - EVENT_OVERHEAD_BYTES)
    events = [StoredLogEvent(i + 1, "s", 1000 + i, 1000, f"{i}{big}"[: len(big)]) for i in range(4)]
    head = stream_page(None, True, events)
    assert [e.position for e in head.events] == [1, 2]
    tail = stream_page(None, False, events[::-1])
    assert [e.position for e in tail.events] == [3, 4]


def fetcher(events: Sequence[StoredLogEvent]) -> Fetch:
    def fetch(after: LogCursor | None, count: int) -> list[StoredLogEvent]:
        start = (
            0
            if after is None
            else next(
                (
                    i
                    for i, e in enumerate(events)
                    if (e.timestamp, e.position) > (after.timestamp, after.position)
                ),
                len(events),
            )
        )
        return list(events[start : start + count])

    return fetch


def test_filter_scan_pages_until_the_end_then_drops_the_token() -> None:
    fetch = fetcher(STREAM)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = filter_scan(
            fetch, lambda m: m.endswith(("1", "3", "5", "7", "9")), after=cursor, limit=3, chunk=4
        )
        seen += [e.message for e in page.events]
        cursor = page.resume_after
        if cursor is None:
            break
    assert seen == [f"line {i}" for i in range(1, 20, 2)]
    assert cursor is None


def test_filter_scan_ends_without_a_token_when_the_limit_is_met_at_the_last_event() -> None:
    page = filter_scan(fetcher(STREAM), lambda m: True, after=None, limit=20, chunk=7)
    assert len(page.events) == 20 and page.resume_after is None
    page = filter_scan(fetcher(STREAM), lambda m: True, after=None, limit=19, chunk=7)
    assert page.resume_after == STREAM[18].cursor


def test_filter_scan_stops_after_its_budget_and_resumes_there() -> None:
    page = filter_scan(fetcher(STREAM), lambda m: False, after=None, limit=5, chunk=4, budget=8)
    assert page.events == [] and page.resume_after == STREAM[7].cursor
    page = filter_scan(
        fetcher(STREAM),
        lambda m: m == "line 19",
        after=page.resume_after,
        limit=5,
        chunk=4,
        budget=100,
    )
    assert [e.message for e in page.events] == ["line 19"] and page.resume_after is None


def test_filter_scan_stops_at_one_megabyte() -> None:
    big = "y" * 600_000
    events = [StoredLogEvent(i + 1, "s", 1000 + i, 1000, big) for i in range(3)]
    page = filter_scan(fetcher(events), lambda m: True, after=None, limit=100)
    assert len(page.events) == 1 and page.resume_after == events[0].cursor


def test_page_tokens_are_opaque_and_refuse_garbage() -> None:
    text = encode_page_token({"k": ["/aws/lambda/fn"]})
    assert "/aws" not in text
    assert decode_page_token(text) == {"k": ["/aws/lambda/fn"]}
    assert decode_page_token("%%%") is None
    assert decode_page_token(encode_page_token({"k": 1})) == {"k": 1}
    cursor = LogCursor(5, 6)
    assert decode_cursor_token(encode_cursor_token(cursor)) == cursor
    assert decode_cursor_token(encode_page_token({"t": "5", "p": 6})) is None
    assert decode_cursor_token(encode_page_token({"t": True, "p": 6})) is None
