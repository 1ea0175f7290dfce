"""Shared HTTP API documents and helpers for the OpenAPI export and import tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from portico.services.apigatewayv2.openapi_export import export_api
from portico.services.apigatewayv2.openapi_import import ImportPlan

REGION = "eu-west-1"
ACCOUNT = "000000000000"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pets"
INVOKE_URI = (
    f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"
)
AUTH_URI = (
    f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:authorize/invocations"
)
CORS = {
    "AllowOrigins": ["https://www.example.com"],
    "AllowMethods": ["GET", "POST"],
    "AllowHeaders": ["authorization", "content-type"],
    "ExposeHeaders": ["x-request-id"],
    "MaxAge": 300,
    "AllowCredentials": True,
}
API: dict[str, Any] = {
    "ApiId": "a1b2c3d4e5",
    "Name": "pets",
    "Description": "The pet store",
    "ProtocolType": "HTTP",
    "ApiEndpoint": f"https://a1b2c3d4e5.execute-api.{REGION}.amazonaws.com",
    "CreatedDate": datetime(2024, 2, 2, 14, 22, 44, tzinfo=UTC),
    "CorsConfiguration": CORS,
    "RouteSelectionExpression": "$request.method $request.path",
}
LAMBDA = {
    "IntegrationId": "lam0001",
    "IntegrationType": "AWS_PROXY",
    "IntegrationMethod": "POST",
    "IntegrationUri": INVOKE_URI,
    "PayloadFormatVersion": "2.0",
    "ConnectionType": "INTERNET",
    "TimeoutInMillis": 30000,
}
BACKEND = {
    "IntegrationId": "http001",
    "IntegrationType": "HTTP_PROXY",
    "IntegrationMethod": "ANY",
    "IntegrationUri": "https://backend.example.com/files/{proxy}",
    "PayloadFormatVersion": "1.0",
    "ConnectionType": "INTERNET",
    "TimeoutInMillis": 12000,
    "RequestParameters": {"append:header.x-source": "$context.requestId"},
    "ResponseParameters": {"200": {"overwrite:header.cache-control": "max-age=60"}},
    "TlsConfig": {"ServerNameToVerify": "backend.example.com"},
}
SPARE = {**LAMBDA, "IntegrationId": "spare01", "PayloadFormatVersion": "1.0"}
JWT_AUTHORIZER = {
    "AuthorizerId": "jwt0001",
    "AuthorizerType": "JWT",
    "Name": "cognito",
    "IdentitySource": ["$request.header.Authorization"],
    "JwtConfiguration": {
        "Issuer": f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_pool",
        "Audience": ["client-a", "client-b"],
    },
}
LAMBDA_AUTHORIZER = {
    "AuthorizerId": "lau0001",
    "AuthorizerType": "REQUEST",
    "Name": "api-key",
    "AuthorizerUri": AUTH_URI,
    "AuthorizerPayloadFormatVersion": "2.0",
    "AuthorizerResultTtlInSeconds": 300,
    "EnableSimpleResponses": True,
    "IdentitySource": ["$request.header.X-Api-Key", "$request.querystring.tenant"],
}


def route(route_key: str, target: dict[str, Any] | None = None, **auth: Any) -> dict[str, Any]:
    route: dict[str, Any] = {"RouteId": route_key, "RouteKey": route_key, "ApiKeyRequired": False}
    route["AuthorizationType"] = auth.pop("AuthorizationType", "NONE")
    route.update(auth)
    if target is not None:
        route["Target"] = f"integrations/{target['IntegrationId']}"
    return route


ROUTES = [
    route(
        "GET /pets",
        LAMBDA,
        AuthorizationType="JWT",
        AuthorizerId="jwt0001",
        AuthorizationScopes=["pets/read"],
        OperationName="ListPets",
    ),
    route("POST /pets", LAMBDA, AuthorizationType="CUSTOM", AuthorizerId="lau0001"),
    route("GET /pets/{petId}", LAMBDA, AuthorizationType="AWS_IAM"),
    route("DELETE /pets/{petId}"),
    route("ANY /files/{proxy+}", BACKEND),
    route("$default", LAMBDA),
]


def export(**options: Any) -> dict[str, Any]:
    return export_api(
        API, ROUTES, [LAMBDA, BACKEND, SPARE], [JWT_AUTHORIZER, LAMBDA_AUTHORIZER], **options
    )


def definition(paths: dict[str, Any], **top: Any) -> str:
    document = {"openapi": "3.0.1", "info": {"title": "imported", "version": "1.0"}}
    return json.dumps({**document, "paths": paths, **top})


def lambda_extension(version: Any = "2.0", **extra: Any) -> dict[str, Any]:
    extension = {"type": "aws_proxy", "httpMethod": "POST", "uri": INVOKE_URI}
    return {**extension, "payloadFormatVersion": version, **extra}


def routes_of(plan: ImportPlan) -> dict[str, Any]:
    return {route.request["RouteKey"]: route for route in plan.routes}


def target(plan: ImportPlan, route_key: str) -> dict[str, Any] | None:
    index = routes_of(plan)[route_key].integration
    return None if index is None else plan.integrations[index].request


def without_ids(document: dict[str, Any], *ids: str) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in ids}


def created(request: dict[str, Any] | None) -> dict[str, Any] | None:
    """The integration CreateIntegration makes of `request` (AWS exports Lambda proxy
    integrations without their default 30 s timeout)."""
    return None if request is None else {"TimeoutInMillis": 30000, **request}
