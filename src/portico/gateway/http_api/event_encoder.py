"""Payload 2.0 events for the requests of one route, encoded with what they share done once.

`HttpApiEndpoint.direct` decides once per method, path and host how such requests are
answered. For a route to a Lambda proxy of payload 2.0 it compiles a `V2EventEncoder` then:
what every one of those requests shares (the route, the paths, the method, the stage, the API,
the domain) is encoded once, and each request's own parts (headers, query, body, address,
protocol, id and time) are encoded and spliced in. The bytes are those of
`payloads.encode(build_event(request, context))` for the same request (tests compare them),
for less than half the work: no request, context or event objects, one pass of encoding over
a few small values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from portico.gateway.http_events import (
    clf_second,
    encode_body,
    headers_and_cookies,
    query_parameters,
)

Scope = dict[str, Any]
TraceRoot = Callable[[], str]

_dumps = orjson.dumps
_BASE64 = b',"isBase64Encoded":true'
_TEXT = b',"isBase64Encoded":false'
# The event's `protocol`, encoded, by the scope's HTTP version.
_PROTOCOLS = {version: _dumps(f"HTTP/{version}") for version in ("1.0", "1.1", "2")}


def request_headers(scope: Scope, source_ip: str, trace_root: TraceRoot) -> list[tuple[str, str]]:
    """The request's headers as an HTTP API hands them on: as received (names as the server
    read them), then X-Forwarded-For, -Port and -Proto and an X-Amzn-Trace-Id (API Gateway
    starts a trace for each request), each unless the client sent it."""
    raw: list[tuple[bytes, bytes]] = scope["headers"]
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
    present = {name for name, _value in raw}
    if b"x-forwarded-for" not in present:
        headers.append(("x-forwarded-for", source_ip))
    if b"x-forwarded-port" not in present:
        server = scope.get("server") or ("", 0)
        headers.append(("x-forwarded-port", str(server[1])))
    if b"x-forwarded-proto" not in present:
        headers.append(("x-forwarded-proto", str(scope.get("scheme", "http"))))
    if b"x-amzn-trace-id" not in present:
        headers.append(("x-amzn-trace-id", trace_root()))
    return headers


def source_ip(scope: Scope) -> str:
    client = scope.get("client") or ("", 0)
    return str(client[0])


def protocol(scope: Scope) -> str:
    return f"HTTP/{scope.get('http_version', '1.1')}"


class V2EventEncoder:
    """The payload 2.0 event of each request to one route, by one method, at one path (as the
    event's `rawPath` gives it, decoded), of one stage, by one domain name; no authorizer."""

    __slots__ = ("_context", "_head", "_path_parameters", "_route", "_stage_variables")

    def __init__(
        self,
        *,
        method: str,
        raw_path: str,
        route_key: str,
        account_id: str,
        api_id: str,
        domain_name: str,
        stage: str,
        path_parameters: Mapping[str, str] | None,
        stage_variables: Mapping[str, str] | None,
    ) -> None:
        self._head = b"".join(
            (
                b'{"version":"2.0","routeKey":',
                _dumps(route_key),
                b',"rawPath":',
                _dumps(raw_path),
                b',"rawQueryString":',
            )
        )
        self._context = b"".join(
            (
                b',"requestContext":{"accountId":',
                _dumps(account_id),
                b',"apiId":',
                _dumps(api_id),
                b',"domainName":',
                _dumps(domain_name),
                b',"domainPrefix":',
                _dumps(domain_name.split(".", 1)[0]),
                b',"http":{"method":',
                _dumps(method.upper()),
                b',"path":',
                _dumps(raw_path),
                b',"protocol":',
            )
        )
        self._route = b"".join(
            (b',"routeKey":', _dumps(route_key), b',"stage":', _dumps(stage), b',"time":')
        )
        self._path_parameters = (
            b',"pathParameters":' + _dumps(dict(path_parameters)) if path_parameters else b""
        )
        self._stage_variables = (
            b',"stageVariables":' + _dumps(dict(stage_variables)) if stage_variables else b""
        )

    def encode(
        self, scope: Scope, body: bytes, request_id: str, time_epoch_ms: int, trace_root: TraceRoot
    ) -> bytes:
        """The event of the request `scope` (an ASGI http scope of this route's method and
        path) with its whole `body`, as compact JSON; TypeError, as `orjson.dumps` raises,
        for what only the standard library encodes (none of what a server reads off the wire
        is such)."""
        address = source_ip(scope)
        raw: list[tuple[bytes, bytes]] = scope["headers"]
        # ASGI's header names are lower case: here as in `request_headers`, a name not
        # received is one not among them.
        headers, cookies = headers_and_cookies(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in raw
        )
        if "x-forwarded-for" not in headers:
            headers["x-forwarded-for"] = address
        if "x-forwarded-port" not in headers:
            headers["x-forwarded-port"] = str((scope.get("server") or ("", 0))[1])
        if "x-forwarded-proto" not in headers:
            headers["x-forwarded-proto"] = str(scope.get("scheme", "http"))
        if "x-amzn-trace-id" not in headers:
            headers["x-amzn-trace-id"] = trace_root()
        raw_query = scope.get("query_string", b"").decode("latin-1")
        parts = [self._head, _dumps(raw_query)]
        if cookies:
            parts += (b',"cookies":', _dumps(cookies))
        parts += (b',"headers":', _dumps(headers))
        query = query_parameters(raw_query) if raw_query else None
        if query:
            parts += (b',"queryStringParameters":', _dumps(query))
        parts += (
            self._context,
            _PROTOCOLS.get(scope.get("http_version", "1.1")) or _dumps(protocol(scope)),
            b',"sourceIp":',
            _dumps(address),
            b',"userAgent":',
            _dumps(headers.get("user-agent", "")),
            b'},"requestId":',
            _dumps(request_id),
            self._route,
            _dumps(clf_second(time_epoch_ms // 1000)),
            b',"timeEpoch":%d}' % time_epoch_ms,
        )
        encoded = False
        if body:
            text, encoded = encode_body(body, headers.get("content-type"))
            parts += (b',"body":', _dumps(text))
        parts += (
            self._path_parameters,
            _BASE64 if encoded else _TEXT,
            self._stage_variables,
            b"}",
        )
        return b"".join(parts)
