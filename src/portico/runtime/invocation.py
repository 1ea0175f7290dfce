"""The values that flow through one invocation: request, outcome, result.

They are plain (not frozen) dataclasses because a frozen one costs microseconds to build,
and several are built on every invoke; treat them as values all the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portico.runtime.logs import InvocationLog, LogEvent, invocation_events, tail
from portico.runtime.shim import frames


@dataclass(slots=True)
class InvocationRequest:
    """One event on its way to a runtime, with what `/next` tells the runtime about it."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    client_context: str | None = None  # JSON text
    cognito_identity: str | None = None  # JSON text

    def frame(self) -> bytes:
        """The INVOKE frame for the built-in bootstrap (its meta is `headers()`)."""
        meta = (
            f"{frames.REQUEST_ID}\0{self.request_id}\0{frames.DEADLINE_MS}\0{self.deadline_ms}"
            f"\0{frames.FUNCTION_ARN}\0{self.function_arn}\0{frames.TRACE_ID}\0{self.trace_id}"
        )
        if self.client_context is not None:
            meta += f"\0{frames.CLIENT_CONTEXT}\0{self.client_context}"
        if self.cognito_identity is not None:
            meta += f"\0{frames.COGNITO_IDENTITY}\0{self.cognito_identity}"
        raw_meta = meta.encode()
        header = frames.HEADER.pack(frames.INVOKE, len(raw_meta), len(self.payload))
        return header + raw_meta + self.payload

    def headers(self) -> dict[str, str]:
        headers = {
            frames.REQUEST_ID: self.request_id,
            frames.DEADLINE_MS: str(self.deadline_ms),
            frames.FUNCTION_ARN: self.function_arn,
            frames.TRACE_ID: self.trace_id,
        }
        if self.client_context is not None:
            headers[frames.CLIENT_CONTEXT] = self.client_context
        if self.cognito_identity is not None:
            headers[frames.COGNITO_IDENTITY] = self.cognito_identity
        return headers


SUCCESS = "success"
ERROR = "error"
TIMEOUT = "timeout"


@dataclass(slots=True)
class Outcome:
    """What an environment produced for one invocation."""

    status: str  # success | error | timeout
    payload: bytes
    error_type: str | None = None
    max_rss_kb: int | None = None
    platform_error: bool = False  # failed by the platform (timeout, exit, OOM, INIT, size)


@dataclass(slots=True)
class InvocationResult:
    """What Invoke returns: the payload plus everything the API and the logs report."""

    request_id: str
    payload: bytes
    executed_version: str
    function_error: str | None = None  # "Unhandled" when the function failed
    error_type: str | None = None
    status: str = SUCCESS
    log: InvocationLog | None = None  # what this invocation's lines are made of
    duration_ms: float = 0.0
    init_duration_ms: float | None = None
    max_memory_used_mb: int = 0
    log_stream: str = ""
    cold_start: bool = field(default=False)

    @property
    def log_events(self) -> list[LogEvent]:
        """This invocation's lines, START to REPORT (with what was captured before it)."""
        return [] if self.log is None else invocation_events(self.log)

    @property
    def log_tail(self) -> bytes:
        """The last 4 KB of the invocation's log (what `LogType=Tail` returns)."""
        return tail(self.log_events)
