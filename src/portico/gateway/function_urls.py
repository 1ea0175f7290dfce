"""Lambda function URLs, served: an ASGI callable for requests addressed to a URL id.

Host: <url-id>.lambda-url.<region>.localhost[:port]   GET /any/path?x=1
or    /_portico/lambda-url/<url-id>/any/path?x=1      (clients that cannot set Host)
  -> resolve the url id                     unknown: 403 {"Message":null}
  -> Cors configured: preflights answered here, CORS headers set on every answer
  -> AWS_IAM: SigV4 (service "lambda")      unsigned or bad: 403 {"Message":"Forbidden"}
  -> NONE: the function's resource-based policy lets the public invoke it through its URL
                                            (InvokeFunctionUrl and InvokeFunction for "*")
                                            else: 403 {"Message":"Forbidden"}
  -> payload-2.0 event -> invoke -> map the result to the HTTP response
"""

from __future__ import annotations

import datetime
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from portico.aws import sigv4
from portico.bodies import Disconnected, read_body
from portico.errors import AwsError
from portico.gateway import payloads
from portico.gateway.http_api.cors import CorsPolicy, request_origin
from portico.gateway.http_api.targets import Invoke
from portico.gateway.http_events import (
    EventContext,
    HttpRequest,
    HttpResult,
    IamCaller,
    build_event,
    function_error,
    map_result,
)
from portico.services.lambda_.permissions import PublicUrl

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

PATH_PREFIX = "/_portico/lambda-url/"
MAX_BODY_BYTES = 6 * 1024 * 1024
_HOST = re.compile(r"^(?P<id>[0-9a-z]{32})\.lambda-url\.(?P<region>[a-z0-9-]+)\.localhost(:\d+)?$")
_PATH = re.compile(r"^/_portico/lambda-url/(?P<id>[0-9a-zA-Z]{32})(?P<rest>/.*)?$")


class ResolvedUrl(Protocol):
    @property
    def url_id(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def function_name(self) -> str: ...
    @property
    def qualifier(self) -> str: ...
    @property
    def auth_type(self) -> str: ...
    @property
    def cors(self) -> Mapping[str, Any]: ...  # the URL's Cors (AllowOrigins, ...), {} if none


class UrlResolver(Protocol):
    async def resolve(self, url_id: str) -> ResolvedUrl | None: ...


Authenticate = Callable[[sigv4.SignedRequest], IamCaller]
PUBLIC_URL = PublicUrl()
"""Who signed the request; raises an AwsError when it is unsigned or the signature is bad."""


class Credentials(sigv4.CredentialStore, Protocol):
    def principal_for(self, access_key_id: str) -> str | None: ...


def sigv4_authenticator(
    credentials: Credentials,
    account_id: str,
    now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
) -> Authenticate:
    """An `Authenticate` that checks SigV4 (service "lambda") against the server's keys."""

    def authenticate(request: sigv4.SignedRequest) -> IamCaller:
        identity = sigv4.verify(request, credentials, now(), service="lambda")
        principal = credentials.principal_for(identity.access_key_id) or ""
        user_arn = principal if principal.startswith("arn:") else f"arn:aws:iam::{account_id}:root"
        return IamCaller(
            access_key=identity.access_key_id,
            account_id=account_id,
            caller_id=identity.access_key_id,
            user_arn=user_arn,
            user_id=identity.access_key_id,
        )

    return authenticate


@dataclass(frozen=True)
class Addressed:
    """The URL id a request is for, and the path the function sees."""

    url_id: str
    raw_path: str
    domain_name: str


def addressed(scope: Scope) -> Addressed | None:
    """The function URL `scope` (an ASGI http scope) is addressed to, if any."""
    raw_path = _raw_path(scope)
    by_path = _PATH.match(raw_path)
    if by_path is not None:
        url_id = by_path.group("id").lower()
        host = _header(scope, b"host") or ""
        region = _region_of(host) or "us-east-1"
        domain = f"{url_id}.lambda-url.{region}.localhost"
        return Addressed(url_id, by_path.group("rest") or "/", domain)
    host = (_header(scope, b"host") or "").lower()
    by_host = _HOST.match(host)
    if by_host is None:
        return None
    return Addressed(by_host.group("id"), raw_path or "/", host.partition(":")[0])


class FunctionUrlEndpoint:
    """Serves requests to function URLs (see the module's docstring); `matches` tells the
    composition root which requests are for it."""

    def __init__(
        self,
        urls: UrlResolver,
        invoke: Invoke,
        authenticate: Authenticate,
        *,
        clock: Callable[[], float] = time.time,
        max_body: int = MAX_BODY_BYTES,
    ) -> None:
        self._urls = urls
        self._invoke = invoke
        self._authenticate = authenticate
        self._clock = clock
        self._max_body = max_body

    @staticmethod
    def matches(scope: Scope) -> bool:
        return scope["type"] == "http" and addressed(scope) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        try:
            result = await self._answer(scope, receive, request_id)
        except Disconnected:
            return
        headers, body = result.wire_headers(("x-amzn-requestid", request_id))
        await send({"type": "http.response.start", "status": result.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope, receive: Receive, request_id: str) -> HttpResult:
        where = addressed(scope)
        target = None if where is None else await self._urls.resolve(where.url_id)
        if where is None or target is None:
            return _refusal(403, None, "AccessDeniedException")
        cors = CorsPolicy.compile(target.cors) if target.cors else None
        if cors is not None:
            headers = _headers(scope)
            if scope["method"] == "OPTIONS":
                preflight = cors.preflight("OPTIONS", headers)
                if preflight is not None:
                    return preflight
            result = await self._invoked(scope, receive, request_id, where, target)
            return cors.decorate(result, request_origin(headers))
        return await self._invoked(scope, receive, request_id, where, target)

    async def _invoked(
        self,
        scope: Scope,
        receive: Receive,
        request_id: str,
        where: Addressed,
        target: ResolvedUrl,
    ) -> HttpResult:
        body = await read_body(receive, self._max_body)
        if body is None:
            return _refusal(413, "Request Entity Too Large", "RequestEntityTooLargeException")
        caller = None
        if target.auth_type == "AWS_IAM":
            try:
                caller = self._authenticate(_signed(scope, body))
            except AwsError:
                return _refusal(403, "Forbidden", "AccessDeniedException")
        request = _http_request(scope, where.raw_path, body)
        context = EventContext(
            api_id=target.url_id,
            domain_name=where.domain_name,
            request_id=request_id,
            time_epoch_ms=int(self._clock() * 1000),
            account_id=caller.account_id if caller else "anonymous",
            caller=caller,
        )
        event = payloads.encode(build_event(request, context))
        if len(event) > self._max_body:
            return _refusal(413, "Request Entity Too Large", "RequestEntityTooLargeException")
        try:
            invoked = await self._invoke(
                target.account_id,
                target.region,
                target.function_name,
                target.qualifier,
                event,
                # AuthType NONE: the function's policy must let the public in.
                source=PUBLIC_URL if caller is None else None,
            )
        except AwsError as error:
            if error.status_code == 403:
                return _refusal(403, "Forbidden", "AccessDeniedException")
            if error.status_code == 429:
                return _refusal(429, "Rate Exceeded.", "TooManyRequestsException")
            if error.status_code == 404:
                return _refusal(403, None, "AccessDeniedException")
            return function_error()
        return map_result(invoked.payload, failed=bool(invoked.function_error))


def _refusal(status: int, message: str | None, error_type: str) -> HttpResult:
    body = json.dumps({"Message": message}, separators=(",", ":")).encode()
    headers = {"content-type": "application/json", "x-amzn-errortype": error_type}
    return HttpResult(status, headers, (), body)


def _raw_path(scope: Scope) -> str:
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    return raw.decode("latin-1").partition("?")[0]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _region_of(host: str) -> str | None:
    found = _HOST.match(host.lower())
    return found.group("region") if found else None


def _signed(scope: Scope, body: bytes) -> sigv4.SignedRequest:
    headers: dict[str, str] = {}
    for name, value in _headers(scope):
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return sigv4.SignedRequest(
        method=scope["method"],
        path=_raw_path(scope),
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
    )


def _headers(scope: Scope) -> list[tuple[str, str]]:
    return [
        (bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
        for name, value in scope["headers"]
    ]


def _http_request(scope: Scope, raw_path: str, body: bytes) -> HttpRequest:
    client = scope.get("client") or ("", 0)
    server = scope.get("server") or ("", 0)
    headers = _headers(scope)
    present = {name.lower() for name, _value in headers}
    forwarded = {
        "x-forwarded-for": str(client[0]),
        "x-forwarded-port": str(server[1]),
        "x-forwarded-proto": str(scope.get("scheme", "http")),
    }
    headers.extend((name, value) for name, value in forwarded.items() if name not in present)
    return HttpRequest(
        method=scope["method"],
        raw_path=raw_path,
        raw_query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
        source_ip=str(client[0]),
        protocol=f"HTTP/{scope.get('http_version', '1.1')}",
    )
