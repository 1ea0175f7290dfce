"""CloudWatch Logs' error codes. It is a json-protocol service: every client error is a 400."""

from __future__ import annotations

from typing import Any, ClassVar

from portico.errors import AwsError

GROUP_NOT_FOUND = "The specified log group does not exist."
STREAM_NOT_FOUND = "The specified log stream does not exist."
GROUP_EXISTS = "The specified log group already exists"
STREAM_EXISTS = "The specified log stream already exists"
INVALID_TOKEN = "The specified nextToken is invalid."  # noqa: S105 (a message, not a secret)


class ResourceNotFoundException(AwsError):
    code: ClassVar[str] = "ResourceNotFoundException"
    status_code: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True


class ResourceAlreadyExistsException(AwsError):
    code: ClassVar[str] = "ResourceAlreadyExistsException"
    status_code: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True


class InvalidParameterException(AwsError):
    code: ClassVar[str] = "InvalidParameterException"
    status_code: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True


class TooManyTagsException(AwsError):
    code: ClassVar[str] = "TooManyTagsException"
    status_code: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True

    def __init__(self, message: str, resource_name: str, **fields: Any) -> None:
        super().__init__(message, resourceName=resource_name, **fields)


def group_not_found() -> ResourceNotFoundException:
    return ResourceNotFoundException(GROUP_NOT_FOUND)


def stream_not_found() -> ResourceNotFoundException:
    return ResourceNotFoundException(STREAM_NOT_FOUND)


def invalid_token() -> InvalidParameterException:
    return InvalidParameterException(INVALID_TOKEN)
