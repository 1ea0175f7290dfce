"""Which function an integration or authorizer URI names, and how it is invoked.

arn:aws:lambda:eu-west-1:000000000000:function:my-fn[:qualifier]
arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/<the function ARN>/invocations

API Gateway invokes as the service `apigateway.amazonaws.com`, for a source ARN the function's
resource-based policy must allow (else the invocation fails with an AwsError):

    integration  arn:aws:execute-api:{region}:{account}:{api-id}/{stage}/{METHOD}{route path}
                 (.../{stage}/$default for the $default route)
    authorizer   arn:aws:execute-api:{region}:{account}:{api-id}/authorizers/{authorizer-id}
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from portico.runtime import InvocationResult
from portico.services.lambda_.permissions import Invoker, ServiceSource

APIGATEWAY = "apigateway.amazonaws.com"


class Invoke(Protocol):
    """(account id, region, function name, qualifier, event bytes) -> the invocation's
    result; with `within`, TimeoutError once that many seconds pass; `source`, who invokes
    (a service for one of its resources, or the public through a function URL), for the
    function's resource-based policy to allow."""

    def __call__(
        self,
        account_id: str,
        region: str,
        function_name: str,
        qualifier: str,
        payload: bytes,
        *,
        within: float | None = None,
        source: Invoker | None = None,
    ) -> Awaitable[InvocationResult]: ...


class StartInvoke(Protocol):
    """`Invoke` without a coroutine: (account id, region, function name, qualifier, event
    bytes, then) -> None; `then` gets the invocation's result, or what `Invoke` would raise
    (TimeoutError, an AwsError)."""

    def __call__(
        self,
        account_id: str,
        region: str,
        function_name: str,
        qualifier: str,
        payload: bytes,
        then: Callable[[InvocationResult | BaseException], None],
        *,
        within: float | None = None,
        source: Invoker | None = None,
    ) -> None: ...


def execute_api_source(region: str, account_id: str, resource: str) -> ServiceSource:
    """API Gateway invoking for `resource` of an API ("{api-id}/{stage}/GET/pets", ...)."""
    return ServiceSource(
        APIGATEWAY, f"arn:aws:execute-api:{region}:{account_id}:{resource}", account_id
    )


_FUNCTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
    r"(?P<name>[A-Za-z0-9_-]{1,140})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)
_INVOCATION_URI = re.compile(
    r"^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/(?P<arn>.+)/invocations$"
)


@dataclass(frozen=True, slots=True)
class LambdaTarget:
    region: str
    account_id: str
    function_name: str
    qualifier: str  # "" for the unqualified function ($LATEST)


def lambda_target(uri: str) -> LambdaTarget | None:
    """The function `uri` names, or None when it names none."""
    wrapped = _INVOCATION_URI.match(uri)
    found = _FUNCTION_ARN.match(wrapped.group("arn") if wrapped else uri)
    if found is None:
        return None
    return LambdaTarget(
        found.group("region"),
        found.group("account"),
        found.group("name"),
        found.group("qualifier") or "",
    )
