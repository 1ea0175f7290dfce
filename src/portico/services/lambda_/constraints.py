"""The API model's member constraints, checked server-side with Lambda's ValidationException
wording ("1 validation error detected: Value 'x' at 'field' failed to satisfy constraint: ...").

botocore checks some of these before sending, but not all of them (nor does every client), so
the server checks them again, before anything else, as Lambda's front end does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import StructureShape

from portico.aws.errors import ValidationException

ALIAS_PATTERN = r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
VERSION_PATTERN = r"(\$LATEST|[0-9]+)"
_VERSION = re.compile(r"[0-9]+")


def is_version(qualifier: str) -> bool:
    """A published version number (as opposed to `$LATEST` or an alias name)."""
    return _VERSION.fullmatch(qualifier) is not None


def violation(value: Any, field: str, constraint: str) -> ValidationException:
    shown = "null" if value is None else f"'{value}'"
    return ValidationException(
        f"1 validation error detected: Value {shown} at '{field}' failed to satisfy "
        f"constraint: {constraint}"
    )


def required_check(shape: StructureShape | None) -> Callable[[Mapping[str, Any]], None] | None:
    """A check that the members the model requires are there, for those a request's body,
    query or headers carry (its path carries its own, or it would not have been routed);
    None when there are none to check."""
    if shape is None:
        return None
    names = [
        name
        for name in shape.required_members
        if shape.members[name].serialization.get("location") != "uri"
    ]
    if not names:
        return None

    def check(params: Mapping[str, Any]) -> None:
        missing = [name for name in names if params.get(name) is None]
        if missing:
            count = f"{len(missing)} validation error{'s' if len(missing) > 1 else ''}"
            problems = "; ".join(
                f"Value null at '{name[:1].lower()}{name[1:]}' failed to satisfy constraint: "
                "Member must not be null"
                for name in missing
            )
            raise ValidationException(f"{count} detected: {problems}")

    return check


def check_pattern(value: str, field: str, pattern: str) -> None:
    if re.fullmatch(pattern, value) is None:
        raise violation(value, field, f"Member must satisfy regular expression pattern: {pattern}")


def check_length(value: str, field: str, low: int, high: int) -> None:
    if len(value) > high:
        raise violation(value, field, f"Member must have length less than or equal to {high}")
    if len(value) < low:
        raise violation(value, field, f"Member must have length greater than or equal to {low}")


def check_minimum(value: int, field: str, low: int) -> None:
    if value < low:
        raise violation(value, field, f"Member must have value greater than or equal to {low}")


def check_range(value: int, field: str, low: int, high: int) -> None:
    check_minimum(value, field, low)
    if value > high:
        raise violation(value, field, f"Member must have value less than or equal to {high}")


def java_number(value: float) -> str:
    """A double as Java prints it in a message (`2.0`, `-1.0`), which Python mostly matches."""
    return repr(float(value))
