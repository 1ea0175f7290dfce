"""Lambda REQUEST authorizers: a function decides, API Gateway enforces and caches.

identity sources -> any missing: 401 {"message":"Unauthorized"}, the function not invoked
  -> cached verdict for these values (AuthorizerResultTtlInSeconds > 0)?
  -> else invoke the function with the 1.0 / 2.0 authorizer event
       error, unusable answer,  500 {"message":"Internal Server Error"} (not cached)
       no answer within 10 s
       verdict                  cached under the identity-source values
  -> verdict for the route ARN: Granted, or 403 {"message":"Forbidden"}
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from portico.errors import AwsError
from portico.gateway import payloads
from portico.gateway.http_api import targets
from portico.gateway.http_api.authorization import AuthRequest, Granted
from portico.gateway.http_api.authorizers import identity, refusals
from portico.gateway.http_api.authorizers.identity import IdentitySource
from portico.gateway.http_api.authorizers.lambda_events import event_v1, event_v2
from portico.gateway.http_api.authorizers.lambda_responses import Verdict, parse_response
from portico.gateway.http_api.authorizers.result_cache import ResultCache
from portico.gateway.http_api.targets import Invoke, execute_api_source
from portico.gateway.http_events import HttpResult

logger = logging.getLogger(__name__)

# The HTTP API quota on a Lambda authorizer's response time; the function itself runs on.
RESPONSE_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class LambdaSettings:
    """A REQUEST authorizer's configuration, as GetAuthorizer describes it."""

    name: str
    target: targets.LambdaTarget | None  # None when AuthorizerUri names no function
    authorizer_id: str = ""
    as_service: bool = True  # invoked as apigateway.amazonaws.com (no credentials given)
    payload_version: str = "2.0"
    simple_responses: bool = False  # format 2.0 only
    identity_sources: tuple[IdentitySource, ...] = ()
    ttl_seconds: int = 0


class LambdaRequestAuthorizer:
    def __init__(
        self, settings: LambdaSettings, invoke: Invoke, clock: Callable[[], float]
    ) -> None:
        self._settings = settings
        self._invoke = invoke
        self._clock = clock
        self._simple = settings.simple_responses and settings.payload_version == "2.0"
        caching = settings.ttl_seconds > 0 and bool(settings.identity_sources)
        self._cache = ResultCache[Verdict](settings.ttl_seconds, clock) if caching else None

    async def authorize(self, request: AuthRequest) -> Granted | HttpResult:
        values = identity.values(self._settings.identity_sources, request)
        if values is None:
            return refusals.unauthorized()
        key = tuple(values)
        verdict = self._cache.get(key) if self._cache is not None else None
        if verdict is None:
            answer = await self._ask(request, values)
            if isinstance(answer, HttpResult):
                return answer
            verdict = answer
            if self._cache is not None:
                self._cache.put(key, verdict)
        return verdict.decide(request.route_arn)

    async def _ask(self, request: AuthRequest, values: list[str]) -> Verdict | HttpResult:
        settings = self._settings
        target = settings.target
        if target is None:
            return self._failed(request, "the authorizer URI names no function")
        build = event_v1 if settings.payload_version == "1.0" else event_v2
        event = payloads.encode(build(request, values))
        started = self._clock()
        try:
            resource = f"{request.api_id}/authorizers/{settings.authorizer_id}"
            source = execute_api_source(request.region, request.account_id, resource)
            result = await self._invoke(
                target.account_id,
                target.region,
                target.function_name,
                target.qualifier,
                event,
                within=RESPONSE_TIMEOUT_SECONDS,
                source=source if settings.as_service else None,
            )
        except TimeoutError:
            return self._failed(
                request, f"the function did not answer within {RESPONSE_TIMEOUT_SECONDS:g} s"
            )
        except AwsError as error:
            return self._failed(request, str(error))
        if result.function_error:
            return self._failed(request, f"the function failed ({result.error_type})")
        latency_ms = int((self._clock() - started) * 1000)
        verdict = parse_response(result.payload, simple=self._simple, latency_ms=latency_ms)
        if verdict is None:
            return self._failed(request, "the function's response is not an authorizer response")
        return verdict

    def _failed(self, request: AuthRequest, reason: str) -> HttpResult:
        logger.warning(
            "api %s: authorizer %s failed on %s: %s",
            request.api_id,
            self._settings.name,
            request.route_key,
            reason,
        )
        return refusals.internal_server_error()
