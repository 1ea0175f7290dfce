"""The store-backed runtime log sink, with the provider reading what it wrote.

A real SQLite database in tmp_path, the sink's put/flush, then the provider's operations
called directly with a RequestContext (no server, no sleeps).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import marshal
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import pytest_asyncio

from portico.aws.handler import RequestContext
from portico.runtime.logs import InvocationLog, LogEvent, invocation_events
from portico.services.logs.errors import ResourceNotFoundException
from portico.services.logs.models import GroupRef
from portico.services.logs.provider import LogsProvider
from portico.services.logs.repository import Batch, LogsRepository
from portico.services.logs.sink import StoreLogSink
from portico.services.logs.writer import LENGTH, LogWriter, ProcessWriter, open_store, serve
from portico.store import ManualClock, StoreError
from portico.store.sqlite.database import SqliteDatabase, open_database

pytestmark = pytest.mark.asyncio

ACCOUNT = "123456789012"
REGION = "eu-west-1"
GROUP = "/aws/lambda/fn"
STREAM = "2024/01/31/[$LATEST]0123456789abcdef0123456789abcdef"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000.0)


@pytest.fixture
def database(tmp_path: Path, clock: ManualClock) -> Iterator[SqliteDatabase]:
    db = open_database(tmp_path, clock=clock, synchronous="NORMAL")
    try:
        yield db
    finally:
        db.close()


@pytest_asyncio.fixture
async def writer(database: SqliteDatabase) -> AsyncIterator[LogWriter]:
    """The writer the server uses: a child process of its own."""
    child = ProcessWriter(database.path)
    try:
        yield child
    finally:
        await child.close()


def context(operation: str, region: str = REGION) -> RequestContext:
    return RequestContext("req-1", "logs", operation, region, ACCOUNT, None)


async def call(provider: LogsProvider, operation: str, region: str = REGION, **params: Any) -> Any:
    return await provider.operations()[operation](context(operation, region), params)


def now_ms(clock: ManualClock) -> int:
    return int(clock.now() * 1000)


async def test_put_buffers_and_flush_stores_groups_streams_and_events(
    database: SqliteDatabase, writer: LogWriter, clock: ManualClock
) -> None:
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region=REGION)
    provider = LogsProvider(database, clock)
    start = now_ms(clock)
    sink.put(
        GROUP, STREAM, [LogEvent(start, "START RequestId: 1\n"), LogEvent(start + 5, "hello\n")]
    )

    with pytest.raises(ResourceNotFoundException):  # nothing written until a flush
        await call(provider, "DescribeLogStreams", logGroupName=GROUP)

    clock.advance(1)
    sink.put(GROUP, STREAM, [LogEvent(start + 9, "END RequestId: 1\n")])
    await sink.flush()

    groups = await call(provider, "DescribeLogGroups", logGroupNamePrefix="/aws/lambda/")
    assert [g["logGroupName"] for g in groups["logGroups"]] == [GROUP]
    assert groups["logGroups"][0]["creationTime"] == now_ms(clock)
    assert groups["logGroups"][0]["arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*"
    [stream] = (await call(provider, "DescribeLogStreams", logGroupName=GROUP))["logStreams"]
    assert stream["logStreamName"] == STREAM
    assert stream["firstEventTimestamp"] == start
    assert stream["lastEventTimestamp"] == start + 9
    assert stream["lastIngestionTime"] == now_ms(clock)

    got = await call(
        provider, "GetLogEvents", logGroupName=GROUP, logStreamName=STREAM, startFromHead=True
    )
    assert [e["message"] for e in got["events"]] == [
        "START RequestId: 1\n",
        "hello\n",
        "END RequestId: 1\n",
    ]
    filtered = await call(provider, "FilterLogEvents", logGroupName=GROUP, filterPattern="hello")
    assert [(e["logStreamName"], e["message"]) for e in filtered["events"]] == [(STREAM, "hello\n")]
    assert "nextToken" not in filtered


def invocation_log(start_ms: int, lines: list[tuple[int, str]], end_ms: int) -> InvocationLog:
    """A successful invocation's log in the text format, its output `lines`."""
    style = (False, "fn", "$LATEST", None)
    return InvocationLog(
        style, "req-1", start_ms, 0, lines, end_ms, 1.5, 128, 40, None, "success", None, False
    )


async def test_invocations_logs_are_rendered_by_the_writer_in_order(
    database: SqliteDatabase, writer: LogWriter, clock: ManualClock
) -> None:
    """An invocation's log travels to the log writer unrendered; what the store holds is
    its lines, in their place among the events put before and after it."""
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region=REGION)
    provider = LogsProvider(database, clock)
    start = now_ms(clock)
    log = invocation_log(start + 1, [(start + 2, "hello\n")], start + 3)
    sink.put(GROUP, STREAM, [LogEvent(start, "before\n")])
    sink.put_invocation(GROUP, STREAM, log)
    sink.put(GROUP, STREAM, [LogEvent(start + 4, "after\n")])
    await sink.flush()
    got = await call(
        provider, "GetLogEvents", logGroupName=GROUP, logStreamName=STREAM, startFromHead=True
    )
    assert [(e["timestamp"], e["message"]) for e in got["events"]] == [
        (start, "before\n"),
        *[(event.timestamp, event.message) for event in invocation_events(log)],
        (start + 4, "after\n"),
    ]
    assert [e["message"].split(" ")[0] for e in got["events"]] == [
        "before\n",
        "START",
        "hello\n",
        "END",
        "REPORT",
        "after\n",
    ]


async def test_an_invocations_log_counts_as_its_lines_towards_a_batch(
    writer: LogWriter, clock: ManualClock
) -> None:
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region=REGION, batch_size=5)
    await sink.start()
    try:
        log = invocation_log(1, [(1, "a\n")], 2)
        sink.put_invocation(GROUP, STREAM, log)  # 4 lines: not yet a batch
        await asyncio.sleep(0.05)
        assert sink.pending == 4
        sink.put_invocation(GROUP, STREAM, log)  # 8: a batch is due, and flushed
        for _ in range(100):
            if sink.pending == 0:
                break
            await asyncio.sleep(0.01)
        assert sink.pending == 0
    finally:
        await sink.close()


async def test_later_flushes_extend_the_stream(
    database: SqliteDatabase, writer: LogWriter, clock: ManualClock
) -> None:
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region=REGION)
    provider = LogsProvider(database, clock)
    sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "one\n")])
    await sink.flush()
    first = (await call(provider, "DescribeLogGroups"))["logGroups"][0]["creationTime"]
    clock.advance(60)
    sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "two\n")])
    await sink.flush()
    await sink.flush()  # nothing pending: a no-op
    [group] = (await call(provider, "DescribeLogGroups"))["logGroups"]
    assert group["creationTime"] == first
    [stream] = (await call(provider, "DescribeLogStreams", logGroupName=GROUP))["logStreams"]
    assert stream["lastEventTimestamp"] == now_ms(clock)
    assert stream["firstEventTimestamp"] == now_ms(clock) - 60_000
    got = await call(provider, "GetLogEvents", logGroupName=GROUP, logStreamName=STREAM)
    assert [e["message"] for e in got["events"]] == ["one\n", "two\n"]


async def test_close_writes_what_is_still_pending(
    database: SqliteDatabase, writer: LogWriter, clock: ManualClock
) -> None:
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region=REGION, interval=3600)
    await sink.start()
    sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "last words\n")])
    await sink.close()
    provider = LogsProvider(database, clock)
    got = await call(provider, "GetLogEvents", logGroupName=GROUP, logStreamName=STREAM)
    assert [e["message"] for e in got["events"]] == ["last words\n"]


async def test_events_go_to_the_region_they_are_put_for(
    database: SqliteDatabase, writer: LogWriter, clock: ManualClock
) -> None:
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region="us-east-1")
    provider = LogsProvider(database, clock)
    sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "default\n")])
    sink.put("/aws/lambda/other", STREAM, [LogEvent(now_ms(clock), "x\n")], region=REGION)
    await sink.flush()
    east = await call(provider, "DescribeLogGroups", region="us-east-1")
    west = await call(provider, "DescribeLogGroups", region=REGION)
    assert [g["logGroupName"] for g in east["logGroups"]] == [GROUP]
    assert [g["logGroupName"] for g in west["logGroups"]] == ["/aws/lambda/other"]


async def test_a_sink_far_behind_drops_and_counts_instead_of_growing(
    database: SqliteDatabase, writer: LogWriter, clock: ManualClock
) -> None:
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region=REGION, max_pending=3)
    sink.put(GROUP, STREAM, [LogEvent(1, "a"), LogEvent(2, "b")])
    sink.put(GROUP, STREAM, [LogEvent(3, "c"), LogEvent(4, "d")])
    assert sink.dropped == 2
    await sink.flush()
    sink.put(GROUP, STREAM, [LogEvent(5, "e")])
    assert sink.dropped == 2


async def test_retention_hides_expired_events_and_the_sweeper_deletes_them(
    database: SqliteDatabase, writer: LogWriter, clock: ManualClock
) -> None:
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region=REGION)
    provider = LogsProvider(database, clock)
    old = now_ms(clock)
    sink.put(GROUP, STREAM, [LogEvent(old, "old\n")])
    await sink.flush()
    clock.advance(2 * 86400)
    sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "new\n")])
    await sink.flush()
    await call(provider, "PutRetentionPolicy", logGroupName=GROUP, retentionInDays=1)

    assert provider.retention.run_once() == 1
    assert provider.retention.run_once() == 0
    got = await call(provider, "GetLogEvents", logGroupName=GROUP, logStreamName=STREAM)
    assert [e["message"] for e in got["events"]] == ["new\n"]

    clock.advance(86400 + 1)  # "new" has expired too: hidden before any sweep
    got = await call(provider, "FilterLogEvents", logGroupName=GROUP)
    assert got["events"] == []
    await call(provider, "DeleteRetentionPolicy", logGroupName=GROUP)
    got = await call(provider, "FilterLogEvents", logGroupName=GROUP)
    assert [e["message"] for e in got["events"]] == ["new\n"]
    assert provider.retention.run_once() == 0  # no policy: nothing swept


async def test_one_flush_of_many_streams_counts_each_event_once(
    database: SqliteDatabase, writer: LogWriter, clock: ManualClock
) -> None:
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region=REGION)
    provider = LogsProvider(database, clock)
    streams = [f"2024/01/31/[$LATEST]{n:032x}" for n in range(3)]
    start = now_ms(clock)
    for n, stream in enumerate(streams):
        sink.put(GROUP, stream, [LogEvent(start + n, f"from {n}\n"), LogEvent(start + 9, "é\n")])
    await sink.flush()
    sink.put(GROUP, streams[0], [LogEvent(start + 10, "again\n")])
    await sink.flush()

    [group] = (await call(provider, "DescribeLogGroups"))["logGroups"]
    # 26 bytes of overhead per event, the message in UTF-8.
    assert group["storedBytes"] == 3 * (26 + 7 + 26 + 3) + (26 + 6)
    described = (await call(provider, "DescribeLogStreams", logGroupName=GROUP))["logStreams"]
    assert [s["logStreamName"] for s in described] == streams
    assert [s["firstEventTimestamp"] for s in described] == [start, start + 1, start + 2]
    assert [s["lastEventTimestamp"] for s in described] == [start + 10, start + 9, start + 9]
    for n, stream in enumerate(streams):
        got = await call(
            provider, "GetLogEvents", logGroupName=GROUP, logStreamName=stream, startFromHead=True
        )
        expected = [f"from {n}\n", "é\n", *(["again\n"] if n == 0 else [])]
        assert [e["message"] for e in got["events"]] == expected


async def test_the_process_writer_replaces_a_child_that_died(
    database: SqliteDatabase, clock: ManualClock
) -> None:
    writer = ProcessWriter(database.path)
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region=REGION)
    provider = LogsProvider(database, clock)
    try:
        sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "first\n")])
        await sink.flush()
        first = writer.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)

        sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "lost\n")])
        await sink.flush()  # the dead child cannot store it: counted, not raised
        assert sink.dropped == 1
        sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "second\n")])
        await sink.flush()
        assert writer.pid not in (None, first)
    finally:
        await sink.close()

    got = await call(provider, "GetLogEvents", logGroupName=GROUP, logStreamName=STREAM)
    assert [e["message"] for e in got["events"]] == ["first\n", "second\n"]


async def test_the_process_writer_answers_a_store_error_and_goes_on(
    database: SqliteDatabase, clock: ManualClock
) -> None:
    writer = ProcessWriter(database.path)
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region=REGION)
    provider = LogsProvider(database, clock)
    try:
        # The child cannot take its write turn while this connection holds it.
        with database.writing():
            sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "blocked\n")])
            await asyncio.wait_for(sink.flush(), 30)
        assert sink.dropped == 1
        sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "after\n")])
        await sink.flush()
    finally:
        await sink.close()
    got = await call(provider, "GetLogEvents", logGroupName=GROUP, logStreamName=STREAM)
    assert [e["message"] for e in got["events"]] == ["after\n"]


async def test_the_process_writer_leaves_at_close_and_ignores_ctrl_c(
    database: SqliteDatabase, clock: ManualClock
) -> None:
    writer = ProcessWriter(database.path)
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region=REGION)
    sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "one\n")])
    await sink.flush()
    pid = writer.pid
    assert pid is not None
    os.kill(pid, signal.SIGINT)  # as a terminal's Ctrl-C reaches the whole group
    sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "two\n")])
    await sink.close()  # the last flush still reaches the child, which then exits
    assert writer.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    provider = LogsProvider(database, clock)
    got = await call(provider, "GetLogEvents", logGroupName=GROUP, logStreamName=STREAM)
    assert [e["message"] for e in got["events"]] == ["one\n", "two\n"]


async def test_the_process_writer_runs_as_batch_work(writer: LogWriter, clock: ManualClock) -> None:
    """It never preempts a request when it wakes for a flush, and keeps its share of the CPU."""
    sink = StoreLogSink(writer, clock, account_id=ACCOUNT, region=REGION)
    try:
        sink.put(GROUP, STREAM, [LogEvent(now_ms(clock), "one\n")])
        await sink.flush()
        assert isinstance(writer, ProcessWriter) and writer.pid is not None
        assert os.sched_getscheduler(writer.pid) == os.SCHED_BATCH
        assert os.getpriority(os.PRIO_PROCESS, writer.pid) == os.getpriority(os.PRIO_PROCESS, 0)
        assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the server's own is unchanged
    finally:
        await sink.close()


async def test_the_writers_store_yields_its_cpu_while_it_stores_a_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child, a batch process, is not preempted by a task that wakes on its CPU; it
    yields now and then while it stores, so that such a task (a function's environment,
    the server) waits a fraction of a millisecond rather than the whole flush."""
    yields: list[int] = []
    monkeypatch.setattr(os, "sched_yield", lambda: yields.append(1))
    database = open_store(tmp_path / "portico.db")
    try:
        events = [LogEvent(1_700_000_000_000 + n, f"line {n}\n") for n in range(2_000)]
        LogsRepository(database).append(
            [Batch(GroupRef(ACCOUNT, REGION, GROUP), STREAM, events, create=True)],
            1_700_000_000_000,
        )
    finally:
        database.close()
    assert len(yields) >= 2


def _deleted_files_open() -> set[str]:
    found = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.endswith(" (deleted)"):
                found.add(target)
    return found


async def test_a_flush_keeps_its_statement_journals_in_memory(tmp_path: Path) -> None:
    """A flush inserts its events hundreds to a statement, and SQLite keeps each statement's
    undo journal; past 64 KiB it spilled that journal to a temporary file, opened, written
    and deleted for each such statement: the writer's most frequent system calls."""
    already = _deleted_files_open()  # the test runner's own captures, say
    spilled: set[str] = set()

    def look() -> int:
        spilled.update(_deleted_files_open() - already)
        return 0

    database = open_store(tmp_path / "portico.db")
    database.on_progress(look, 200)
    try:
        repository = LogsRepository(database)
        start = 1_700_000_000_000
        for flush in range(4):
            streams = [f"2024/01/31/[$LATEST]{n:032x}" for n in range(16)]
            repository.append(
                [
                    Batch(
                        GroupRef(ACCOUNT, REGION, GROUP),
                        stream,
                        [
                            LogEvent(start + flush * 100 + n, f"REPORT {n:060d}\n")
                            for n in range(62)
                        ],
                        create=True,
                    )
                    for stream in streams
                ],
                start,
            )
    finally:
        database.close()
    assert spilled == set()


async def test_the_writer_stores_a_flush_with_the_collector_off_and_turns_it_back_on(
    tmp_path: Path,
) -> None:
    """A flush's thousands of short-lived tuples hold no cycle: the collector's passes over
    them would be work for nothing. It is back on between flushes, and after a failed one."""
    seen: list[bool] = []

    class Repository:
        def append(self, batches: Any, ingestion_time: int) -> None:
            seen.append(gc.isenabled())
            if len(seen) == 2:
                raise StoreError("the second flush fails")

    flush = marshal.dumps((1_700_000_000_000, []))
    requests = io.BytesIO((LENGTH.pack(len(flush)) + flush) * 3)
    answers = io.BytesIO()
    assert gc.isenabled()
    serve(cast(LogsRepository, Repository()), requests, answers)
    assert seen == [False, False, False]
    assert gc.isenabled()
    assert answers.getvalue().count(marshal.dumps(None)) >= 2
