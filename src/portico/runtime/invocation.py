"""The values that flow through one invocation: request, outcome, result."""

from __future__ import annotations

from dataclasses import dataclass, field

from portico.runtime.shim import frames


@dataclass(frozen=True, slots=True)
class InvocationRequest:
    """One event on its way to a runtime, with what `/next` tells the runtime about it."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    client_context: str | None = None  # JSON text
    cognito_identity: str | None = None  # JSON text

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


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an environment produced for one invocation."""

    status: str  # success | error | timeout
    payload: bytes
    error_type: str | None = None
    max_rss_kb: int | None = None
    platform_error: bool = False  # failed by the platform (timeout, exit, OOM, INIT, size)


@dataclass(frozen=True, slots=True)
class InvocationResult:
    """What Invoke returns: the payload plus everything the API and the logs report."""

    request_id: str
    payload: bytes
    executed_version: str
    function_error: str | None = None  # "Unhandled" when the function failed
    error_type: str | None = None
    status: str = SUCCESS
    log_tail: bytes = b""
    duration_ms: float = 0.0
    init_duration_ms: float | None = None
    max_memory_used_mb: int = 0
    log_stream: str = ""
    cold_start: bool = field(default=False)
