"""Whether a function's resource-based policy lets a service, or the public, invoke it.

What invokes needs a statement of the policy attached to what it invokes (`$LATEST`, a
version or an alias) to allow it:

- a service (API Gateway, S3, ...), `lambda:InvokeFunction` for its source:

    {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
     "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:...:function:fn",
     "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:eu-west-1:1234:abc/*"}}}

- anyone, through a function URL whose AuthType is NONE: `lambda:InvokeFunctionUrl` and
  `lambda:InvokeFunction` for principal `*` (as Lambda requires of URLs since October 2025):

    {"Principal": "*", "Action": "lambda:InvokeFunctionUrl",
     "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}}
    {"Principal": "*", "Action": "lambda:InvokeFunction",
     "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}}

Conditions are IAM's: every operator of a statement must hold, and a condition on a key the
request does not carry fails. Key names are case-insensitive. `ArnLike`/`ArnEquals` match
each of the six colon-separated parts of the ARN on its own, with `*` and `?` as wildcards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

INVOKE = "lambda:InvokeFunction"
INVOKE_URL = "lambda:InvokeFunctionUrl"


class ServiceSource(NamedTuple):
    """An AWS service invoking on behalf of one of its resources. A tuple: it is part of the
    key every invocation's permission is looked up by, and a tuple hashes without a call to
    Python (a frozen dataclass's hash is a Python method)."""

    service: str  # e.g. "apigateway.amazonaws.com"
    source_arn: str
    source_account: str

    @property
    def principal(self) -> str:
        return self.service

    def grant(self) -> str:
        """The `aws lambda add-permission` arguments that would allow it."""
        return (
            f"--principal {self.service} --action lambda:InvokeFunction "
            f"--source-arn {self.source_arn}"
        )


@dataclass(frozen=True, slots=True)
class PublicUrl:
    """Anyone, through a function URL whose AuthType is NONE."""

    @property
    def principal(self) -> str:
        return "anonymous"

    def grant(self) -> str:
        """The `aws lambda add-permission` arguments that would allow it (two calls)."""
        return (
            "--principal '*' --action lambda:InvokeFunctionUrl --function-url-auth-type NONE, "
            "then --principal '*' --action lambda:InvokeFunction --invoked-via-function-url"
        )


Invoker = ServiceSource | PublicUrl


@dataclass(frozen=True, slots=True)
class _Request:
    service: str | None  # None: anonymous
    action: str
    context: Mapping[str, str]  # condition keys, lower-cased


def permitted(statements: Iterable[Mapping[str, Any]], invoker: Invoker) -> bool:
    """Whether the policy's statements let `invoker` invoke."""
    statements = list(statements)
    if isinstance(invoker, ServiceSource):
        context = {
            "aws:sourcearn": invoker.source_arn,
            "aws:sourceaccount": invoker.source_account,
        }
        return _allows(statements, _Request(invoker.service, INVOKE, context))
    context = {"lambda:functionurlauthtype": "NONE", "lambda:invokedviafunctionurl": "true"}
    return _allows(statements, _Request(None, INVOKE_URL, context)) and _allows(
        statements, _Request(None, INVOKE, context)
    )


def _allows(statements: Iterable[Mapping[str, Any]], request: _Request) -> bool:
    """Whether one of `statements` allows `request` (and none denies it)."""
    allowed = False
    for statement in statements:
        if not _applies(statement, request):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _applies(statement: Mapping[str, Any], request: _Request) -> bool:
    return (
        _names_principal(statement.get("Principal"), request.service)
        and _names_action(statement.get("Action"), request.action)
        and _conditions_hold(statement.get("Condition") or {}, request.context)
    )


def _names_principal(principal: Any, service: str | None) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if principal.get("AWS") == "*":
        return True
    return service is not None and service in _as_list(principal.get("Service"))


def _names_action(action: Any, wanted: str) -> bool:
    return any(
        _like(pattern.lower(), wanted.lower())
        for pattern in _as_list(action)
        if isinstance(pattern, str)
    )


def _conditions_hold(conditions: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    for operator, tests in conditions.items():
        match = _OPERATORS.get(operator)
        if match is None or not isinstance(tests, Mapping):
            return False  # an operator Portico does not evaluate: the statement does not apply
        for key, expected in tests.items():
            value = context.get(str(key).lower())
            patterns = [str(pattern) for pattern in _as_list(expected)]
            if value is None or not any(match(pattern, value) for pattern in patterns):
                return False
    return True


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), re.DOTALL)


def _like(pattern: str, value: str) -> bool:
    return _wildcard(pattern).fullmatch(value) is not None


def _arn_like(pattern: str, value: str) -> bool:
    wanted, given = pattern.split(":", 5), value.split(":", 5)
    return len(wanted) == len(given) == 6 and all(map(_like, wanted, given))


_OPERATORS = {
    "Bool": lambda pattern, value: pattern.lower() == value.lower(),
    "StringEquals": lambda pattern, value: pattern == value,
    "StringLike": _like,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
}
