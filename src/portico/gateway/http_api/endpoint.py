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

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from portico.bodies import Disconnected, read_body
from portico.gateway.http_api import responses
from portico.gateway.http_api.access_logs import AccessRecord, ContextVariables
from portico.gateway.http_api.authorization import AuthRequest, Granted
from portico.gateway.http_api.authorizers import IamGranted
from portico.gateway.http_api.compiled import CompiledRoute, CompiledStage
from portico.gateway.http_api.cors import CorsPolicy, request_origin
from portico.gateway.http_api.event_encoder import (
    V2EventEncoder,
    protocol,
    request_headers,
    source_ip,
)
from portico.gateway.http_api.integrations import (
    PAYLOAD_QUOTA_BYTES,
    IntegrationOutcome,
    IntegrationRequest,
    LambdaProxy,
)
from portico.gateway.http_api.mapping import MappableRequest, RequestMapping
from portico.gateway.http_api.metrics import Metrics
from portico.gateway.http_api.registry import HttpApiRegistry
from portico.gateway.http_api.routes import Match, delivered_path
from portico.gateway.http_events import EventContext, HttpRequest, HttpResult, response_headers
from portico.http_bounds import DirectAnswer, Respond
from portico.runtime.ids import IdGenerator
from portico.services.lambda_.permissions import ServiceSource

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

logger = logging.getLogger(__name__)

PATH_PREFIX = "/_aws/execute-api/"
DIRECTS_KEPT = 4096  # decisions of `HttpApiEndpoint.direct` kept at most
_HOST = re.compile(r"^([0-9a-z]{10})\.execute-api\.(?:[a-z0-9-]+\.)?localhost(?::\d+)?$")


# Built on every request: a plain dataclass is three times cheaper to build than a frozen
# one (object.__setattr__ per field). Treat it as a value all the same.
@dataclass(slots=True)
class Addressed:
    """Which stage of which API a request is for, and the paths it is known by."""

    stage: CompiledStage
    raw_path: str  # the 2.0 event's rawPath (decoded): a named stage included, a mapping key not
    route_path: str  # what routes match against (stage and mapping key removed; see
    # routes.delivered_path for the two decodings)
    domain_name: str
    full_path: str = ""  # the path as requested, when it differs (1.0's `path` keeps the key)


AccessLogWriter = Callable[[str, str, str, str, int, str], None]
"""(account id, region, log group, log stream, timestamp ms, line) -> queued for the group."""


@dataclass(frozen=True, slots=True)
class _DirectRoute:
    """How requests by one method, to one path, by one host are answered directly: a Lambda
    proxy's route, with their events' encoder (None: the general way) and who invokes."""

    where: Addressed
    found: Match[CompiledRoute]
    proxy: LambdaProxy
    encoder: V2EventEncoder | None
    source: ServiceSource | None


@dataclass(slots=True)
class _Trace:
    """What one request went through, for its access log line and its route's metrics."""

    started: float
    where: Addressed | None = None
    route_key: str | None = None
    integration: IntegrationOutcome | None = None
    granted: Granted | None = None
    error: str | None = None


class HttpApiEndpoint:
    def __init__(
        self,
        registry: HttpApiRegistry,
        *,
        metrics: Metrics | None = None,
        access_log: AccessLogWriter | None = None,
        clock: Callable[[], float] = time.time,
        max_body: int = PAYLOAD_QUOTA_BYTES,
        ids: IdGenerator | None = None,
    ) -> None:
        self._registry = registry
        self._ids = ids or IdGenerator()
        self.metrics = metrics or Metrics()
        self._access_log = access_log
        self._clock = clock
        self._max_body = max_body
        # `direct`'s decisions by request line and host, for the registry's generation.
        self._directs: dict[tuple[str, bytes, bytes], DirectAnswer | None] = {}
        self._directs_generation = registry.generation

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
        request_id = self._ids.gateway_request_id()
        trace = _Trace(self._clock())
        try:
            result = await self._answer(scope, receive, request_id, trace)
        except Disconnected:
            return
        except Exception:  # a fault of Portico's own: the client still gets AWS's answer
            logger.exception("HTTP API request %s failed", request_id)
            trace.error = "Internal Server Error"
            result = responses.INTERNAL_SERVER_ERROR
        headers, body = result.wire_headers(("apigw-requestid", request_id))
        await send({"type": "http.response.start", "status": result.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        if trace.where is not None:
            self._account(scope, request_id, trace, result)

    async def _answer(
        self, scope: Scope, receive: Receive, request_id: str, trace: _Trace
    ) -> HttpResult:
        located = self._locate(scope)
        if not isinstance(located, Addressed):
            return located or responses.NOT_FOUND
        where = trace.where = located
        stage = where.stage
        body = await read_body(receive, self._max_body)
        if body is None:
            trace.error = "Request Entity Too Large"
            return responses.TOO_LARGE
        if stage.cors is not None:
            preflight, origin = _cors_first(stage.cors, scope)
            if preflight is not None:
                return preflight
            result = await self._route(scope, where, body, request_id, trace)
            return stage.cors.decorate(result, origin)
        return await self._route(scope, where, body, request_id, trace)

    async def _route(
        self, scope: Scope, where: Addressed, body: bytes, request_id: str, trace: _Trace
    ) -> HttpResult:
        stage = where.stage
        found = stage.routes.match(scope["method"], where.route_path)
        if found is None:
            trace.error = "Not Found"
            return responses.NOT_FOUND
        refused = self._refusal(where, found, trace)
        if refused is not None:
            return refused
        route = found.target
        integration = route.integration
        assert integration is not None  # refused otherwise
        request = _http_request(scope, where.raw_path, body, self._ids.trace_root)
        granted: Granted | None = None
        if route.authorizer is not None:
            decided = await route.authorizer.authorize(
                _auth_request(request, _raw_path(scope), where, found, trace, request_id)
            )
            if isinstance(decided, HttpResult):
                trace.error = _message_of(decided)
                return decided
            granted = trace.granted = decided
        context = _event_context(where, found, request_id, trace, granted)
        if integration.request_mapping is not None:
            request = self._mapped(integration.request_mapping, request, where, found, context)
        outcome = trace.integration = await integration.call.call(
            _integration_request(request, context, where, found, granted)
        )
        if integration.response_mapping is not None:
            variables = ContextVariables(self._record(scope, request_id, trace, outcome.result))
            mapped = integration.response_mapping.apply(
                outcome.result, variables, stage.stage_variables
            )
            # A mapped value may come from the body ($response.body.x): it may hold a CR or LF.
            checked = response_headers(mapped.headers, mapped.cookies)
            if checked is None:
                trace.error = "Internal Server Error"
                return responses.INTERNAL_SERVER_ERROR
            return mapped if checked is mapped.headers else replace(mapped, headers=checked)
        return outcome.result

    @staticmethod
    def _refusal(where: Addressed, found: Match[CompiledRoute], trace: _Trace) -> HttpResult | None:
        """What a route answers before its integration is called, if anything."""
        trace.route_key = found.route_key
        if not where.stage.throttle.admit(found.route_key):
            trace.error = "Too Many Requests"
            return responses.TOO_MANY_REQUESTS
        if found.target.integration is None:
            trace.error = "Internal Server Error"
            return responses.INTERNAL_SERVER_ERROR
        return None

    # -- answers made from the event loop's callbacks alone ---------------------------------

    def direct(self, scope: Scope) -> DirectAnswer | None:
        """How to answer `scope` from the event loop's callbacks alone, when it goes to a
        route whose function can be invoked that way (a Lambda proxy without authorizer or
        parameter mapping: the bulk of the traffic of most APIs, and what costs least);
        None for every other request, answered the ASGI way. A request this
        endpoint does not serve gets None too.

        The decision depends on the method, the path and the host alone, until the next
        deployment: it is kept (for up to DIRECTS_KEPT requests apart)."""
        host = b""
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
                break
        key = (scope["method"], scope["raw_path"], host)
        registry = self._registry
        if self._directs_generation != registry.generation:
            self._directs = {}
            self._directs_generation = registry.generation
        try:
            return self._directs[key]
        except KeyError:
            pass
        decided = self._direct(scope)
        if len(self._directs) >= DIRECTS_KEPT:
            self._directs = {}
        self._directs[key] = decided
        return decided

    def _direct(self, scope: Scope) -> DirectAnswer | None:
        located = self._locate(scope)
        if not isinstance(located, Addressed):
            return None
        found = located.stage.routes.match(scope["method"], located.route_path)
        if found is None:
            return None
        route = found.target
        integration = route.integration
        if (
            integration is None
            or route.authorizer is not None
            or integration.request_mapping is not None
            or integration.response_mapping is not None
        ):
            return None
        call = integration.call
        if not isinstance(call, LambdaProxy) or not call.starts:
            return None
        stage = located.stage
        encoder = None
        if call.encodes_v2:
            encoder = _v2_encoder(scope, located, found)
        source = call.source_for(
            stage.account_id, stage.api_id, stage.name, found.route_key, scope["method"]
        )
        return partial(self._answer_directly, _DirectRoute(located, found, call, encoder, source))

    def _answer_directly(
        self, route: _DirectRoute, scope: Scope, body: bytes, respond: Respond
    ) -> None:
        where = route.where
        request_id = self._ids.gateway_request_id()
        trace = _Trace(self._clock(), where)
        cors = where.stage.cors
        origin: str | None = None
        answered = False

        def answer(result: HttpResult) -> None:
            nonlocal answered
            if answered:
                return
            answered = True
            headers, content = result.wire_headers(("apigw-requestid", request_id))
            respond(result.status, headers, content)
            self._account(scope, request_id, trace, result)

        def failed(error: BaseException) -> None:
            # A fault of Portico's own: the client still gets AWS's answer.
            logger.error("HTTP API request %s failed", request_id, exc_info=error)
            trace.error = "Internal Server Error"
            answer(responses.INTERNAL_SERVER_ERROR)

        def done(outcome: IntegrationOutcome | BaseException) -> None:
            if isinstance(outcome, BaseException):
                failed(outcome)
                return
            try:
                trace.integration = outcome
                result = outcome.result
                answer(result if cors is None else cors.decorate(result, origin))
            except Exception as error:
                failed(error)

        try:
            if len(body) > self._max_body:
                trace.error = "Request Entity Too Large"
                answer(responses.TOO_LARGE)
                return
            if cors is not None:  # as `_answer`: a preflight first, then CORS headers
                preflight, origin = _cors_first(cors, scope)
                if preflight is not None:
                    answer(preflight)
                    return
            refused = self._refusal(where, route.found, trace)
            if refused is not None:
                answer(refused if cors is None else cors.decorate(refused, origin))
                return
            self._start_proxy(route, scope, body, request_id, trace, done)
        except Exception as error:
            failed(error)

    def _start_proxy(
        self,
        route: _DirectRoute,
        scope: Scope,
        body: bytes,
        request_id: str,
        trace: _Trace,
        done: Callable[[IntegrationOutcome | BaseException], None],
    ) -> None:
        encoder, where, found = route.encoder, route.where, route.found
        if encoder is None:  # payload 1.0, or a stage variable orjson refuses
            request = _http_request(scope, where.raw_path, body, self._ids.trace_root)
            context = _event_context(where, found, request_id, trace, None)
            route.proxy.start(_integration_request(request, context, where, found, None), done)
            return
        epoch_ms = int(trace.started * 1000)
        event = encoder.encode(scope, body, request_id, epoch_ms, self._ids.trace_root)
        route.proxy.start_event(event, route.source, done)

    def _mapped(
        self,
        mapping: RequestMapping,
        request: HttpRequest,
        where: Addressed,
        found: Match[CompiledRoute],
        context: EventContext,
    ) -> HttpRequest:
        """`request` after its integration's request parameters (headers, query, path)."""
        mappable = MappableRequest.of(request, where.route_path, found.path_parameters)
        variables = _event_variables(context, request)
        changed = mapping.apply(mappable, variables, where.stage.stage_variables)
        raw_path = request.raw_path
        if changed.path != mappable.path:
            raw_path = changed.path
        return replace(
            request,
            raw_path=raw_path,
            raw_query=changed.raw_query(),
            headers=list(changed.headers),
        )

    def _account(self, scope: Scope, request_id: str, trace: _Trace, result: HttpResult) -> None:
        """The request's metrics and access log line, once it is answered."""
        where = trace.where
        if where is None:
            return
        stage = where.stage
        latency = (self._clock() - trace.started) * 1000
        outcome = trace.integration
        self.metrics.record(
            (stage.api_id, stage.name, trace.route_key or "-"),
            result.status,
            latency,
            None if outcome is None else outcome.latency_ms,
            len(result.body),
        )
        log = stage.access_log
        if log is not None and self._access_log is not None:
            line = log.format.render(self._record(scope, request_id, trace, result))
            self._access_log(
                stage.account_id,
                stage.region,
                log.group,
                log.stream,
                int(trace.started * 1000),
                line,
            )

    def _record(
        self, scope: Scope, request_id: str, trace: _Trace, result: HttpResult
    ) -> AccessRecord:
        where = trace.where
        if where is None:
            raise ValueError("a request is recorded only once it is addressed")
        stage = where.stage
        outcome = trace.integration
        client = scope.get("client") or ("", 0)
        return AccessRecord(
            request_id=request_id,
            api_id=stage.api_id,
            account_id=stage.account_id,
            stage=stage.name,
            domain_name=where.domain_name,
            http_method=scope["method"],
            path=where.full_path or where.raw_path,
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
            route_key=trace.route_key,
            status=result.status,
            request_time_epoch_ms=int(trace.started * 1000),
            response_length=len(result.body),
            response_latency_ms=int((self._clock() - trace.started) * 1000),
            source_ip=str(client[0]),
            user_agent=_header(scope, b"user-agent"),
            integration_status=None if outcome is None else outcome.status,
            integration_service_status=None if outcome is None else 200,
            integration_latency_ms=None if outcome is None else outcome.latency_ms,
            integration_error=(outcome.error or None) if outcome is not None else None,
            error_message=trace.error,
            authorizer_principal_id=trace.granted.principal_id if trace.granted else None,
        )

    def _locate(self, scope: Scope) -> Addressed | HttpResult | None:
        """Where the request goes; else the refusal to send (None: not found)."""
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
        if api is None:
            return None
        if not api.execute_api_endpoint:  # DisableExecuteApiEndpoint: custom domains only
            return responses.FORBIDDEN
        delivered = delivered_path(path)
        if delivered is None:
            return responses.BAD_REQUEST
        routed, given = delivered
        selected = api.stage_for(routed)
        if selected is None:
            return None
        stage, route_path = selected
        return Addressed(stage, given, route_path, domain)

    def _by_domain(self, domain: str, raw_path: str) -> Addressed | HttpResult | None:
        mappings = self._registry.domain(domain)
        if not mappings:
            return None
        delivered = delivered_path(raw_path or "/")
        if delivered is None:
            return responses.BAD_REQUEST
        routed, given = delivered
        parts = routed.strip("/").split("/")
        for mapping in mappings:
            if tuple(parts[: len(mapping.key)]) != mapping.key:
                continue
            api = self._registry.api(mapping.api_id)
            stage = None if api is None else api.stages.get(mapping.stage)
            if stage is None:
                return None
            rest = "/" + "/".join(parts[len(mapping.key) :])
            # As AWS: rawPath leaves the API mapping's key out; 1.0's `path` keeps it. A key
            # is literal (no escapes): it is the same in both forms of the path.
            key_length = sum(len(part) + 1 for part in mapping.key)
            return Addressed(stage, given[key_length:] or "/", rest, domain, given)
        return None


def _auth_request(
    request: HttpRequest,
    sent_path: str,
    where: Addressed,
    found: Match[CompiledRoute],
    trace: _Trace,
    request_id: str,
) -> AuthRequest:
    stage = where.stage
    route_arn = (
        f"arn:aws:execute-api:{stage.region}:{stage.account_id}:{stage.api_id}/{stage.name}/"
        f"{request.method}{where.route_path}"
    )
    return AuthRequest(
        request=request,
        sent_path=sent_path,
        path=where.route_path,
        api_id=stage.api_id,
        account_id=stage.account_id,
        region=stage.region,
        stage=stage.name,
        route_key=found.route_key,
        route_arn=route_arn,
        request_id=request_id,
        time_epoch_ms=int(trace.started * 1000),
        domain_name=where.domain_name,
        authorization_scopes=found.target.authorization_scopes,
        path_parameters=found.path_parameters,
        stage_variables=stage.stage_variables,
    )


def _cors_first(cors: CorsPolicy, scope: Scope) -> tuple[HttpResult | None, str | None]:
    """The gateway's answer to a CORS preflight (None when the request is not one), and the
    request's origin, for the CORS headers of any other answer."""
    headers = _headers(scope)
    origin = request_origin(headers)
    if scope["method"] == "OPTIONS":
        return cors.preflight("OPTIONS", headers), origin
    return None, origin


def _v2_encoder(
    scope: Scope, where: Addressed, found: Match[CompiledRoute]
) -> V2EventEncoder | None:
    """The encoder of the 2.0 events of the requests like `scope`; None when a value it
    holds is one orjson refuses (a lone surrogate in a stage variable, say)."""
    stage = where.stage
    try:
        return V2EventEncoder(
            method=scope["method"],
            raw_path=where.raw_path,
            route_key=found.route_key,
            account_id=stage.account_id,
            api_id=stage.api_id,
            domain_name=where.domain_name,
            stage=stage.name,
            path_parameters=found.path_parameters,
            stage_variables=stage.stage_variables,
        )
    except TypeError:
        return None


def _event_context(
    where: Addressed,
    found: Match[CompiledRoute],
    request_id: str,
    trace: _Trace,
    granted: Granted | None,
) -> EventContext:
    stage = where.stage
    return EventContext(
        api_id=stage.api_id,
        domain_name=where.domain_name,
        request_id=request_id,
        time_epoch_ms=int(trace.started * 1000),
        account_id=stage.account_id,
        route_key=found.route_key,
        stage=stage.name,
        path_parameters=found.path_parameters,
        stage_variables=stage.stage_variables,
        authorizer=None if granted is None else granted.context_v2,
        caller=granted.caller if isinstance(granted, IamGranted) else None,
    )


def _integration_request(
    request: HttpRequest,
    context: EventContext,
    where: Addressed,
    found: Match[CompiledRoute],
    granted: Granted | None,
) -> IntegrationRequest:
    return IntegrationRequest(
        request,
        context,
        found.resource_path,
        None if granted is None else granted.context_v1,
        where.full_path or None,
    )


def _message_of(result: HttpResult) -> str | None:
    """The `message` of a gateway answer, for `$context.error.message`."""
    try:
        document = json.loads(result.body)
    except ValueError:
        return None
    message = document.get("message") if isinstance(document, dict) else None
    return message if isinstance(message, str) else None


def _event_variables(context: EventContext, request: HttpRequest) -> dict[str, str]:
    """`$context.*` values a request mapping may read."""
    return {
        "apiId": context.api_id,
        "accountId": context.account_id,
        "domainName": context.domain_name,
        "domainPrefix": context.domain_name.split(".", 1)[0],
        "httpMethod": request.method,
        "identity.sourceIp": request.source_ip,
        "path": request.raw_path,
        "protocol": request.protocol,
        "requestId": context.request_id,
        "requestTimeEpoch": str(context.time_epoch_ms),
        "routeKey": context.route_key,
        "stage": context.stage,
    }


def _host(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"host":
            return bytes(value).decode("latin-1").lower()
    return ""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _headers(scope: Scope) -> list[tuple[str, str]]:
    return [
        (bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
        for name, value in scope["headers"]
    ]


def _raw_path(scope: Scope) -> str:
    raw: bytes | None = scope.get("raw_path")
    return raw.decode("latin-1").partition("?")[0] if raw else str(scope["path"])


def _http_request(
    scope: Scope, raw_path: str, body: bytes, trace_root: Callable[[], str]
) -> HttpRequest:
    address = source_ip(scope)
    return HttpRequest(
        method=scope["method"],
        raw_path=raw_path,
        raw_query=scope.get("query_string", b"").decode("latin-1"),
        headers=request_headers(scope, address, trace_root),
        body=body,
        source_ip=address,
        protocol=protocol(scope),
        path_decoded=True,  # as an HTTP API gives it
    )
