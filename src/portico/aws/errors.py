"""Errors of the protocol layer itself (the request never reached a service)."""

from __future__ import annotations

from typing import ClassVar

from portico.errors import AwsError


class UnknownOperationException(AwsError):
    code: ClassVar[str] = "UnknownOperationException"
    status_code: ClassVar[int] = 404
    sender_fault: ClassVar[bool] = True


class SerializationException(AwsError):
    """The body is not what the protocol says it is (bad JSON, wrong types)."""

    code: ClassVar[str] = "SerializationException"
    status_code: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True


class ValidationException(AwsError):
    code: ClassVar[str] = "ValidationException"
    status_code: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True


class InternalFailure(AwsError):
    code: ClassVar[str] = "InternalFailure"
    status_code: ClassVar[int] = 500
    sender_fault: ClassVar[bool] = False
