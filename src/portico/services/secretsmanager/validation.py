"""Request members checked as Secrets Manager checks them, before any state is touched.

Constraint failures read like AWS's ("1 validation error detected: Value ... at 'secretId'
failed to satisfy constraint: ..."); a secret's value is never quoted in a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from portico.services.secretsmanager.errors import (
    InvalidParameterException,
    InvalidRequestException,
    ValidationException,
)
from portico.services.secretsmanager.filters import FILTER_KEYS, Filter
from portico.services.secretsmanager.models import SecretValue, Tag

Params = Mapping[str, Any]
T = TypeVar("T")

MAX_VALUE_BYTES = 65_536
MAX_RESULTS = 100
RECOVERY_DAYS = (7, 30)
DEFAULT_RECOVERY_DAYS = 30


def _field(member: str) -> str:
    return member[:1].lower() + member[1:]


def _invalid(member: str, constraint: str, value: object = "") -> str:
    subject = f"Value '{value}' at" if value != "" else "Value at"
    return (
        f"1 validation error detected: {subject} '{_field(member)}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _null(member: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value null at '{_field(member)}' failed to satisfy "
        "constraint: Member must not be null"
    )


def _typed(params: Params, member: str, kind: type[T]) -> T | None:
    value = params.get(member)
    if value is None or isinstance(value, kind):
        return value
    raise ValidationException(_invalid(member, f"Member must be of type {kind.__name__}"))


def string(
    params: Params,
    member: str,
    *,
    min_length: int = 0,
    max_length: int = 2048,
    required: bool = False,
) -> str | None:
    value = _typed(params, member, str)
    if value is None:
        if required:
            raise _null(member)
        return None
    if len(value) < min_length:
        constraint = f"Member must have length greater than or equal to {min_length}"
        raise ValidationException(_invalid(member, constraint, value))
    if len(value) > max_length:
        constraint = f"Member must have length less than or equal to {max_length}"
        raise ValidationException(_invalid(member, constraint, value))
    return value


def secret_id(params: Params) -> str:
    found = string(params, "SecretId", min_length=1, max_length=2048, required=True)
    assert found is not None  # required=True
    return found


def boolean(params: Params, member: str) -> bool:
    return bool(_typed(params, member, bool))


def integer(params: Params, member: str, low: int, high: int) -> int | None:
    value = params.get(member)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationException(_invalid(member, "Member must be a number"))
    if value < low:
        constraint = f"Member must have value greater than or equal to {low}"
        raise ValidationException(_invalid(member, constraint, value))
    if value > high:
        constraint = f"Member must have value less than or equal to {high}"
        raise ValidationException(_invalid(member, constraint, value))
    return value


def client_request_token(params: Params) -> str | None:
    token = _typed(params, "ClientRequestToken", str)
    if token is not None and not 32 <= len(token) <= 64:
        raise InvalidParameterException("ClientRequestToken must be 32-64 characters long.")
    return token


def secret_value(params: Params, token: str | None) -> SecretValue | None:
    """SecretString or SecretBinary, at most one; a value needs a ClientRequestToken (which
    the SDKs and the CLI fill in by themselves)."""
    text = _typed(params, "SecretString", str)
    binary = _typed(params, "SecretBinary", bytes)
    if text and binary:
        raise InvalidParameterException(
            "You can't specify both a binary secret value and a string secret value in the "
            "same secret."
        )
    value = SecretValue.of(text, binary)
    if value is None:
        return None
    if len(value.data) > MAX_VALUE_BYTES:
        member = "SecretString" if value.type == "string" else "SecretBinary"
        constraint = f"Member must have length less than or equal to {MAX_VALUE_BYTES}"
        raise ValidationException(_invalid(member, constraint))
    if token is None:
        raise InvalidRequestException(
            "You must provide a ClientRequestToken value. We recommend a UUID-type value."
        )
    return value


def tags(params: Params, *, required: bool = False) -> list[Tag] | None:
    entries = _typed(params, "Tags", list)
    if entries is None:
        if required:
            raise _null("Tags")
        return None
    found: list[Tag] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValidationException(_invalid("Tags", "Member must be a list of tags"))
        key = string(entry, "Key", min_length=1, max_length=128, required=True)
        value = string(entry, "Value", max_length=256) or ""
        assert key is not None  # required=True
        found.append((key, value))
    return found


def tag_keys(params: Params) -> list[str]:
    keys = _typed(params, "TagKeys", list)
    if keys is None:
        raise _null("TagKeys")
    if not all(isinstance(key, str) for key in keys):
        raise ValidationException(_invalid("TagKeys", "Member must be a list of strings"))
    return list(keys)


def version_stages(params: Params) -> list[str] | None:
    stages = _typed(params, "VersionStages", list)
    if stages is None:
        return None
    if not 1 <= len(stages) <= 20:
        constraint = "Member must have length less than or equal to 20 and greater than 0"
        raise ValidationException(_invalid("VersionStages", constraint))
    for stage in stages:
        if not isinstance(stage, str) or not 1 <= len(stage) <= 256:
            constraint = "Member must have length between 1 and 256"
            raise ValidationException(_invalid("VersionStages", constraint))
    return list(dict.fromkeys(stages))


def recovery_window(params: Params) -> float | None:
    """Days until a deleted secret is gone; None for ForceDeleteWithoutRecovery."""
    window = params.get("RecoveryWindowInDays")
    force = boolean(params, "ForceDeleteWithoutRecovery")
    if force and window is not None:
        raise InvalidParameterException(
            "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
        )
    if force:
        return None
    if window is None:
        return DEFAULT_RECOVERY_DAYS
    low, high = RECOVERY_DAYS
    if not isinstance(window, int) or isinstance(window, bool) or not low <= window <= high:
        raise InvalidParameterException(
            "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
        )
    return window


def max_results(params: Params) -> int:
    return integer(params, "MaxResults", 1, MAX_RESULTS) or MAX_RESULTS


def filters(params: Params) -> list[Filter]:
    entries = _typed(params, "Filters", list) or []
    if len(entries) > 10:
        constraint = "Member must have length less than or equal to 10"
        raise ValidationException(_invalid("Filters", constraint))
    found: list[Filter] = []
    for entry in entries:
        key = entry.get("Key") if isinstance(entry, dict) else None
        if key not in FILTER_KEYS:
            constraint = f"Member must satisfy enum value set: [{', '.join(FILTER_KEYS)}]"
            raise ValidationException(_invalid("Filters.member.key", constraint, key))
        values = entry.get("Values")
        if not isinstance(values, list) or not 1 <= len(values) <= 10:
            constraint = "Member must have length less than or equal to 10 and greater than 0"
            raise ValidationException(_invalid("Filters.member.values", constraint))
        if not all(isinstance(value, str) and len(value) <= 512 for value in values):
            constraint = "Member must have length less than or equal to 512"
            raise ValidationException(_invalid("Filters.member.values", constraint))
        found.append((key, list(values)))
    return found
