"""Secrets Manager's errors, with the codes and messages AWS answers with.

Every one is a client error with HTTP 400, as AWS sends them (even ResourceNotFoundException).
Messages never carry a secret's value.
"""

from __future__ import annotations

from typing import ClassVar

from portico.errors import AwsError

SECRET_NOT_FOUND = "Secrets Manager can't find the specified secret."  # noqa: S105
MARKED_FOR_DELETION = (
    "You can't perform this operation on the secret because it was marked for deletion."
)
ALREADY_MARKED_DELETED = (
    "You tried to perform the operation on a secret that's currently marked deleted."
)
SCHEDULED_FOR_DELETION = (
    "You can't create this secret because a secret with this name is already scheduled for "
    "deletion."
)


class SecretsManagerError(AwsError):
    code: ClassVar[str] = "InternalServiceError"
    status_code: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True


class ResourceNotFoundException(SecretsManagerError):
    code: ClassVar[str] = "ResourceNotFoundException"


class ResourceExistsException(SecretsManagerError):
    code: ClassVar[str] = "ResourceExistsException"


class InvalidParameterException(SecretsManagerError):
    code: ClassVar[str] = "InvalidParameterException"


class InvalidRequestException(SecretsManagerError):
    code: ClassVar[str] = "InvalidRequestException"


class InvalidNextTokenException(SecretsManagerError):
    code: ClassVar[str] = "InvalidNextTokenException"


class ValidationException(SecretsManagerError):
    code: ClassVar[str] = "ValidationException"


class DecryptionFailure(SecretsManagerError):
    code: ClassVar[str] = "DecryptionFailure"


def secret_not_found() -> ResourceNotFoundException:
    return ResourceNotFoundException(SECRET_NOT_FOUND)


def marked_for_deletion() -> InvalidRequestException:
    return InvalidRequestException(MARKED_FOR_DELETION)
