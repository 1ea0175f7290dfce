"""Lambda's documented payload and execution-environment quotas."""

from __future__ import annotations

from portico.runtime.errors import RequestEntityTooLargeException

SYNC_REQUEST_LIMIT_BYTES = 6 * 1024 * 1024
ASYNC_REQUEST_LIMIT_BYTES = 1024 * 1024
RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024 + 100
OPEN_FILES = 1024  # file descriptors an execution environment may hold

REQUEST_RESPONSE = "RequestResponse"
EVENT = "Event"
DRY_RUN = "DryRun"


def check_request_size(payload: bytes, invocation_type: str = REQUEST_RESPONSE) -> None:
    """Raise AWS's error when a payload is over the limit for its invocation type."""
    size = len(payload)
    if invocation_type == EVENT and size > ASYNC_REQUEST_LIMIT_BYTES:
        raise RequestEntityTooLargeException(
            f"{size} byte payload is too large for the Event invocation type "
            f"(limit {ASYNC_REQUEST_LIMIT_BYTES} bytes)"
        )
    if size > SYNC_REQUEST_LIMIT_BYTES:
        raise RequestEntityTooLargeException(
            f"Request must be smaller than {SYNC_REQUEST_LIMIT_BYTES} bytes "
            "for the InvokeFunction operation"
        )
