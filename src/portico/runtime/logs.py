"""Function logs: capture of an environment's stdout/stderr, and AWS's platform lines.

Every execution environment writes to one log stream of its function's log group
(`/aws/lambda/<name>`, stream `YYYY/MM/DD/[<version>]<32 hex>`). Around each invocation the
platform writes START, END and REPORT lines (or `platform.*` JSON records when the function's
LogFormat is JSON).
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

TAIL_BYTES = 4096
READ_SIZE = 65536


@dataclass(slots=True)
class LogEvent:
    timestamp: int  # milliseconds since the epoch
    message: str


class LogSink(Protocol):
    """Where log events go: the store behind the CloudWatch Logs API, a console, memory."""

    def put(
        self,
        group: str,
        stream: str,
        events: Sequence[LogEvent],
        *,
        account_id: str | None = None,
        region: str | None = None,
    ) -> None: ...

    def put_invocation(
        self,
        group: str,
        stream: str,
        log: InvocationLog,
        *,
        account_id: str | None = None,
        region: str | None = None,
    ) -> None:
        """`put` of an invocation's events (`invocation_events(log)`), rendered when the
        sink likes: the request that made them need not wait for it."""
        ...


class MemoryLogSink:
    """Keeps the newest events of each stream in memory."""

    def __init__(self, max_events_per_stream: int = 10_000) -> None:
        self._limit = max_events_per_stream
        self.streams: dict[tuple[str, str], deque[LogEvent]] = {}

    def put(
        self,
        group: str,
        stream: str,
        events: Sequence[LogEvent],
        *,
        account_id: str | None = None,
        region: str | None = None,
    ) -> None:
        buffer = self.streams.get((group, stream))
        if buffer is None:
            buffer = self.streams[(group, stream)] = deque(maxlen=self._limit)
        buffer.extend(events)

    def put_invocation(
        self,
        group: str,
        stream: str,
        log: InvocationLog,
        *,
        account_id: str | None = None,
        region: str | None = None,
    ) -> None:
        self.put(group, stream, invocation_events(log))

    def events(self, group: str) -> list[LogEvent]:
        found = [e for (g, _s), events in self.streams.items() if g == group for e in events]
        return sorted(found, key=lambda event: event.timestamp)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_stream_name(version: str, epoch_seconds: float | None = None) -> str:
    day = time.strftime("%Y/%m/%d", time.gmtime(epoch_seconds))
    return f"{day}/[{version}]{os.urandom(16).hex()}"


@dataclass(slots=True)
class Report:
    request_id: str
    duration_ms: float
    memory_size: int
    max_memory_used_mb: int
    init_duration_ms: float | None
    status: str  # success | error | timeout
    error_type: str | None
    platform_error: bool  # the platform failed the invoke (timeout, exit, OOM, INIT)

    @property
    def billed_duration_ms(self) -> int:
        # On-demand INIT is billed with the first invoke.
        return max(1, math.ceil(self.duration_ms + (self.init_duration_ms or 0.0)))


class _Stamps:
    """ISO 8601 times to the millisecond; the text of the current second is kept."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def now(self) -> str:
        return self.at(now_ms())

    def at(self, epoch_ms: int) -> str:
        second, millis = divmod(epoch_ms, 1000)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{millis:03d}Z"


class PlatformLines:
    """Renders the platform's own log records in the function's log format."""

    def __init__(
        self,
        json_format: bool,
        function_name: str,
        version: str,
        system_log_level: str | None = None,
    ) -> None:
        self.json_format = json_format
        self.function_name = function_name
        self.version = version
        # The platform's records are INFO; SystemLogLevel=WARN (JSON format only) drops them.
        self.quiet = json_format and (system_log_level or "INFO").upper() == "WARN"
        self.style: Style = (json_format, function_name, version, system_log_level)
        self._stamps = _Stamps()

    def _record(self, kind: str, record: dict[str, Any], at: int | None = None) -> str | None:
        if self.quiet:
            return None
        stamp = self._stamps.now() if at is None else self._stamps.at(at)
        document = {"time": stamp, "type": kind, "record": record}
        return json.dumps(document, separators=(",", ":")) + "\n"

    def init_start(
        self, runtime_version: str, runtime_version_arn: str, provisioned: bool
    ) -> str | None:
        if self.json_format:
            record = {
                "initializationType": "provisioned-concurrency" if provisioned else "on-demand",
                "phase": "init",
                "runtimeVersion": runtime_version,
                "runtimeVersionArn": runtime_version_arn,
                "functionName": self.function_name,
                "functionVersion": self.version,
            }
            return self._record("platform.initStart", record)
        return (
            f"INIT_START Runtime Version: {runtime_version}\t"
            f"Runtime Version ARN: {runtime_version_arn}\n"
        )

    def init_report(self, duration_ms: float, status: str, error_type: str | None) -> str | None:
        if self.json_format:
            record: dict[str, Any] = {
                "initializationType": "on-demand",
                "phase": "init",
                "status": status,
                "metrics": {"durationMs": round(duration_ms, 3)},
            }
            if error_type:
                record["errorType"] = error_type
            return self._record("platform.initReport", record)
        line = f"INIT_REPORT Init Duration: {duration_ms:.2f} ms\tPhase: init\tStatus: {status}"
        if error_type:
            line += f"\tError Type: {error_type}"
        return line + "\n"

    def start(self, request_id: str, at: int | None = None) -> str | None:
        if self.json_format:
            return self._record(
                "platform.start", {"requestId": request_id, "version": self.version}, at
            )
        return f"START RequestId: {request_id} Version: {self.version}\n"

    def end(self, request_id: str) -> str | None:
        if self.json_format:
            return None
        return f"END RequestId: {request_id}\n"

    def report(self, report: Report, at: int | None = None) -> str | None:
        if self.json_format:
            return self._report_record(report, at)
        line = (
            f"REPORT RequestId: {report.request_id}\tDuration: {report.duration_ms:.2f} ms\t"
            f"Billed Duration: {report.billed_duration_ms} ms\t"
            f"Memory Size: {report.memory_size} MB\t"
            f"Max Memory Used: {report.max_memory_used_mb} MB\t"
        )
        if report.init_duration_ms is not None:
            line += f"Init Duration: {report.init_duration_ms:.2f} ms\t"
        if not report.platform_error:
            return line + "\n"
        line += f"Status: {report.status}"
        if report.error_type and report.status != "timeout":
            line += f"\tError Type: {report.error_type}"
        return line + "\n"

    def _report_record(self, report: Report, at: int | None) -> str | None:
        metrics: dict[str, Any] = {
            "durationMs": round(report.duration_ms, 3),
            "billedDurationMs": report.billed_duration_ms,
            "memorySizeMB": report.memory_size,
            "maxMemoryUsedMB": report.max_memory_used_mb,
        }
        if report.init_duration_ms is not None:
            metrics["initDurationMs"] = round(report.init_duration_ms, 3)
        record: dict[str, Any] = {
            "requestId": report.request_id,
            "metrics": metrics,
            "status": report.status,
        }
        if report.error_type and report.status != "success":
            record["errorType"] = report.error_type
        return self._record("platform.report", record, at)

    def invocation_events(self, log: InvocationLog) -> list[LogEvent]:
        """An invocation's log as events: what was captured before it began, START, what the
        function wrote, END and REPORT (in the JSON format, the platform's records)."""
        (
            request_id,
            start_ms,
            start_index,
            lines,
            end_ms,
            duration_ms,
            memory_size,
            max_memory_used_mb,
            init_duration_ms,
            status,
            error_type,
            platform_error,
        ) = log[1:]
        events = [LogEvent(timestamp, message) for timestamp, message in lines]
        start = self.start(request_id, start_ms)
        if start is not None:
            events.insert(start_index, LogEvent(start_ms, start))
        report = Report(
            request_id,
            duration_ms,
            memory_size,
            max_memory_used_mb,
            init_duration_ms,
            status,
            error_type,
            platform_error,
        )
        for message in (self.end(request_id), self.report(report, end_ms)):
            if message is not None:
                events.append(LogEvent(end_ms, message))
        return events


Style = tuple[bool, str, str, str | None]
"""How a function's platform lines are rendered: JSON or text, its name, its version, its
system log level (`PlatformLines`' arguments)."""


class InvocationLog(NamedTuple):
    """One invocation's log as an environment hands it to the sink: what its lines are made
    of, not the lines. The platform's lines are rendered where they are needed
    (`invocation_events`): by the log writer, in its own process, or for a log tail. Every
    field is a builtin value, so that `tuple(log)` crosses to the writer as it is."""

    style: Style
    request_id: str
    start_ms: int  # START's time
    start_index: int  # START comes after this many of `lines`: those captured before it began
    lines: list[tuple[int, str]]  # (timestamp ms, message): the captured output
    end_ms: int  # END's and REPORT's time
    duration_ms: float
    memory_size: int
    max_memory_used_mb: int
    init_duration_ms: float | None
    status: str
    error_type: str | None
    platform_error: bool


@functools.lru_cache(maxsize=256)
def _lines_for(style: Style) -> PlatformLines:
    return PlatformLines(*style)


def invocation_events(log: InvocationLog) -> list[LogEvent]:
    """The events of an invocation's log, rendered in its function's log format."""
    return _lines_for(log.style).invocation_events(log)


class OutputCapture:
    """Reads an environment's output pipe (stdout and stderr both) into log events.

    Output is attributed to the invocation running when it is read; `drain()` after a
    response picks up everything the function wrote before answering. A function that
    writes more than `limit` bytes during one invocation is reported through `on_flood`.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        fd: int,
        limit: int,
        on_flood: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._fd: int | None = fd
        self._partial = b""
        self._limit = limit
        self._on_flood = on_flood
        self._written = 0
        self._maybe_more = False  # the last read filled its buffer: the pipe may hold more
        self.events: list[LogEvent] = []
        os.set_blocking(fd, False)
        loop.add_reader(fd, self._read)

    def _read(self) -> bool:
        """Take one chunk; False when there is nothing more for now (or ever)."""
        if self._fd is None:
            return False
        try:
            data = os.read(self._fd, READ_SIZE)
        except BlockingIOError:
            self._maybe_more = False
            return False
        except OSError:
            data = b""
        if not data:
            self.close()
            self._end_line()
            return False
        self._maybe_more = len(data) == READ_SIZE
        self._take(data)
        return True

    def _take(self, data: bytes) -> None:
        self._written += len(data)
        if self._written > self._limit:
            if self._written - len(data) <= self._limit:
                self._on_flood()
            return
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        stamp = now_ms()
        self.events.extend(
            LogEvent(stamp, line.decode("utf-8", "replace") + "\n") for line in lines if line
        )

    def _end_line(self) -> None:
        if self._partial:
            self.events.append(LogEvent(now_ms(), self._partial.decode("utf-8", "replace") + "\n"))
            self._partial = b""

    def drain(self, everything: bool = False) -> None:
        """Take what the function wrote before its answer, and end any unterminated line.

        The loop runs the reader for every fd its poll found ready before it resumes the
        task that awaits the answer, and the function wrote before answering: so unless the
        last read filled its buffer, nothing written before the answer is left in the pipe.
        That saves a system call on every invoke; `everything` reads to the bottom anyway.
        """
        if everything or self._maybe_more:
            while self._read():
                pass
        self._end_line()

    def add(self, message: str | None) -> None:
        if message is not None:
            self.events.append(LogEvent(time.time_ns() // 1_000_000, message))

    def add_pair(self, first: str | None, second: str | None) -> None:
        """Two lines written at one moment (END and REPORT), in this order."""
        stamp = time.time_ns() // 1_000_000
        if first is not None:
            self.events.append(LogEvent(stamp, first))
        if second is not None:
            self.events.append(LogEvent(stamp, second))

    def take(self) -> list[LogEvent]:
        events, self.events = self.events, []
        self._written = 0
        return events

    def close(self) -> None:
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            os.close(self._fd)
            self._fd = None


def tail(events: Sequence[LogEvent], size: int = TAIL_BYTES) -> bytes:
    text = "".join(event.message for event in events).encode()
    return text[-size:]
