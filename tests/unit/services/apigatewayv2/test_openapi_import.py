"""OpenAPI import: documented definitions, warnings and errors."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest

from portico.services.apigatewayv2.errors import BadRequestException
from portico.services.apigatewayv2.openapi_import import plan_import
from tests.unit.services.apigatewayv2.openapi_documents import (
    AUTH_URI,
    FUNCTION_ARN,
    INVOKE_URI,
    REGION,
    definition,
    lambda_extension,
    routes_of,
    target,
)


def test_import_of_the_documented_pet_store() -> None:
    pets = "http://petstore.example.com/petstore/pets"
    proxy = {"type": "HTTP_PROXY", "payloadFormatVersion": 1.0}
    body = definition(
        {
            "/pets": {
                "get": {
                    "operationId": "GET HTTP",
                    "parameters": [{"name": "type", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "200 response"}},
                    "x-amazon-apigateway-integration": {**proxy, "httpMethod": "GET", "uri": pets},
                },
                "post": {
                    "operationId": "Create Pet",
                    "requestBody": {"content": {"application/json": {"schema": {}}}},
                    "x-amazon-apigateway-integration": {**proxy, "httpMethod": "POST", "uri": pets},
                },
            },
            "/pets/{petId}": {
                "get": {
                    "parameters": [{"name": "petId", "in": "path", "required": True}],
                    "x-amazon-apigateway-integration": {
                        **proxy,
                        "httpMethod": "GET",
                        "uri": pets + "/{petId}",
                    },
                }
            },
        },
        **{
            "x-amazon-apigateway-cors": {
                "allowOrigins": ["*"],
                "allowMethods": ["GET", "OPTIONS", "POST"],
                "allowHeaders": ["x-api-key", "content-type"],
            }
        },
    )
    plan = plan_import(body)
    assert list(routes_of(plan)) == ["GET /pets", "POST /pets", "GET /pets/{petId}"]
    assert routes_of(plan)["GET /pets"].request["OperationName"] == "GET HTTP"
    assert target(plan, "GET /pets/{petId}") == {
        "IntegrationType": "HTTP_PROXY",
        "IntegrationMethod": "GET",
        "IntegrationUri": pets + "/{petId}",
        "PayloadFormatVersion": "1.0",
        "ConnectionType": "INTERNET",
    }
    assert plan.api["CorsConfiguration"] == {
        "AllowOrigins": ["*"],
        "AllowMethods": ["GET", "OPTIONS", "POST"],
        "AllowHeaders": ["x-api-key", "content-type"],
    }
    assert plan.warnings == []
    assert any("requestBody" in info for info in plan.import_info)


def test_integrations_in_components_are_shared_by_reference() -> None:
    reference = {"$ref": "#/components/x-amazon-apigateway-integrations/integration1"}
    body = definition(
        {
            "/": {"get": {"x-amazon-apigateway-integration": reference}},
            "/pets": {"get": {"x-amazon-apigateway-integration": reference}},
        },
        components={
            "x-amazon-apigateway-integrations": {
                "integration1": lambda_extension("1.0", passthroughBehavior="when_no_templates"),
            }
        },
    )
    plan = plan_import(body)
    assert [integration.name for integration in plan.integrations] == ["integration1"]
    assert routes_of(plan)["GET /"].integration == routes_of(plan)["GET /pets"].integration == 0
    assert plan.integrations[0].request["PayloadFormatVersion"] == "1.0"
    assert any("passthroughBehavior" in info for info in plan.import_info)


def test_the_documented_default_route_and_any_method() -> None:
    body = definition(
        {
            "/$default": {
                "x-amazon-apigateway-any-method": {
                    "isDefaultRoute": True,
                    "x-amazon-apigateway-integration": lambda_extension(1.0, timeoutInMillis=1000),
                }
            },
            "/{proxy+}": {"x-amazon-apigateway-any-method": {}},
        }
    )
    plan = plan_import(body)
    assert list(routes_of(plan)) == ["$default", "ANY /{proxy+}"]
    assert target(plan, "$default") == {
        "IntegrationType": "AWS_PROXY",
        "IntegrationMethod": "POST",
        "IntegrationUri": INVOKE_URI,
        "PayloadFormatVersion": "1.0",
        "TimeoutInMillis": 1000,
        "ConnectionType": "INTERNET",
    }
    assert target(plan, "ANY /{proxy+}") is None


def test_the_documented_jwt_authorizers() -> None:
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/pool"
    body = definition(
        {
            "/orders": {"get": {"security": [{"oauth": ["orders/read"]}]}},
            "/stock": {"get": {"security": [{"autofind": []}]}},
        },
        components={
            "securitySchemes": {
                "oauth": {
                    "type": "oauth2",
                    "x-amazon-apigateway-authorizer": {
                        "type": "jwt",
                        "jwtConfiguration": {"issuer": issuer, "audience": ["aud1"]},
                        "identitySource": "$request.header.Authorization",
                    },
                },
                "autofind": {
                    "type": "openIdConnect",
                    "openIdConnectUrl": f"{issuer}/.well-known/openid-configuration",
                    "x-amazon-apigateway-authorizer": {
                        "type": "jwt",
                        "jwtConfiguration": {"audience": ["aud2"]},
                        "identitySource": "$request.header.Authorization",
                    },
                },
            }
        },
    )
    plan = plan_import(body)
    authorizers = {authorizer.name: authorizer.request for authorizer in plan.authorizers}
    assert authorizers["autofind"]["JwtConfiguration"] == {"Issuer": issuer, "Audience": ["aud2"]}
    assert routes_of(plan)["GET /orders"].request == {
        "RouteKey": "GET /orders",
        "AuthorizationType": "JWT",
        "AuthorizationScopes": ["orders/read"],
    }
    assert routes_of(plan)["GET /orders"].authorizer == "oauth"


def test_the_documented_lambda_authorizer_and_document_wide_security() -> None:
    body = definition(
        {"/open": {"get": {"security": []}}, "/closed": {"get": {}}},
        security=[{"lambda-authorizer": []}],
        components={
            "securitySchemes": {
                "lambda-authorizer": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authorizer": {
                        "type": "request",
                        "identitySource": "$request.header.Authorization",
                        "authorizerUri": AUTH_URI,
                        "authorizerPayloadFormatVersion": "2.0",
                        "authorizerResultTtlInSeconds": "300",
                        "enableSimpleResponses": True,
                    },
                }
            }
        },
    )
    plan = plan_import(body)
    assert plan.authorizers[0].request == {
        "AuthorizerType": "REQUEST",
        "Name": "lambda-authorizer",
        "IdentitySource": ["$request.header.Authorization"],
        "AuthorizerUri": AUTH_URI,
        "AuthorizerPayloadFormatVersion": "2.0",
        "AuthorizerResultTtlInSeconds": 300,
        "EnableSimpleResponses": True,
    }
    assert routes_of(plan)["GET /open"].request["AuthorizationType"] == "NONE"
    assert routes_of(plan)["GET /closed"].request["AuthorizationType"] == "CUSTOM"
    assert routes_of(plan)["GET /closed"].authorizer == "lambda-authorizer"


def test_base_path_is_ignored_prepended_or_split() -> None:
    body = definition(
        {"/pets": {"get": {}}, "/": {"get": {}}},
        servers=[
            {
                "url": "https://example.com/{basePath}",
                "variables": {"basePath": {"default": "a/b/c"}},
            }
        ],
    )
    assert list(routes_of(plan_import(body))) == ["GET /pets", "GET /"]
    assert list(routes_of(plan_import(body, basepath="prepend"))) == [
        "GET /a/b/c/pets",
        "GET /a/b/c",
    ]
    assert list(routes_of(plan_import(body, basepath="split"))) == ["GET /b/c/pets", "GET /b/c"]
    with pytest.raises(BadRequestException, match="basepath"):
        plan_import(body, basepath="strip")


def test_yaml_definitions_are_read_when_pyyaml_is_installed() -> None:
    if importlib.util.find_spec("yaml") is None:
        pytest.skip("PyYAML is not installed")
    body = (
        "openapi: 3.0.1\n"
        "info:\n  title: yaml-api\n  version: '1'\n"
        "paths:\n  /pets:\n    get:\n      x-amazon-apigateway-integration:\n"
        f"        type: AWS_PROXY\n        uri: {INVOKE_URI}\n        payloadFormatVersion: 2.0\n"
    )
    plan = plan_import(body)
    assert plan.api["Name"] == "yaml-api"
    assert target(plan, "GET /pets") == {
        "IntegrationType": "AWS_PROXY",
        "IntegrationUri": INVOKE_URI,
        "PayloadFormatVersion": "2.0",
        "ConnectionType": "INTERNET",
    }


def test_yaml_without_pyyaml_is_refused_naming_the_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "yaml" else find_spec(name)
    )
    with pytest.raises(BadRequestException, match="YAML definitions are not supported"):
        plan_import("openapi: 3.0.1\n")
    with pytest.raises(BadRequestException, match="as JSON"):
        plan_import('{"openapi": "3.0.1",')


# Import: what AWS warns about (the part is left out) and refuses.


def test_integration_types_http_apis_lack_are_warnings() -> None:
    body = definition(
        {
            "/": {
                "get": {
                    "x-amazon-apigateway-integration": {
                        "type": "AWS",
                        "httpMethod": "POST",
                        "uri": FUNCTION_ARN,
                        "payloadFormatVersion": "1.0",
                    }
                }
            }
        }
    )
    plan = plan_import(body)
    assert target(plan, "GET /") is None
    assert len(plan.warnings) == 1
    assert "integration type 'AWS' is not supported" in plan.warnings[0]
    with pytest.raises(BadRequestException) as refused:
        plan_import(body, fail_on_warnings=True)
    assert refused.value.message.startswith("Warnings found during import:\n\t")
    assert "'AWS'" in refused.value.message


@pytest.mark.parametrize(
    ("extension", "problem"),
    [
        (lambda_extension(version=None), "payloadFormatVersion must be 1.0 or 2.0"),
        (lambda_extension(uri="https://example.com"), "is not a Lambda function"),
        ({"type": "http_proxy", "uri": "https://example.com"}, "httpMethod are required"),
        (lambda_extension(timeoutInMillis=40000), "timeoutInMillis must be between"),
        (lambda_extension(connectionType="VPC_LINK"), "connectionId is required"),
        (lambda_extension(requestParameters={"a": 1}), "requestParameters must be"),
    ],
)
def test_integrations_that_cannot_be_built_are_warnings(
    extension: dict[str, Any], problem: str
) -> None:
    plan = plan_import(definition({"/": {"get": {"x-amazon-apigateway-integration": extension}}}))
    assert list(routes_of(plan)) == ["GET /"]
    assert target(plan, "GET /") is None
    assert plan.warnings[0].startswith("Unable to create integration for route 'GET /': ")
    assert problem in plan.warnings[0]


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/files/{proxy+}/meta", "must be the last segment"),
        ("/a/{id}/{id}", "appears twice"),
        ("/files/{name}.json", "invalid path segment"),
        ("/a//b", "invalid path segment"),
    ],
)
def test_route_paths_http_apis_cannot_serve_are_warnings(path: str, problem: str) -> None:
    plan = plan_import(definition({path: {"get": {}}, "/ok": {"get": {}}}))
    assert list(routes_of(plan)) == ["GET /ok"]
    assert len(plan.warnings) == 1
    assert plan.warnings[0].startswith(f"Unable to create route 'GET {path}': ")
    assert problem in plan.warnings[0]


def test_paths_must_start_with_a_slash() -> None:
    plan = plan_import(definition({"$default": {"x-amazon-apigateway-any-method": {}}}))
    assert plan.routes == []
    assert plan.warnings == ["Parse issue: attribute paths. Resource $default should start with /"]


def test_unsupported_methods_and_undeclared_path_parameters_are_warnings() -> None:
    body = definition(
        {
            "/pets/{id}": {
                "trace": {},
                "get": {"parameters": [{"name": "petId", "in": "path", "required": True}]},
                "parameters": [{"name": "id", "in": "path", "required": True}],
            }
        }
    )
    plan = plan_import(body)
    assert list(routes_of(plan)) == ["GET /pets/{id}"]
    assert len(plan.warnings) == 2
    assert "paths.'/pets/{id}'.trace is not supported" in plan.warnings[0]
    assert "path parameter 'petId'" in plan.warnings[1]


def test_routes_naming_an_unusable_security_scheme_are_left_out() -> None:
    body = definition(
        {
            "/a": {"get": {"security": [{"missing": []}]}},
            "/b": {"get": {"security": [{"bearer": []}]}},
            "/c": {"get": {"security": [{"broken": []}]}},
        },
        components={
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "broken": {
                    "type": "apiKey",
                    "x-amazon-apigateway-authorizer": {
                        "type": "request",
                        "authorizerUri": AUTH_URI,
                    },
                },
            }
        },
    )
    plan = plan_import(body)
    assert plan.routes == []
    assert plan.authorizers == []
    assert plan.warnings[0] == (
        "Unable to create Authorizer 'broken': authorizerPayloadFormatVersion must be 1.0 or 2.0"
    )
    assert "security scheme 'missing' is not defined" in plan.warnings[1]
    assert "security scheme 'bearer' is not an authorizer" in plan.warnings[2]
    assert "security scheme 'broken' is not an authorizer" in plan.warnings[3]


def test_sigv4_security_makes_iam_routes() -> None:
    body = definition(
        {"/a": {"get": {"security": [{"sigv4": []}]}}},
        components={
            "securitySchemes": {
                "sigv4": {"type": "apiKey", "x-amazon-apigateway-authtype": "awsSigv4"}
            }
        },
    )
    route = routes_of(plan_import(body))["GET /a"]
    assert route.request["AuthorizationType"] == "AWS_IAM"
    assert route.authorizer is None


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"swagger": "2.0", "info": {"title": "t"}, "paths": {}}, "Unsupported swagger '2.0'"),
        ({"openapi": "2.5", "info": {"title": "t"}}, "Unsupported OpenAPI version '2.5'"),
        ({"info": {"title": "t"}, "paths": {}}, "attribute openapi is missing"),
        ({"openapi": "3.0.1", "paths": {}}, "attribute info is missing"),
        ({"openapi": "3.0.1", "info": {"version": "1"}, "paths": {}}, "info.title is missing"),
        (
            {
                "openapi": "3.0.1",
                "info": {"title": "t"},
                "x-amazon-apigateway-importexport-version": "2.0",
            },
            "importexport-version '2.0'",
        ),
        (
            {
                "openapi": "3.0.1",
                "info": {"title": "t"},
                "paths": {"/": {"get": {"security": [{"a": []}, {"b": []}]}}},
            },
            "Multiple security requirements are not supported for paths.'/'(get)",
        ),
        (["openapi"], "must be an object"),
    ],
)
def test_malformed_definitions_are_errors(document: object, problem: str) -> None:
    with pytest.raises(BadRequestException) as refused:
        plan_import(json.dumps(document))
    assert refused.value.message.startswith("Errors found during import:\n\t")
    assert problem in refused.value.message
    assert refused.value.code == "BadRequestException"
    assert refused.value.status_code == 400


def test_empty_and_unparseable_bodies_are_errors() -> None:
    with pytest.raises(BadRequestException, match="empty"):
        plan_import("  ")
    with pytest.raises(BadRequestException, match="nested too deeply"):
        plan_import("[" * 100_000)
