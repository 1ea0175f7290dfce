"""PutLogEvents' batch rules: failures, and rejected events by index."""

from __future__ import annotations

import pytest

from portico.services.logs.errors import InvalidParameterException
from portico.services.logs.ingest import (
    DAY_MS,
    MAX_AGE_MS,
    MAX_FUTURE_MS,
    InputEvent,
    accept,
    check_batch,
    parse_events,
)

NOW = 1_700_000_000_000


def test_events_must_be_in_chronological_order() -> None:
    with pytest.raises(InvalidParameterException) as raised:
        check_batch([InputEvent(2, "b"), InputEvent(1, "a")])
    assert raised.value.message == (
        "Log events in a single PutLogEvents request must be in chronological order."
    )
    check_batch([InputEvent(1, "a"), InputEvent(1, "b"), InputEvent(2, "c")])


def test_a_batch_may_not_span_more_than_a_day_or_a_megabyte() -> None:
    with pytest.raises(InvalidParameterException, match="cannot span more than 24 hours"):
        check_batch([InputEvent(0, "a"), InputEvent(DAY_MS + 1, "b")])
    check_batch([InputEvent(0, "a"), InputEvent(DAY_MS, "b")])
    with pytest.raises(InvalidParameterException, match="Upload too large"):
        check_batch([InputEvent(0, "x" * 600_000), InputEvent(1, "y" * 600_000)])


def test_parse_events_names_the_member_at_fault() -> None:
    with pytest.raises(InvalidParameterException, match="at 'logEvents'"):
        parse_events([])
    with pytest.raises(InvalidParameterException, match=r"logEvents\.2\.member\.message"):
        parse_events([{"timestamp": 1, "message": "a"}, {"timestamp": 2, "message": ""}])
    assert parse_events([{"timestamp": 1, "message": "a"}]) == [InputEvent(1, "a")]


def test_old_new_and_expired_events_are_rejected_by_index() -> None:
    events = [
        InputEvent(NOW - MAX_AGE_MS - 1, "too old"),
        InputEvent(NOW - 2 * DAY_MS, "expired"),
        InputEvent(NOW, "fine"),
        InputEvent(NOW + MAX_FUTURE_MS + 1, "too new"),
    ]
    accepted = accept(events, NOW, retention_days=1)
    assert [e.message for e in accepted.events] == ["fine"]
    assert accepted.rejected == {
        "tooOldLogEventEndIndex": 1,
        "expiredLogEventEndIndex": 2,
        "tooNewLogEventStartIndex": 3,
    }
    plain = accept(events[2:3], NOW, retention_days=None)
    assert plain.rejected == {} and [e.message for e in plain.events] == ["fine"]
