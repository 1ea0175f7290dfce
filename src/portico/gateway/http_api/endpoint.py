"""HTTP APIs, served: the ASGI callable for every request addressed to a deployed API.

    Host: {api-id}.execute-api.localhost[:port]     GET /{stage}/pets/7
    or    /_aws/execute-api/{api-id}/{stage}/pets/7  (the ApiEndpoint form; no DNS needed)
    or    Host: {custom domain}                      GET /{mapping key}/pets/7
      -> API and stage (404 {"message":"Not Found"})
      -> body (413 past the payload quota)
      -> route (most specific match; 404 when none)
      -> integration (Lambda proxy or HTTP proxy) -> response, `apigw-requestid` header

The hot path reads only the in-memory registry: no database, no lock.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from portico.gateway.http_api import responses
from portico.gateway.http_api.compiled import CompiledStage
from portico.gateway.http_api.integrations import IntegrationRequest
from portico.gateway.http_api.registry import HttpApiRegistry
from portico.gateway.http_events import EventContext, HttpRequest, HttpResult

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

PATH_PREFIX = "/_aws/execute-api/"
MAX_BODY_BYTES = 10 * 1024 * 1024  # the HTTP API payload quota
_HOST = re.compile(r"^([0-9a-z]{10})\.execute-api\.(?:[a-z0-9-]+\.)?localhost(?::\d+)?$")


@dataclass(frozen=True, slots=True)
class Addressed:
    """Which stage of which API a request is for, and the paths it is known by."""

    stage: CompiledStage
    raw_path: str  # what the integration sees as the request's path (stage included)
    route_path: str  # what routes match against (stage and mapping key removed)
    domain_name: str


class HttpApiEndpoint:
    def __init__(
        self,
        registry: HttpApiRegistry,
        *,
        clock: Callable[[], float] = time.time,
        max_body: int = MAX_BODY_BYTES,
    ) -> None:
        self._registry = registry
        self._clock = clock
        self._max_body = max_body

    def matches(self, scope: Scope) -> bool:
        """Whether `scope` (an ASGI http scope) is addressed to an HTTP API."""
        if scope["path"].startswith(PATH_PREFIX):
            return True
        host = _host(scope)
        return bool(host) and (
            _HOST.match(host) is not None
            or self._registry.domain(host.partition(":")[0]) is not None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = _request_id()
        result = await self._answer(scope, receive, request_id)
        headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in result.header_list()
        ]
        headers.append((b"content-length", str(len(result.body)).encode()))
        headers.append((b"apigw-requestid", request_id.encode()))
        await send({"type": "http.response.start", "status": result.status, "headers": headers})
        await send({"type": "http.response.body", "body": result.body})

    async def _answer(self, scope: Scope, receive: Receive, request_id: str) -> HttpResult:
        where = self._locate(scope)
        if where is None:
            return responses.NOT_FOUND
        body = await _read_body(receive, self._max_body)
        if body is None:
            return responses.TOO_LARGE
        stage = where.stage
        method = scope["method"]
        found = stage.routes.match(method, where.route_path)
        if found is None:
            return responses.NOT_FOUND
        route = found.target
        if route.integration is None:
            return responses.INTERNAL_SERVER_ERROR
        request = _http_request(scope, where.raw_path, body)
        context = EventContext(
            api_id=stage.api_id,
            domain_name=where.domain_name,
            request_id=request_id,
            time_epoch_ms=int(self._clock() * 1000),
            account_id=stage.account_id,
            route_key=found.route_key,
            stage=stage.name,
            path_parameters=found.path_parameters,
            stage_variables=stage.stage_variables,
        )
        outcome = await route.integration.call(
            IntegrationRequest(request, context, found.resource_path)
        )
        return outcome.result

    def _locate(self, scope: Scope) -> Addressed | None:
        raw_path = _raw_path(scope)
        host = _host(scope)
        if raw_path.startswith(PATH_PREFIX):
            api_id, _, rest = raw_path[len(PATH_PREFIX) :].partition("/")
            path = "/" + rest
            domain = f"{api_id}.execute-api.localhost"
        else:
            by_host = _HOST.match(host)
            if by_host is None:
                return self._by_domain(host.partition(":")[0], raw_path)
            api_id, path, domain = by_host.group(1), raw_path or "/", host.partition(":")[0]
        api = self._registry.api(api_id)
        if api is None or not api.execute_api_endpoint:
            return None
        selected = api.stage_for(path)
        if selected is None:
            return None
        stage, route_path = selected
        return Addressed(stage, path, route_path, domain)

    def _by_domain(self, domain: str, raw_path: str) -> Addressed | None:
        mappings = self._registry.domain(domain)
        if not mappings:
            return None
        parts = raw_path.strip("/").split("/")
        for mapping in mappings:
            if tuple(parts[: len(mapping.key)]) != mapping.key:
                continue
            api = self._registry.api(mapping.api_id)
            stage = None if api is None else api.stages.get(mapping.stage)
            if stage is None:
                return None
            rest = "/" + "/".join(parts[len(mapping.key) :])
            return Addressed(stage, raw_path or "/", rest, domain)
        return None


def _request_id() -> str:
    """An id shaped like API Gateway's (`JTHoQgr2PHcEJnA=`)."""
    return base64.b64encode(os.urandom(11)).decode()


def _host(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"host":
            return bytes(value).decode("latin-1").lower()
    return ""


def _raw_path(scope: Scope) -> str:
    raw: bytes | None = scope.get("raw_path")
    return raw.decode("latin-1").partition("?")[0] if raw else str(scope["path"])


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body if len(body) <= limit else None
    chunks = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _http_request(scope: Scope, raw_path: str, body: bytes) -> HttpRequest:
    client = scope.get("client") or ("", 0)
    server = scope.get("server") or ("", 0)
    headers = [
        (bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
        for name, value in scope["headers"]
    ]
    present = {name for name, _value in headers}
    source_ip = str(client[0])
    forwarded = (
        ("x-forwarded-for", source_ip),
        ("x-forwarded-port", str(server[1])),
        ("x-forwarded-proto", str(scope.get("scheme", "http"))),
    )
    headers.extend(item for item in forwarded if item[0] not in present)
    return HttpRequest(
        method=scope["method"],
        raw_path=raw_path,
        raw_query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
        source_ip=source_ip,
        protocol=f"HTTP/{scope.get('http_version', '1.1')}",
    )
