"""Integrations: what a route hands its request to.

    AWS_PROXY   event (payload format 1.0 or 2.0) -> the function -> the response mapping
    HTTP_PROXY  the request, forwarded to a URL    -> the backend's response, as it came

An HTTP proxy's backend gets what HTTP APIs send: the client's X-Forwarded-* headers turned
into one standard `Forwarded` header, the client's own address, host and protocol appended
(`for=203.0.113.7;host=api.example.com;proto=https`), and `Via: HTTP/1.1 AmazonAPIGateway`.

Both keep to the integration's timeout (TimeoutInMillis), counted for the whole answer: a
function that answers too late gets 503 Service Unavailable, an HTTP backend 504 Gateway
Timeout (a backend sending its body a byte at a time is cut off too); the late work is not
cancelled (a function runs on to its own timeout, as on AWS). A backend's body is passed on
as it came, compressed or not, and held to the payload quota (10 MB): a larger one is a 500.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from portico.errors import AwsError
from portico.gateway import payloads
from portico.gateway.http_api import responses
from portico.gateway.http_api.targets import (
    Invoke,
    LambdaTarget,
    StartInvoke,
    execute_api_source,
)
from portico.gateway.http_api.v1_events import V1Context, build_v1_event, resource_path
from portico.gateway.http_events import (
    EventContext,
    HttpRequest,
    HttpResult,
    build_event,
    is_token,
    map_result,
)
from portico.runtime import InvocationResult
from portico.services.lambda_.permissions import ServiceSource

DEFAULT_TIMEOUT_SECONDS = 30.0
PAYLOAD_QUOTA_BYTES = 10 * 1024 * 1024  # requests and answers alike
# Headers that belong to one connection, not to the request (RFC 9110 7.6.1), and those the
# forwarding itself sets.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


# IntegrationRequest and IntegrationOutcome are built on every request: plain dataclasses,
# three times cheaper to build than frozen ones. Treat them as values all the same.
@dataclass(slots=True)
class IntegrationRequest:
    """A request on its way to the integration, with what the route and stage add."""

    request: HttpRequest
    context: EventContext  # route key, stage, path parameters, stage variables, authorizer
    resource_path: str  # the route's path ("/pets/{id}") or "$default"
    authorizer_v1: dict[str, Any] | None = None
    v1_path: str | None = None  # 1.0's `path`, when not the request's path (API mappings)


@dataclass(slots=True)
class IntegrationOutcome:
    result: HttpResult
    status: int | None  # $context.integrationStatus: what the integration itself answered
    latency_ms: int
    error: str = ""  # $context.integrationErrorMessage


class Integration(Protocol):
    async def call(self, request: IntegrationRequest) -> IntegrationOutcome: ...


EventBuilder = Callable[[IntegrationRequest], dict[str, Any]]
ResultMapper = Callable[[bytes, bool], HttpResult]


def event_v2(request: IntegrationRequest) -> dict[str, Any]:
    return build_event(request.request, request.context)


def event_v1(request: IntegrationRequest) -> dict[str, Any]:
    context = request.context
    incoming = request.request
    if request.v1_path is not None:
        incoming = replace(incoming, raw_path=request.v1_path)
    return build_v1_event(
        incoming,
        V1Context(
            api_id=context.api_id,
            stage=context.stage,
            request_id=context.request_id,
            time_epoch_ms=context.time_epoch_ms,
            domain_name=context.domain_name,
            account_id=context.account_id,
            resource_path=resource_path(context.route_key, request.request.raw_path),
            path_parameters=context.path_parameters or {},
            stage_variables=context.stage_variables or {},
            authorizer=request.authorizer_v1,
            caller=context.caller,
        ),
    )


def result_v2(payload: bytes, failed: bool) -> HttpResult:
    if failed:
        return responses.INTERNAL_SERVER_ERROR
    result = map_result(payload)
    return responses.INTERNAL_SERVER_ERROR if result.status == 502 else result


class LambdaProxy:
    """AWS_PROXY: the request as an event to a function; its result as the response."""

    def __init__(
        self,
        target: LambdaTarget,
        invoke: Invoke,
        *,
        source_region: str | None,
        build: EventBuilder = event_v2,
        mapper: ResultMapper = result_v2,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        start: StartInvoke | None = None,
    ) -> None:
        """`source_region`: the API's region, when API Gateway invokes as itself (and the
        function's policy must allow it); None when it invokes as the integration's role.
        `start`: `invoke` without a coroutine, when there is one (see `start`)."""
        self._target = target
        self._invoke = invoke
        self._start = start
        self._source_region = source_region
        self._sources: dict[tuple[str, str, str, str], ServiceSource] = {}
        self._build = build
        self._map = mapper
        self._timeout = timeout

    @property
    def starts(self) -> bool:
        """Whether `start` may be called."""
        return self._start is not None

    async def call(self, request: IntegrationRequest) -> IntegrationOutcome:
        started = time.perf_counter()
        event = payloads.encode(self._build(request))
        target = self._target
        try:
            invoked = await self._invoke(
                target.account_id,
                target.region,
                target.function_name,
                target.qualifier,
                event,
                within=self._timeout,
                source=self._source_of(request),
            )
        except (TimeoutError, AwsError) as error:
            return self._outcome_of(error, started)
        return self._outcome_of(invoked, started)

    def start(
        self,
        request: IntegrationRequest,
        then: Callable[[IntegrationOutcome | BaseException], None],
    ) -> None:
        """`call`, from the event loop's callbacks alone: `then` gets the outcome, or what
        `call` would raise."""
        self.start_event(payloads.encode(self._build(request)), self._source_of(request), then)

    @property
    def encodes_v2(self) -> bool:
        """Whether the events are of payload format 2.0 (those of `V2EventEncoder`)."""
        return self._build is event_v2

    def start_event(
        self,
        event: bytes,
        source: ServiceSource | None,
        then: Callable[[IntegrationOutcome | BaseException], None],
    ) -> None:
        """`start` with the request's event already encoded, and who invokes (`source_for`)."""
        started = time.perf_counter()
        target = self._target
        start = self._start
        if start is None:
            raise RuntimeError("this integration has no way to start an invocation")

        def invoked(result: InvocationResult | BaseException) -> None:
            try:
                outcome = self._outcome_of(result, started)
            except Exception as error:
                then(error)
                return
            then(outcome)

        start(
            target.account_id,
            target.region,
            target.function_name,
            target.qualifier,
            event,
            invoked,
            within=self._timeout,
            source=source,
        )

    def _outcome_of(
        self, invoked: InvocationResult | BaseException, started: float
    ) -> IntegrationOutcome:
        if isinstance(invoked, TimeoutError):
            return _outcome(responses.SERVICE_UNAVAILABLE, None, started, "timeout")
        if isinstance(invoked, AwsError):
            return _outcome(
                responses.INTERNAL_SERVER_ERROR, invoked.status_code, started, str(invoked)
            )
        if isinstance(invoked, BaseException):
            raise invoked
        failed = bool(invoked.function_error)
        result = self._map(invoked.payload, failed)
        return _outcome(result, 200, started, invoked.error_type or "" if failed else "")

    def _source_of(self, request: IntegrationRequest) -> ServiceSource | None:
        context = request.context
        return self.source_for(
            context.account_id,
            context.api_id,
            context.stage,
            context.route_key,
            request.request.method,
        )

    def source_for(
        self, account_id: str, api_id: str, stage: str, route_key: str, method: str
    ) -> ServiceSource | None:
        """Who invokes for a request to `route_key` of `stage` by `method`: API Gateway, as
        {api-id}/{stage}/{METHOD}{path} ($default as such); None when it invokes as the
        integration's role. Kept per stage, route and method: the same for every request."""
        region = self._source_region
        if region is None:
            return None
        key = (api_id, stage, route_key, method)
        source = self._sources.get(key)
        if source is None:
            route = route_key
            if route != "$default":
                verb, _, path = route.partition(" ")
                route = (method if verb == "ANY" else verb) + path
            resource = f"{api_id}/{stage}/{route}"
            source = self._sources[key] = execute_api_source(region, account_id, resource)
        return source


VIA = "HTTP/1.1 AmazonAPIGateway"
# Headers of the backend's answer the gateway sets itself: its own Date.
_SET_HERE = frozenset({"date"})
# Characters a path segment may hold as they are (RFC 3986), besides the unreserved ones.
_PATH_SAFE = "/!$&'()*+,;=:@"


class HttpProxy:
    """HTTP_PROXY: the request forwarded to `uri` (path variables filled in; for the
    `$default` route the request's path is appended), the backend's answer passed back."""

    def __init__(
        self,
        uri: str,
        method: str,
        client: httpx.AsyncClient,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._uri = uri
        self._method = method.upper()
        self._client = client
        self._timeout = timeout

    def url_for(self, request: IntegrationRequest) -> str:
        url = self._uri
        parameters = request.context.path_parameters or {}
        for name, value in parameters.items():
            # A greedy variable's value spans segments: its slashes stay slashes.
            greedy = "{" + name + "+}" in request.resource_path
            encoded = quote(value, safe="/" if greedy else "")
            url = url.replace("{" + name + "+}", encoded).replace("{" + name + "}", encoded)
        if request.resource_path == "$default" and _has_no_path(url):
            # The path as the gateway decoded it, encoded again for the backend's URL.
            url = url.rstrip("/") + quote(request.request.decoded_path, safe=_PATH_SAFE)
        query = request.request.raw_query
        return f"{url}{'&' if '?' in url else '?'}{query}" if query else url

    async def call(self, request: IntegrationRequest) -> IntegrationOutcome:
        started = time.perf_counter()
        incoming = request.request
        method = incoming.method if self._method == "ANY" else self._method
        headers = [
            (name, value)
            for name, value in incoming.headers
            if name.lower() not in _HOP_BY_HOP and not name.lower().startswith("x-forwarded-")
        ]
        headers.append(("forwarded", forwarded(incoming, request.context.domain_name)))
        headers.append(("via", VIA))
        try:
            async with asyncio.timeout(self._timeout):
                url = self.url_for(request)
                answer, body = await self._exchange(method, url, headers, incoming)
        except (TimeoutError, httpx.TimeoutException):
            return _outcome(responses.GATEWAY_TIMEOUT, None, started, "timeout")
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
            return _outcome(responses.INTERNAL_SERVER_ERROR, None, started, str(error))
        if body is None:
            too_large = f"response body over {PAYLOAD_QUOTA_BYTES} bytes"
            return _outcome(responses.INTERNAL_SERVER_ERROR, answer.status_code, started, too_large)
        kept: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in answer.headers.multi_items():
            key = name.lower()
            if key == "set-cookie":
                cookies.append(value)
            elif key == "content-length" and method == "HEAD":
                kept[key] = value  # the length a GET would have, with no body to measure
            elif key not in _HOP_BY_HOP and key not in _SET_HERE:
                kept[key] = f"{kept[key]},{value}" if key in kept else value
        result = HttpResult(answer.status_code, kept, tuple(cookies), body)
        return _outcome(result, answer.status_code, started, "")

    async def _exchange(
        self, method: str, url: str, headers: list[tuple[str, str]], incoming: HttpRequest
    ) -> tuple[httpx.Response, bytes | None]:
        """The backend's answer and its body as it came (None past the payload quota)."""
        outgoing = self._client.build_request(
            method, url, headers=headers, content=incoming.body, timeout=self._timeout
        )
        if not any(name.lower() == "accept-encoding" for name, _value in incoming.headers):
            outgoing.headers.pop("accept-encoding", None)  # httpx asks for gzip by default
        answer = await self._client.send(outgoing, stream=True)
        try:
            parts: list[bytes] = []
            size = 0
            async for part in answer.aiter_raw():
                size += len(part)
                if size > PAYLOAD_QUOTA_BYTES:
                    return answer, None
                parts.append(part)
            return answer, b"".join(parts)
        finally:
            await answer.aclose()


def forwarded(request: HttpRequest, domain_name: str) -> str:
    """The `Forwarded` header (RFC 7239) for `request`: a `for=` element per address its
    X-Forwarded-For names, then the client's, with the host it asked for and its protocol."""
    hops: list[str] = []
    proto = "http"
    host = domain_name
    for name, value in request.headers:
        key = name.lower()
        if key == "x-forwarded-for":
            hops.extend(part.strip() for part in value.split(",") if part.strip())
        elif key == "x-forwarded-proto":
            proto = value.strip() or proto
        elif key == "host":
            host = value
    if not hops or hops[-1] != request.source_ip:
        hops.append(request.source_ip)
    elements = [f"for={_node(hop)}" for hop in hops]
    elements[-1] += f";host={_forwarded_value(host)};proto={_forwarded_value(proto)}"
    return ", ".join(elements)


def _node(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return _forwarded_value(address)
    return f'"[{ip}]"' if ip.version == 6 else str(ip)


def _forwarded_value(value: str) -> str:
    """A token as it is; anything else as a quoted string."""
    if is_token(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _has_no_path(url: str) -> bool:
    rest = url.split("://", 1)[-1]
    return "/" not in rest.rstrip("/")


def _outcome(
    result: HttpResult, status: int | None, started: float, error: str
) -> IntegrationOutcome:
    latency = int((time.perf_counter() - started) * 1000)
    return IntegrationOutcome(result, status, latency, error)
