"""Authorizers compiled from their GetAuthorizer documents, once per deployed stage.

AuthorizerType JWT      -> JwtAuthorizer (JwtConfiguration, IdentitySource)
AuthorizerType REQUEST  -> LambdaRequestAuthorizer (AuthorizerUri, payload format,
                           simple responses, identity sources, result TTL)
anything unusable       -> an authorizer that answers 500, so that one bad authorizer
                           fails its routes, not the deployment
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from portico.gateway.http_api import targets
from portico.gateway.http_api.authorization import Authorizer, AuthRequest, Granted
from portico.gateway.http_api.authorizers import refusals
from portico.gateway.http_api.authorizers.identity import IdentitySource, parse_sources
from portico.gateway.http_api.authorizers.jwks import JwksCache
from portico.gateway.http_api.authorizers.jwt import (
    DEFAULT_IDENTITY_SOURCE,
    JwtAuthorizer,
    JwtSettings,
)
from portico.gateway.http_api.authorizers.lambda_request import (
    LambdaRequestAuthorizer,
    LambdaSettings,
)
from portico.gateway.http_api.targets import Invoke
from portico.gateway.http_events import HttpResult

logger = logging.getLogger(__name__)


class Misconfigured:
    """An authorizer whose document cannot be served: every request gets a 500."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def authorize(self, request: AuthRequest) -> Granted | HttpResult:
        return refusals.internal_server_error()


def compile_authorizer(
    document: Mapping[str, Any],
    *,
    invoke: Invoke,
    jwks: JwksCache,
    clock: Callable[[], float],
) -> Authorizer:
    kind = document.get("AuthorizerType")
    try:
        if kind == "JWT":
            return JwtAuthorizer(jwt_settings(document), jwks, clock)
        if kind == "REQUEST":
            return LambdaRequestAuthorizer(lambda_settings(document), invoke, clock)
        raise ValueError(f"AuthorizerType must be JWT or REQUEST; got {kind!r}")
    except ValueError as error:
        name = document.get("Name") or document.get("AuthorizerId")
        logger.warning("authorizer %s is not served: %s", name, error)
        return Misconfigured(str(error))


def jwt_settings(document: Mapping[str, Any]) -> JwtSettings:
    configuration = document.get("JwtConfiguration") or {}
    issuer = configuration.get("Issuer")
    if not isinstance(issuer, str) or not issuer:
        raise ValueError("JwtConfiguration.Issuer is required for a JWT authorizer")
    audiences = frozenset(str(entry) for entry in configuration.get("Audience") or ())
    sources = parse_sources(document.get("IdentitySource") or (DEFAULT_IDENTITY_SOURCE,))
    if len(sources) != 1:
        raise ValueError("a JWT authorizer takes exactly one identity source")
    return JwtSettings(issuer, audiences, sources[0])


def lambda_settings(document: Mapping[str, Any]) -> LambdaSettings:
    version = str(document.get("AuthorizerPayloadFormatVersion") or "2.0")
    if version not in ("1.0", "2.0"):
        raise ValueError(f"AuthorizerPayloadFormatVersion must be 1.0 or 2.0; got {version!r}")
    uri = str(document.get("AuthorizerUri") or "")
    sources: tuple[IdentitySource, ...] = parse_sources(document.get("IdentitySource") or ())
    return LambdaSettings(
        name=str(document.get("Name") or document.get("AuthorizerId") or ""),
        target=targets.lambda_target(uri),
        authorizer_id=str(document.get("AuthorizerId") or ""),
        # With credentials, API Gateway invokes as that role, not as the service.
        as_service=not document.get("AuthorizerCredentialsArn"),
        payload_version=version,
        simple_responses=bool(document.get("EnableSimpleResponses")),
        identity_sources=sources,
        ttl_seconds=int(document.get("AuthorizerResultTtlInSeconds") or 0),
    )
