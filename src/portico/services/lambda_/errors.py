"""Lambda's error codes, as its API model names them."""

from __future__ import annotations

from typing import ClassVar

from portico.errors import AwsError


class ResourceNotFoundException(AwsError):
    code: ClassVar[str] = "ResourceNotFoundException"
    status_code: ClassVar[int] = 404
    sender_fault: ClassVar[bool] = True

    def __init__(self, message: str) -> None:
        super().__init__(message, Type="User")


class ResourceConflictException(AwsError):
    code: ClassVar[str] = "ResourceConflictException"
    status_code: ClassVar[int] = 409
    sender_fault: ClassVar[bool] = True

    def __init__(self, message: str) -> None:
        super().__init__(message, Type="User")


class InvalidParameterValueException(AwsError):
    code: ClassVar[str] = "InvalidParameterValueException"
    status_code: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True

    def __init__(self, message: str) -> None:
        super().__init__(message, Type="User")


class InvalidRequestContentException(AwsError):
    code: ClassVar[str] = "InvalidRequestContentException"
    status_code: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True

    def __init__(self, message: str) -> None:
        super().__init__(message, Type="User")


class PreconditionFailedException(AwsError):
    code: ClassVar[str] = "PreconditionFailedException"
    status_code: ClassVar[int] = 412
    sender_fault: ClassVar[bool] = True

    def __init__(self, message: str) -> None:
        super().__init__(message, Type="User")


class ServiceException(AwsError):
    code: ClassVar[str] = "ServiceException"
    status_code: ClassVar[int] = 500
    sender_fault: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message, Type="Service")


class AccessDeniedException(AwsError):
    """A service invoked a function whose resource-based policy does not allow it."""

    code: ClassVar[str] = "AccessDeniedException"
    status_code: ClassVar[int] = 403
    sender_fault: ClassVar[bool] = True
