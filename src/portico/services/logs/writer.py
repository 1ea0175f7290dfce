"""Where the log sink's flushes are stored: in a child process beside the server.

    StoreLogSink.flush() ──batches──► ProcessWriter.append() ──► child: LogsRepository.append()

On a thread of the server, the inserts would share its interpreter lock: under load every
flush would stall the event loop for as long as it binds rows. So `ProcessWriter` hands each
flush to a child process (`python -m portico.services.logs.writer DATABASE`) with its own
connection to the same SQLite file. The two speak over the child's stdin and stdout, in
frames of a u32 length (big-endian) and a `marshal`led body:

    server → child   (ingestion_time, [(account, region, group, stream, items), ...]),
                     each item an event, (timestamp, message), or an invocation's log
                     (the fields of an `InvocationLog`), whose lines the child renders
    child → server   None once the flush is stored, else the error's text

The server sends one flush at a time and waits for its answer. The child leaves when its
stdin closes: at shutdown, after the last flush, or when the server dies. It is started at
the first flush and again after it was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import marshal
import os
import signal
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from portico.runtime.logs import InvocationLog, LogEvent, invocation_events
from portico.services.logs.models import GroupRef
from portico.services.logs.repository import Batch, LogsRepository
from portico.store import StoreError

if TYPE_CHECKING:
    from portico.store.sqlite.database import SqliteDatabase

logger = logging.getLogger(__name__)

LENGTH = struct.Struct("!I")
CLOSE_TIMEOUT = 10.0  # seconds a closing child may take to store what it holds
YIELD_EVERY = 10_000  # steps of SQLite's machine between yields (see `open_store`)
RENDER_YIELD_EVERY = 100  # invocations' logs rendered between yields (about 0.2 ms)

WireBatch = tuple[str, str, str, str, list[tuple[Any, ...]]]


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """What the sink has for one stream: events, and invocations' logs yet to be rendered."""

    ref: GroupRef
    stream: str
    items: Sequence[LogEvent | InvocationLog]


class LogWriter(Protocol):
    async def append(self, batches: Sequence[PendingBatch], ingestion_time: int) -> None:
        """Store the batches (creating groups and streams, rendering invocations' logs);
        `StoreError` if they are not."""
        ...

    async def close(self) -> None: ...


class ProcessWriter:
    """Stores in a child process that owns its own connection to the SQLite file `path`."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id, while there is one."""
        return None if self._process is None else self._process.pid

    async def append(self, batches: Sequence[PendingBatch], ingestion_time: int) -> None:
        process = await self._running()
        stdin, stdout = process.stdin, process.stdout
        if stdin is None or stdout is None:  # pragma: no cover - both are pipes
            raise StoreError("the log writer has no pipes")
        body = marshal.dumps((ingestion_time, [_to_wire(batch) for batch in batches]))
        try:
            stdin.write(LENGTH.pack(len(body)) + body)
            await stdin.drain()
            (size,) = LENGTH.unpack(await stdout.readexactly(LENGTH.size))
            answer = marshal.loads(await stdout.readexactly(size))  # noqa: S302 - our own child
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            await self._lost(process)
            raise StoreError(f"the log writer exited: {exc}") from None
        except asyncio.CancelledError:  # its answer would be read as the next flush's
            self._process = None
            process.kill()
            raise
        if answer is not None:
            raise StoreError(str(answer))

    async def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), CLOSE_TIMEOUT)
        except TimeoutError:
            logger.warning("the log writer did not exit within %ss: killed", CLOSE_TIMEOUT)
            process.kill()
            await process.wait()

    async def _running(self) -> asyncio.subprocess.Process:
        process = self._process
        if process is None or process.returncode is not None:
            process = self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                __name__,
                str(self._path),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        return process

    async def _lost(self, process: asyncio.subprocess.Process) -> None:
        if self._process is process:
            self._process = None
        if process.returncode is None:
            process.kill()
        status = await process.wait()
        logger.error("the log writer exited with status %s; a new one takes over", status)


def _to_wire(batch: PendingBatch) -> WireBatch:
    ref = batch.ref
    items = [
        (item.timestamp, item.message) if isinstance(item, LogEvent) else tuple(item)
        for item in batch.items
    ]
    return ref.account_id, ref.region, ref.name, batch.stream, items


def _from_wire(batches: list[WireBatch]) -> list[Batch]:
    """The batches as the repository takes them, invocations' logs rendered: yielding the
    CPU every RENDER_YIELD_EVERY of them, as the store does while it writes (see
    `open_store`)."""
    rendered: list[Batch] = []
    count = 0
    for account, region, group, stream, items in batches:
        events: list[LogEvent] = []
        for item in items:
            if len(item) == 2:
                events.append(LogEvent(*item))
                continue
            events.extend(invocation_events(InvocationLog(*item)))
            count += 1
            if count % RENDER_YIELD_EVERY == 0:
                _yield_cpu()
        rendered.append(Batch(GroupRef(account, region, group), stream, events, create=True))
    return rendered


# -- the child --------------------------------------------------------------------------


def _read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(LENGTH.size)
    if len(header) < LENGTH.size:
        return None
    (size,) = LENGTH.unpack(header)
    body = stream.read(size)
    return body if len(body) == size else None


def _write_frame(stream: BinaryIO, value: Any) -> None:
    body = marshal.dumps(value)
    stream.write(LENGTH.pack(len(body)) + body)
    stream.flush()


def serve(repository: LogsRepository, requests: BinaryIO, answers: BinaryIO) -> None:
    """Store each flush read from `requests` and answer it, until `requests` ends."""
    while (frame := _read_frame(requests)) is not None:
        # A flush makes thousands of tuples and lists, freed when it is stored, and no cycle:
        # the collector's passes over them while they live were 4% of the writer's CPU.
        gc.disable()
        ingestion_time, batches = marshal.loads(frame)  # noqa: S302 - from our own server
        try:
            repository.append(_from_wire(batches), ingestion_time)
        except StoreError as exc:
            _write_frame(answers, str(exc))
        except Exception as exc:  # a fault of the writer's own: the server logs it, we go on
            logger.exception("storing %d log batches failed", len(batches))
            _write_frame(answers, f"the log writer failed: {type(exc).__name__}: {exc}")
        else:
            _write_frame(answers, None)
        finally:
            gc.enable()


def _schedule_as_batch_work() -> None:
    """Make the child a SCHED_BATCH process: it never preempts the server or a function when
    it wakes for a flush.

    A flush takes a few milliseconds of inserts. With the normal policy the child, fresh from
    sleep, could preempt whatever ran on its CPU, and the request then in flight waited.
    A batch process still gets its full share of the CPU. A lower priority would not: it
    could starve behind busy functions until the sink drops lines."""
    with contextlib.suppress(AttributeError, OSError):  # not on every platform
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def open_store(path: Path) -> SqliteDatabase:
    """The child's database. A power cut may cost the last lines; a killed process costs
    nothing (WAL).

    While it stores a flush, the child yields its CPU every YIELD_EVERY steps of SQLite's
    machine (a fraction of a millisecond). As a batch process it does not preempt a task that
    wakes on its CPU: without the yields, an environment or the server woken there waited
    for the whole flush, a few milliseconds, and a request with it. A yield with nobody
    waiting costs a system call; the flush stays one transaction."""
    from portico.store.sqlite.database import SqliteDatabase

    database = SqliteDatabase(path, synchronous="NORMAL")
    database.on_progress(_yield_cpu, YIELD_EVERY)
    return database


def _yield_cpu() -> int:
    os.sched_yield()
    return 0  # go on


def main(argv: Sequence[str] | None = None) -> None:
    [path] = sys.argv[1:] if argv is None else argv
    # Ctrl-C reaches the whole process group; the server closes us after its last flush.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _schedule_as_batch_work()
    logging.basicConfig(level=logging.WARNING, format="log writer: %(message)s")
    database = open_store(Path(path))
    try:
        serve(LogsRepository(database), sys.stdin.buffer, sys.stdout.buffer)
    finally:
        database.close()


if __name__ == "__main__":
    main()
