"""Request members checked before any state is touched, with messages that name the member.

The protocol layer gives members the types botocore's model declares when the JSON holds
them, but does not refuse a JSON value of another type: these checks do, with API Gateway's
`BadRequestException`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from portico.services.apigatewayv2.errors import BadRequestException

Params = Mapping[str, Any]
T = TypeVar("T")

MAX_TAGS = 50
RESERVED_TAG_PREFIX = "aws:"


def _typed(params: Params, member: str, kind: type[T], described: str) -> T | None:
    value = params.get(member)
    if value is None:
        return None
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise BadRequestException(f"Invalid input: {member} must be {described}.")


def required(params: Params, member: str) -> str:
    """A string member that must be present and not empty."""
    value = _typed(params, member, str, "a string")
    if not value:
        raise BadRequestException(f"{member} is required.")
    return value


def string(params: Params, member: str, *, max_length: int | None = None) -> str | None:
    value = _typed(params, member, str, "a string")
    if value is not None and max_length is not None and len(value) > max_length:
        raise BadRequestException(
            f"Invalid input: {member} must have at most {max_length} characters."
        )
    return value


def bounded(params: Params, member: str, max_length: int) -> str | None:
    """A string member of 1 to `max_length` characters, when present."""
    value = string(params, member, max_length=max_length)
    if value == "":
        raise BadRequestException(f"Invalid input: {member} must not be empty.")
    return value


def boolean(params: Params, member: str) -> bool | None:
    return _typed(params, member, bool, "a boolean")


def integer(params: Params, member: str, low: int, high: int) -> int | None:
    value = _typed(params, member, int, "an integer")
    if value is not None and not low <= value <= high:
        raise BadRequestException(f"Invalid input: {member} must be between {low} and {high}.")
    return value


def number(params: Params, member: str) -> float | None:
    value = params.get(member)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequestException(f"Invalid input: {member} must be a number.")
    return float(value)


def choice(params: Params, member: str, allowed: Sequence[str], label: str) -> str | None:
    """An enum member; `label` names it as AWS's messages do ("protocol", "stage name")."""
    value = _typed(params, member, str, "a string")
    if value is None:
        return None
    if value not in allowed:
        raise BadRequestException(
            f"Invalid {label} specified. Must be one of [{', '.join(allowed)}]"
        )
    return value


def strings(params: Params, member: str) -> list[str] | None:
    value = _typed(params, member, list, "a list of strings")
    if value is None:
        return None
    if not all(isinstance(item, str) for item in value):
        raise BadRequestException(f"Invalid input: {member} must be a list of strings.")
    return list(value)


def objects(params: Params, member: str) -> list[dict[str, Any]] | None:
    value = _typed(params, member, list, "a list of objects")
    if value is not None and not all(isinstance(item, dict) for item in value):
        raise BadRequestException(f"Invalid input: {member} must be a list of objects.")
    return value


def string_map(params: Params, member: str) -> dict[str, str] | None:
    value = _typed(params, member, dict, "a map of strings")
    if value is None:
        return None
    if not all(isinstance(key, str) and isinstance(item, str) for key, item in value.items()):
        raise BadRequestException(f"Invalid input: {member} must be a map of strings.")
    return dict(value)


def structure(params: Params, member: str) -> dict[str, Any] | None:
    return _typed(params, member, dict, "an object")


def tags(params: Params, member: str = "Tags") -> dict[str, str] | None:
    """A tag map: at most 50 tags, keys of 1 to 128 and values of at most 256 characters,
    no key in the `aws:` namespace."""
    found = string_map(params, member)
    if found is None:
        return None
    check_tags(found)
    return found


def check_tags(found: Mapping[str, str]) -> None:
    if len(found) > MAX_TAGS:
        raise BadRequestException(f"Too many tags: a resource may have at most {MAX_TAGS} tags.")
    for key, value in found.items():
        if not 1 <= len(key) <= 128:
            raise BadRequestException(f"Invalid tag key: {key!r} must have 1 to 128 characters.")
        if key.lower().startswith(RESERVED_TAG_PREFIX):
            raise BadRequestException(
                f"Invalid tag key: {key}. Tag keys starting with 'aws:' are reserved."
            )
        if len(value) > 256:
            raise BadRequestException(
                f"Invalid tag value for key {key}: values have at most 256 characters."
            )
