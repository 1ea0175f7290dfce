"""The handler chain for AWS-wire requests.

AwsRequest -> identify the service (credential scope, X-Amz-Target, path)
           -> authenticate (SigV4)
           -> parse (botocore model) -> dispatch to the service's operation
           -> serialize the result, or the AwsError, as the protocol wants
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from portico.aws.catalog import Service, ServiceCatalog
from portico.aws.errors import InternalFailure, UnknownOperationException
from portico.aws.messages import AwsRequest, AwsResponse
from portico.aws.parser import parse
from portico.aws.serializer import serialize, serialize_error
from portico.errors import AwsError

logger = logging.getLogger(__name__)

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Caller:
    """Who made a request, as its signature says."""

    access_key_id: str
    region: str
    principal: str = "unknown"  # "admin", or the ARN of the function the key was issued to


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    service: str
    operation: str
    region: str
    account_id: str
    caller: Caller | None


Operation = Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any]]]


class ServiceProvider(Protocol):
    """A service's operations, by name: plain domain methods, no HTTP in them."""

    service_name: ClassVar[str]

    def operations(self) -> Mapping[str, Operation]: ...


Authenticator = Callable[[AwsRequest, Service], Caller]


class NotImplementedOperation(AwsError):
    code: ClassVar[str] = "NotImplemented"
    status_code: ClassVar[int] = 501
    sender_fault: ClassVar[bool] = False


class AwsHandler:
    def __init__(
        self,
        catalog: ServiceCatalog,
        providers: Mapping[str, ServiceProvider],
        authenticate: Authenticator,
        account_id: str,
        default_region: str,
    ) -> None:
        self._catalog = catalog
        self._operations = {name: provider.operations() for name, provider in providers.items()}
        self._authenticate = authenticate
        self._account_id = account_id
        self._default_region = default_region

    async def handle(self, request: AwsRequest) -> AwsResponse:
        request_id = str(uuid.uuid4())
        service: Service | None = None
        try:
            service = self.identify(request)
            caller = self._authenticate(request, service)
            operation, params = parse(service, request)
            handler = self._operations.get(service.name, {}).get(operation.name)
            if handler is None:
                raise NotImplementedOperation(
                    f"Portico does not implement {service.name}:{operation.name} yet."
                )
            context = RequestContext(
                request_id=request_id,
                service=service.name,
                operation=operation.name,
                region=caller.region or self._default_region,
                account_id=self._account_id,
                caller=caller,
            )
            result = await handler(context, params)
            return serialize(service, operation, result, request_id)
        except AwsError as error:
            return serialize_error(service, error, request_id)
        except Exception:
            logger.exception("request %s failed", request_id)
            failure = InternalFailure("The server encountered an internal error.")
            return serialize_error(service, failure, request_id)

    def identify(self, request: AwsRequest) -> Service:
        """The service, told apart as AWS's front end does."""
        target = request.headers.get("X-Amz-Target")
        if target:
            service = self._catalog.by_target(target)
            if service is not None:
                return service
        signing_name = _signing_name(request)
        candidates = self._catalog.by_signing_name(signing_name) if signing_name else []
        if len(candidates) == 1:
            return candidates[0]
        for candidate in candidates or self._catalog.services.values():
            if candidate.protocol.startswith("rest") and candidate.router.allows_path(request.path):
                return candidate
        raise UnknownOperationException(
            f"No service answers {request.method} {request.path}"
            + (f" (signed for {signing_name})" if signing_name else "")
        )


def _signing_name(request: AwsRequest) -> str | None:
    found = _CREDENTIAL.search(request.headers.get("Authorization", ""))
    if found is not None:
        return found.group(4)
    for part in request.query.split("&"):
        key, _, value = part.partition("=")
        if key == "X-Amz-Credential":
            fields = value.replace("%2F", "/").split("/")
            return fields[3] if len(fields) >= 4 else None
    return None
