"""Errors the runtime raises before a function runs (Lambda API error codes)."""

from __future__ import annotations

from typing import ClassVar

from portico.errors import AwsError


class TooManyRequestsException(AwsError):
    """Concurrency exhausted; `Reason` says which limit."""

    code: ClassVar[str] = "TooManyRequestsException"
    status_code: ClassVar[int] = 429
    sender_fault: ClassVar[bool] = True

    RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded"
    ACCOUNT = "ConcurrentInvocationLimitExceeded"

    def __init__(self, reason: str) -> None:
        super().__init__("Rate Exceeded.", Reason=reason, Type="User")
        self.reason = reason


class RequestEntityTooLargeException(AwsError):
    """The request payload is over the invocation type's limit (the code AWS sends)."""

    code: ClassVar[str] = "RequestEntityTooLargeException"
    status_code: ClassVar[int] = 413
    sender_fault: ClassVar[bool] = True

    def __init__(self, message: str) -> None:
        super().__init__(message, Type="User")


class InvalidRuntimeException(AwsError):
    """The runtime cannot run here (unknown name, missing interpreter or bootstrap)."""

    code: ClassVar[str] = "InvalidRuntimeException"
    status_code: ClassVar[int] = 502
    sender_fault: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message, Type="User")
