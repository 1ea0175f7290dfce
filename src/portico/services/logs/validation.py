"""Checks of CloudWatch Logs' parameters, worded as its model validation words them.

CloudWatch Logs reports a constraint violation as `InvalidParameterException` with the
usual "1 validation error detected: Value '...' at '<member>' failed to satisfy constraint:
..." message (not as `ValidationException`, as most json services do).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from portico.services.logs.errors import InvalidParameterException

GROUP_NAME_PATTERN = r"[\.\-_/#A-Za-z0-9]+"
STREAM_NAME_PATTERN = r"[^:*]*"
IDENTIFIER_PATTERN = r"[\w#+=/:,.@-]*"
GROUP_NAME_PATTERN_FILTER = r"[\.\-_/#A-Za-z0-9]*"
NAME_MAX = 512
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
LOG_GROUP_CLASSES = ("STANDARD", "INFREQUENT_ACCESS", "DELIVERY", "ESSENTIALS")
ORDER_BY = ("LogStreamName", "LastEventTime")
MAX_TAGS = 50
_GROUP_ARN = re.compile(r"^arn:aws[\w-]*:logs:([^:]*):([^:]*):log-group:([^:]+)$")


def constraint(value: Any, member: str, rule: str) -> InvalidParameterException:
    shown = "null" if value is None else f"'{value}'"
    return InvalidParameterException(
        f"1 validation error detected: Value {shown} at '{member}' failed to satisfy "
        f"constraint: {rule}"
    )


def required(params: Mapping[str, Any], member: str) -> Any:
    value = params.get(member)
    if value is None:
        raise constraint(None, member, "Member must not be null")
    return value


def check_length(value: str, member: str, low: int, high: int) -> None:
    if len(value) < low:
        raise constraint(value, member, f"Member must have length greater than or equal to {low}")
    if len(value) > high:
        raise constraint(value, member, f"Member must have length less than or equal to {high}")


def check_pattern(value: str, member: str, pattern: str) -> None:
    if re.fullmatch(pattern, value) is None:
        raise constraint(
            value, member, f"Member must satisfy regular expression pattern: {pattern}"
        )


def group_name(value: Any, member: str = "logGroupName") -> str:
    name = _text(value, member)
    check_length(name, member, 1, NAME_MAX)
    check_pattern(name, member, GROUP_NAME_PATTERN)
    return name


def stream_name(value: Any, member: str = "logStreamName") -> str:
    name = _text(value, member)
    check_length(name, member, 1, NAME_MAX)
    check_pattern(name, member, STREAM_NAME_PATTERN)
    return name


def check_range(value: int | None, member: str, low: int, high: int) -> None:
    if value is None:
        return
    if value < low:
        raise constraint(value, member, f"Member must have value greater than or equal to {low}")
    if value > high:
        raise constraint(value, member, f"Member must have value less than or equal to {high}")


def check_enum(value: str | None, member: str, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise constraint(
            value, member, f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def retention_days(value: Any) -> int:
    if value is None:
        raise constraint(None, "retentionInDays", "Member must not be null")
    if not isinstance(value, int) or value not in RETENTION_DAYS:
        allowed = ", ".join(str(day) for day in RETENTION_DAYS)
        raise constraint(
            value, "retentionInDays", f"Member must satisfy enum value set: [{allowed}]"
        )
    return value


def log_group_of(params: Mapping[str, Any]) -> str:
    """The group a request names, by `logGroupName` or `logGroupIdentifier` (a name or the
    group's ARN without the trailing `:*`)."""
    name = params.get("logGroupName")
    identifier = params.get("logGroupIdentifier")
    if name is not None and identifier is not None:
        raise InvalidParameterException(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters."
        )
    if name is not None:
        return group_name(name)
    if identifier is None:
        raise InvalidParameterException("Should provide either logGroupName or logGroupIdentifier.")
    return group_of_identifier(identifier, "logGroupIdentifier")


def group_of_identifier(value: Any, member: str) -> str:
    identifier = _text(value, member)
    check_length(identifier, member, 1, 2048)
    check_pattern(identifier, member, IDENTIFIER_PATTERN)
    found = _GROUP_ARN.match(identifier)
    return group_name(found.group(3) if found else identifier, member)


def group_of_arn(value: Any, member: str = "resourceArn") -> str:
    arn = _text(value, member)
    check_length(arn, member, 1, 1011)
    check_pattern(arn, member, r"[\w+=/:,.@-]*")
    found = _GROUP_ARN.match(arn)
    if found is None:
        raise InvalidParameterException(f"Invalid ARN: {arn} is not the ARN of a log group.")
    return group_name(found.group(3), member)


def tags(value: Any, member: str = "tags") -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        raise constraint(value, member, "Member must have length greater than or equal to 1")
    if len(value) > MAX_TAGS:
        raise constraint(value, member, f"Member must have length less than or equal to {MAX_TAGS}")
    return {str(key): str(item) for key, item in value.items()}


def _text(value: Any, member: str) -> str:
    if value is None:
        raise constraint(None, member, "Member must not be null")
    if not isinstance(value, str):
        raise constraint(value, member, "Member must be a string")
    return value
