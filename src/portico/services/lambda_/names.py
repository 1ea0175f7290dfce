"""Function identifiers as Lambda accepts them: a name, a partial ARN or a full ARN, each
optionally qualified (`name:3`, `name:live`, `...:function:name:$LATEST`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from portico.aws.errors import ValidationException

_FUNCTION = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9_-]{1,64})"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]{1,128}))?$"
)


@dataclass(frozen=True)
class FunctionRef:
    name: str
    qualifier: str | None


def parse_function(identifier: str, field: str = "functionName") -> FunctionRef:
    found = _FUNCTION.match(identifier)
    if found is None:
        raise ValidationException(
            f"1 validation error detected: Value '{identifier}' at '{field}' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?"
            r"(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
        )
    return FunctionRef(found.group("name"), found.group("qualifier"))


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn
