"""Deployed HTTP APIs compiled for serving: everything a request needs, decided in advance.

    DeployedApi (wire-shaped documents) --Compiler.api--> CompiledApi
        stages by name, each a CompiledStage:
            RouteTable[CompiledRoute]   route -> integration, authorizer, scopes
            stage variables, CORS policy, throttle, access log

Compiling happens when the control plane publishes (deploy, stage change), never per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from portico.gateway.http_api.access_logs import AccessLogFormat
from portico.gateway.http_api.authorization import Authorizer
from portico.gateway.http_api.authorizers import JwksCache, Misconfigured, compile_authorizer
from portico.gateway.http_api.cors import CorsPolicy
from portico.gateway.http_api.integrations import (
    DEFAULT_TIMEOUT_SECONDS,
    HttpProxy,
    Integration,
    LambdaProxy,
    event_v1,
)
from portico.gateway.http_api.mapping import (
    InvalidParameterMapping,
    RequestMapping,
    ResponseMapping,
    compile_request_parameters,
    compile_response_parameters,
)
from portico.gateway.http_api.routes import RouteTable
from portico.gateway.http_api.targets import Invoke, StartInvoke, lambda_target
from portico.gateway.http_api.throttling import (
    ACCOUNT_LIMITS,
    Limits,
    StageThrottle,
    TokenBucket,
    account_bucket,
)
from portico.gateway.http_api.v1_events import map_v1_result
from portico.services.apigatewayv2.published import DeployedApi, DeployedStage, Document

logger = logging.getLogger(__name__)

DEFAULT_STAGE = "$default"


@dataclass(frozen=True)
class CompiledIntegration:
    call: Integration
    request_mapping: RequestMapping | None = None
    response_mapping: ResponseMapping | None = None


@dataclass(frozen=True)
class CompiledRoute:
    route_key: str
    integration: CompiledIntegration | None
    authorizer: Authorizer | None = None
    authorization_scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessLog:
    """Where a stage's access log lines go, and their format."""

    group: str
    stream: str
    format: AccessLogFormat


@dataclass(frozen=True)
class CompiledStage:
    api_id: str
    account_id: str
    region: str
    name: str
    routes: RouteTable[CompiledRoute]
    throttle: StageThrottle
    stage_variables: dict[str, str] = field(default_factory=dict)
    cors: CorsPolicy | None = None
    access_log: AccessLog | None = None


@dataclass(frozen=True)
class CompiledApi:
    api_id: str
    account_id: str
    region: str
    execute_api_endpoint: bool  # False when DisableExecuteApiEndpoint
    stages: dict[str, CompiledStage]

    def stage_for(self, path: str) -> tuple[CompiledStage, str] | None:
        """The stage a request path selects and the path within it: a first segment naming a
        stage selects it, anything else goes to `$default` (if there is one)."""
        first, _, rest = path[1:].partition("/")
        named = self.stages.get(first) if first and first != DEFAULT_STAGE else None
        if named is not None:
            return named, "/" + rest
        default = self.stages.get(DEFAULT_STAGE)
        return None if default is None else (default, path)


class Compiler:
    """Builds CompiledApis; holds what the compiled parts call (invoke, an HTTP client)."""

    def __init__(
        self,
        invoke: Invoke,
        client: httpx.AsyncClient,
        *,
        jwks: JwksCache,
        iam: Authorizer | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], float] = time.time,
        start_invoke: StartInvoke | None = None,
        account_limits: Limits = ACCOUNT_LIMITS,
    ) -> None:
        """`start_invoke`: `invoke` without a coroutine, for answers made from the event
        loop's callbacks alone (`HttpApiEndpoint.direct`). `account_limits`: the account's
        throttling quota in each Region (AWS's default unless raised)."""
        self._account_limits = account_limits
        self._invoke = invoke
        self._start_invoke = start_invoke
        self._client = client
        self._jwks = jwks
        self._iam = iam  # for routes with AuthorizationType AWS_IAM
        self._monotonic = monotonic
        self._clock = clock
        # One bucket per account and Region, shared by every stage of every API in it.
        self._accounts: dict[tuple[str, str], TokenBucket] = {}

    def api(self, deployed: DeployedApi) -> CompiledApi:
        stages = {
            str(stage.stage["StageName"]): self.stage(deployed, stage) for stage in deployed.stages
        }
        return CompiledApi(
            deployed.api_id,
            deployed.account_id,
            deployed.region,
            not deployed.disable_execute_api_endpoint,
            stages,
        )

    def stage(self, api: DeployedApi, deployed: DeployedStage) -> CompiledStage:
        integrations = {
            str(document["IntegrationId"]): self.integration(api, document)
            for document in deployed.integrations
        }
        authorizers = {
            str(document["AuthorizerId"]): compile_authorizer(
                document, invoke=self._invoke, jwks=self._jwks, clock=self._clock
            )
            for document in deployed.authorizers
        }
        routes: list[tuple[str, CompiledRoute]] = []
        for document in deployed.routes:
            target = str(document.get("Target") or "")
            integration_id = target.removeprefix("integrations/") if target else ""
            route_key = str(document["RouteKey"])
            routes.append(
                (
                    route_key,
                    CompiledRoute(
                        route_key,
                        integrations.get(integration_id),
                        self._authorizer(document, authorizers),
                        tuple(document.get("AuthorizationScopes") or ()),
                    ),
                )
            )
        account = self._accounts.get((api.account_id, api.region))
        if account is None:
            limits = self._account_limits
            account = account_bucket(self._monotonic, limits.rate or 0.0, limits.burst or 0)
            self._accounts[(api.account_id, api.region)] = account
        name = str(deployed.stage["StageName"])
        return CompiledStage(
            api.api_id,
            api.account_id,
            api.region,
            name,
            RouteTable(routes),
            StageThrottle.compile(deployed.stage, account, self._monotonic, self._account_limits),
            dict(deployed.stage.get("StageVariables") or {}),
            CorsPolicy.compile(deployed.api.get("CorsConfiguration")),
            _access_log(api.api_id, name, deployed.stage.get("AccessLogSettings")),
        )

    def _authorizer(self, route: Document, authorizers: dict[str, Authorizer]) -> Authorizer | None:
        kind = route.get("AuthorizationType") or "NONE"
        if kind == "AWS_IAM":
            return self._iam or Misconfigured("AWS_IAM authorization is not available")
        if kind in ("JWT", "CUSTOM"):
            found = authorizers.get(str(route.get("AuthorizerId") or ""))
            return found or Misconfigured(f"route {route.get('RouteKey')} has no authorizer")
        return None

    def integration(self, api: DeployedApi, document: Document) -> CompiledIntegration | None:
        call = self._call(api, document)
        if call is None:
            return None
        try:
            request_mapping = compile_request_parameters(document.get("RequestParameters"))
            response_mapping = compile_response_parameters(document.get("ResponseParameters"))
        except InvalidParameterMapping as error:
            logger.warning("api %s: %s", api.api_id, error)
            return None
        return CompiledIntegration(call, request_mapping, response_mapping)

    def _call(self, api: DeployedApi, document: Document) -> Integration | None:
        kind = document.get("IntegrationType")
        uri = str(document.get("IntegrationUri") or "")
        timeout = _timeout(document)
        if kind == "AWS_PROXY":
            target = lambda_target(uri)
            if target is None:
                logger.warning("api %s: integration uri %r names no function", api.api_id, uri)
                return None
            # With CredentialsArn, API Gateway invokes as that role (whose IAM permissions
            # Portico does not model), not as the service the function's policy must allow.
            source_region = None if document.get("CredentialsArn") else api.region
            if str(document.get("PayloadFormatVersion")) == "1.0":
                return LambdaProxy(
                    target,
                    self._invoke,
                    build=event_v1,
                    mapper=map_v1_result,
                    timeout=timeout,
                    source_region=source_region,
                    start=self._start_invoke,
                )
            return LambdaProxy(
                target,
                self._invoke,
                timeout=timeout,
                source_region=source_region,
                start=self._start_invoke,
            )
        if kind == "HTTP_PROXY":
            method = str(document.get("IntegrationMethod") or "ANY")
            return HttpProxy(uri, method, self._client, timeout=timeout)
        logger.warning("api %s: integration type %r is not served", api.api_id, kind)
        return None


def _access_log(api_id: str, stage: str, settings: Document | None) -> AccessLog | None:
    """The stage's access log, if it has one: `DestinationArn` names a log group
    (`arn:aws:logs:{region}:{account}:log-group:{name}[:*]`)."""
    if not settings or not settings.get("DestinationArn") or not settings.get("Format"):
        return None
    arn = str(settings["DestinationArn"])
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
        logger.warning("api %s stage %s: %r names no log group", api_id, stage, arn)
        return None
    stream = f"{api_id}_{stage}"
    return AccessLog(parts[6], stream, AccessLogFormat.compile(str(settings["Format"])))


def _timeout(document: dict[str, Any]) -> float:
    millis = document.get("TimeoutInMillis")
    return DEFAULT_TIMEOUT_SECONDS if not millis else int(millis) / 1000
