"""Deployed HTTP APIs compiled for serving: everything a request needs, decided in advance.

    DeployedApi (wire-shaped documents) --Compiler.api--> CompiledApi
        stages by name, each a CompiledStage:
            RouteTable[CompiledRoute]   route -> integration, authorizer, scopes
            stage variables, CORS policy, throttle, access log

Compiling happens when the control plane publishes (deploy, stage change), never per request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from portico.gateway.http_api.authorization import Authorizer
from portico.gateway.http_api.integrations import (
    DEFAULT_TIMEOUT_SECONDS,
    HttpProxy,
    Integration,
    Invoke,
    LambdaProxy,
)
from portico.gateway.http_api.routes import RouteTable
from portico.gateway.http_api.targets import lambda_target
from portico.services.apigatewayv2.published import DeployedApi, DeployedStage, Document

logger = logging.getLogger(__name__)

DEFAULT_STAGE = "$default"


@dataclass(frozen=True)
class CompiledRoute:
    route_key: str
    integration: Integration | None
    authorizer: Authorizer | None = None
    authorization_scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompiledStage:
    api_id: str
    account_id: str
    region: str
    name: str
    routes: RouteTable[CompiledRoute]
    stage_variables: dict[str, str] = field(default_factory=dict)


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

    def __init__(self, invoke: Invoke, client: httpx.AsyncClient) -> None:
        self._invoke = invoke
        self._client = client

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
                        None,
                        tuple(document.get("AuthorizationScopes") or ()),
                    ),
                )
            )
        return CompiledStage(
            api.api_id,
            api.account_id,
            api.region,
            str(deployed.stage["StageName"]),
            RouteTable(routes),
            dict(deployed.stage.get("StageVariables") or {}),
        )

    def integration(self, api: DeployedApi, document: Document) -> Integration | None:
        kind = document.get("IntegrationType")
        uri = str(document.get("IntegrationUri") or "")
        timeout = _timeout(document)
        if kind == "AWS_PROXY":
            target = lambda_target(uri)
            if target is None:
                logger.warning("api %s: integration uri %r names no function", api.api_id, uri)
                return None
            return LambdaProxy(target, self._invoke, timeout=timeout)
        if kind == "HTTP_PROXY":
            method = str(document.get("IntegrationMethod") or "ANY")
            return HttpProxy(uri, method, self._client, timeout=timeout)
        logger.warning("api %s: integration type %r is not served", api.api_id, kind)
        return None


def _timeout(document: dict[str, Any]) -> float:
    millis = document.get("TimeoutInMillis")
    return DEFAULT_TIMEOUT_SECONDS if not millis else int(millis) / 1000
