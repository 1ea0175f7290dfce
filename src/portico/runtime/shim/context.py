"""The `context` object handed to Python handlers, with every attribute AWS documents."""

from __future__ import annotations

import json
import os
import time
from typing import Any


class Client:
    """`context.client_context.client`: the mobile app that made the call."""

    installation_id: str | None = None
    app_title: str | None = None
    app_version_name: str | None = None
    app_version_code: str | None = None
    app_package_name: str | None = None


class ClientContext:
    """`context.client_context`: decoded from the `ClientContext` of the Invoke call."""

    client: Client | None = None
    custom: dict[str, Any] | None = None
    env: dict[str, Any] | None = None


class CognitoIdentity:
    """`context.identity`: the Amazon Cognito identity that authorized the call."""

    cognito_identity_id: str | None = None
    cognito_identity_pool_id: str | None = None


def _from_dict(cls: type[Any], values: dict[str, Any] | None) -> Any:
    if values is None:
        return None
    obj = cls()
    for key, value in values.items():
        setattr(obj, key, value)
    return obj


def _json_header(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    value = json.loads(raw)
    return value if isinstance(value, dict) else None


_ENVIRONMENT_FIELDS = (
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
)


def environment_snapshot() -> dict[str, str | None]:
    """The variables the context reads, taken once per environment (they never change)."""
    return {name: os.environ.get(name) for name in _ENVIRONMENT_FIELDS}


class LambdaContext:
    """Same attributes and types as the context of AWS's Python runtimes."""

    def __init__(
        self,
        request_id: str,
        deadline_ms: int,
        invoked_function_arn: str,
        client_context: str | None = None,
        cognito_identity: str | None = None,
        environment: dict[str, str | None] | None = None,
    ) -> None:
        environ = environment if environment is not None else environment_snapshot()
        self.aws_request_id = request_id
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        # A string, as in AWS's runtime: it is read from AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline_ms = deadline_ms

        client_context_dict = _json_header(client_context)
        self.client_context = _from_dict(ClientContext, client_context_dict)
        if self.client_context is not None:
            self.client_context.client = _from_dict(Client, self.client_context.client)

        self.identity = CognitoIdentity()
        identity = _json_header(cognito_identity)
        if identity is not None:
            self.identity.cognito_identity_id = identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message: str) -> None:
        os.write(1, message.encode("utf-8", "replace"))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},identity={self.identity}])"
        )
