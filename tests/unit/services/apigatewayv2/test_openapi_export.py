"""OpenAPI export: AWS's layout, and export then import gives the API back."""

from __future__ import annotations

import json

import pytest

from portico.services.apigatewayv2.errors import BadRequestException
from portico.services.apigatewayv2.openapi_export import export_api, render_export
from portico.services.apigatewayv2.openapi_import import plan_import
from tests.unit.services.apigatewayv2.openapi_documents import (
    API,
    AUTH_URI,
    BACKEND,
    CORS,
    INVOKE_URI,
    JWT_AUTHORIZER,
    LAMBDA,
    LAMBDA_AUTHORIZER,
    ROUTES,
    SPARE,
    created,
    export,
    routes_of,
    target,
    without_ids,
)

# Round trip: what export writes, import reads back.


def test_export_then_import_gives_back_the_routes_and_their_authorization() -> None:
    plan = plan_import(json.dumps(export()))
    routes = routes_of(plan)
    assert set(routes) == {route["RouteKey"] for route in ROUTES}
    for original in ROUTES:
        imported = routes[original["RouteKey"]]
        assert imported.request["AuthorizationType"] == original["AuthorizationType"]
        assert imported.request.get("AuthorizationScopes") == original.get("AuthorizationScopes")
        assert imported.request.get("OperationName") == original.get("OperationName")
    assert routes["GET /pets"].authorizer == "cognito"
    assert routes["POST /pets"].authorizer == "api-key"
    assert routes["GET /pets/{petId}"].authorizer is None
    assert plan.warnings == []


def test_export_then_import_gives_back_each_routes_integration() -> None:
    plan = plan_import(json.dumps(export()))
    for route in ROUTES:
        original = {"lam0001": LAMBDA, "http001": BACKEND}.get(route.get("Target", "")[13:])
        imported = target(plan, route["RouteKey"])
        if original is None:
            assert imported is None
        else:
            assert created(imported) == without_ids(original, "IntegrationId")
    unused = [integration for integration in plan.integrations if integration.name]
    assert [(item.name, created(item.request)) for item in unused] == [
        ("unusedIntegration_spare01", without_ids(SPARE, "IntegrationId"))
    ]


def test_export_then_import_gives_back_the_authorizers_and_cors() -> None:
    plan = plan_import(json.dumps(export()))
    authorizers = {authorizer.name: authorizer.request for authorizer in plan.authorizers}
    assert authorizers == {
        "cognito": without_ids(JWT_AUTHORIZER, "AuthorizerId"),
        "api-key": without_ids(LAMBDA_AUTHORIZER, "AuthorizerId"),
    }
    assert plan.api == {
        "Name": "pets",
        "ProtocolType": "HTTP",
        "Description": "The pet store",
        "Version": "2024-02-02 14:22:44UTC",
        "CorsConfiguration": CORS,
    }


def test_the_rendered_export_imports_the_same_as_the_document() -> None:
    document = export()
    rendered = render_export(document)
    assert json.loads(rendered) == document
    assert plan_import(rendered.decode()) == plan_import(json.dumps(document))


# Export: the document as AWS writes it.


def test_export_writes_routes_as_aws_does() -> None:
    document = export()
    assert document["openapi"] == "3.0.1"
    assert document["x-amazon-apigateway-importexport-version"] == "1.0"
    paths = document["paths"]
    assert list(paths) == ["/pets", "/pets/{petId}", "/files/{proxy+}", "/$default"]
    assert paths["/$default"]["x-amazon-apigateway-any-method"]["isDefaultRoute"] is True
    listing = paths["/pets"]["get"]
    assert listing["operationId"] == "ListPets"
    assert listing["security"] == [{"cognito": ["pets/read"]}]
    assert listing["responses"] == {"default": {"description": "Default response for GET /pets"}}
    assert listing["x-amazon-apigateway-integration"] == {
        "payloadFormatVersion": "2.0",
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": INVOKE_URI,
        "connectionType": "INTERNET",
    }
    assert paths["/pets"]["post"]["security"] == [{"api-key": []}]
    assert paths["/pets/{petId}"]["get"]["security"] == [{"sigv4": []}]
    assert "x-amazon-apigateway-integration" not in paths["/pets/{petId}"]["delete"]
    assert list(paths["/pets/{petId}"]) == ["get", "delete", "parameters"]
    assert paths["/files/{proxy+}"]["parameters"] == [
        {
            "name": "proxy+",
            "in": "path",
            "description": "Generated path parameter for proxy+",
            "required": True,
            "schema": {"type": "string"},
        }
    ]


def test_export_writes_authorizers_as_security_schemes() -> None:
    schemes = export()["components"]["securitySchemes"]
    assert schemes["cognito"] == {
        "type": "oauth2",
        "flows": {},
        "x-amazon-apigateway-authorizer": {
            "identitySource": "$request.header.Authorization",
            "jwtConfiguration": {
                "audience": ["client-a", "client-b"],
                "issuer": JWT_AUTHORIZER["JwtConfiguration"]["Issuer"],
            },
            "type": "jwt",
        },
    }
    assert schemes["api-key"]["name"] == "X-Api-Key"
    assert schemes["api-key"]["in"] == "header"
    assert schemes["api-key"]["x-amazon-apigateway-authorizer"] == {
        "identitySource": "$request.header.X-Api-Key, $request.querystring.tenant",
        "authorizerUri": AUTH_URI,
        "authorizerPayloadFormatVersion": "2.0",
        "authorizerResultTtlInSeconds": 300,
        "type": "request",
        "enableSimpleResponses": True,
    }
    assert schemes["sigv4"] == {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "awsSigv4",
    }


def test_export_info_and_servers_follow_the_api_and_stage() -> None:
    document = export(stage={"StageName": "prod"})
    assert document["info"] == {
        "title": "pets",
        "description": "The pet store",
        "version": "2024-02-02 14:22:44UTC",
    }
    assert document["servers"] == [
        {
            "url": f"{API['ApiEndpoint']}/{{basePath}}",
            "variables": {"basePath": {"default": "prod"}},
        }
    ]
    default_stage = export(stage={"StageName": "$default"})["servers"][0]
    assert default_stage["variables"]["basePath"]["default"] == ""
    versioned = export_api({**API, "Version": "v7"}, [], [], [])
    assert versioned["info"]["version"] == "v7"
    assert "components" not in versioned


def test_export_without_extensions_keeps_routes_and_drops_gateway_settings() -> None:
    document = export(include_extensions=False)
    text = json.dumps(document)
    for extension in (
        "x-amazon-apigateway-integration",
        "x-amazon-apigateway-authorizer",
        "x-amazon-apigateway-cors",
        "x-amazon-apigateway-importexport-version",
        "x-amazon-apigateway-authtype",
    ):
        assert extension not in text
    assert document["paths"]["/pets"]["get"]["security"] == [{"cognito": ["pets/read"]}]
    assert document["components"]["securitySchemes"]["cognito"] == {"type": "oauth2", "flows": {}}


def test_only_oas30_is_exported() -> None:
    with pytest.raises(BadRequestException, match="OAS30"):
        export(specification="OAS20")


def test_json_is_rendered_in_aws_layout() -> None:
    rendered = render_export(
        {"openapi": "3.0.1", "servers": [{"url": "u"}], "flows": {}, "tags": [], "x": ["a", "b"]}
    ).decode()
    assert rendered == (
        "{\n"
        '  "openapi" : "3.0.1",\n'
        '  "servers" : [ {\n'
        '    "url" : "u"\n'
        "  } ],\n"
        '  "flows" : { },\n'
        '  "tags" : [ ],\n'
        '  "x" : [ "a", "b" ]\n'
        "}"
    )


def test_an_unknown_output_type_is_refused() -> None:
    with pytest.raises(BadRequestException, match="outputType"):
        render_export({}, "XML")


# Import: AWS's documented definitions.
