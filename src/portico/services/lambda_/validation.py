"""Checks of Lambda's parameters, with the error codes and wording Lambda uses."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from portico.aws.errors import ValidationException
from portico.runtime.config import RUNTIMES
from portico.services.lambda_.errors import InvalidParameterValueException

RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip
ENVIRONMENT_LIMIT_BYTES = 4096
_ROLE = re.compile(r"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
_DEPRECATED = re.compile(r"^(python2\.7|python3\.[678]|nodejs([4-9]|1[0-6])(\.\d+|\.x)?|nodejs)$")


def _constraint(value: Any, field: str, constraint: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {constraint}"
    )


def check_range(value: int | None, field: str, low: int, high: int) -> None:
    if value is None:
        return
    if value < low:
        raise _constraint(value, field, f"Member must have value greater than or equal to {low}")
    if value > high:
        raise _constraint(value, field, f"Member must have value less than or equal to {high}")


def check_runtime(runtime: str, known: list[str]) -> None:
    if runtime not in known:
        raise _constraint(
            runtime, "runtime", f"Member must satisfy enum value set: [{', '.join(known)}]"
        )
    if _DEPRECATED.match(runtime):
        raise InvalidParameterValueException(
            f"The runtime parameter of {runtime} is no longer supported for creating or "
            "updating AWS Lambda functions. We recommend you use the new runtime "
            "(python3.13) while creating or updating functions."
        )
    if runtime not in RUNTIMES:
        raise InvalidParameterValueException(
            f"The runtime parameter of {runtime} is not supported by this server: "
            f"it runs {', '.join(sorted(RUNTIMES))}."
        )


def check_role(role: str) -> None:
    if not _ROLE.match(role):
        raise _constraint(
            role,
            "role",
            r"Member must satisfy regular expression pattern: "
            r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
        )


def check_environment(variables: Mapping[str, str]) -> None:
    reserved = sorted(set(variables) & RESERVED_VARIABLES)
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided contains reserved keys that are "
            f"currently not supported for modification. Reserved keys used in this request: "
            f"{', '.join(reserved)}"
        )
    measured = json.dumps(dict(variables), separators=(",", ":"))
    if len(measured.encode()) > ENVIRONMENT_LIMIT_BYTES:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided exceeded the 4KB limit. "
            f"String measured: {measured}"
        )
