from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from portico.services.apigatewayv2.errors import BadRequestException
from portico.services.apigatewayv2.openapi_export import export_api, render_export
from portico.services.apigatewayv2.openapi_import import ImportPlan, plan_import

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


def _route(route_key: str, target: dict[str, Any] | None = None, **auth: Any) -> dict[str, Any]:
    route: dict[str, Any] = {"RouteId": route_key, "RouteKey": route_key, "ApiKeyRequired": False}
    route["AuthorizationType"] = auth.pop("AuthorizationType", "NONE")
    route.update(auth)
    if target is not None:
        route["Target"] = f"integrations/{target['IntegrationId']}"
    return route


ROUTES = [
    _route(
        "GET /pets",
        LAMBDA,
        AuthorizationType="JWT",
        AuthorizerId="jwt0001",
        AuthorizationScopes=["pets/read"],
        OperationName="ListPets",
    ),
    _route("POST /pets", LAMBDA, AuthorizationType="CUSTOM", AuthorizerId="lau0001"),
    _route("GET /pets/{petId}", LAMBDA, AuthorizationType="AWS_IAM"),
    _route("DELETE /pets/{petId}"),
    _route("ANY /files/{proxy+}", BACKEND),
    _route("$default", LAMBDA),
]


def _export(**options: Any) -> dict[str, Any]:
    return export_api(
        API, ROUTES, [LAMBDA, BACKEND, SPARE], [JWT_AUTHORIZER, LAMBDA_AUTHORIZER], **options
    )


def _definition(paths: dict[str, Any], **top: Any) -> str:
    document = {"openapi": "3.0.1", "info": {"title": "imported", "version": "1.0"}}
    return json.dumps({**document, "paths": paths, **top})


def _lambda_extension(version: Any = "2.0", **extra: Any) -> dict[str, Any]:
    extension = {"type": "aws_proxy", "httpMethod": "POST", "uri": INVOKE_URI}
    return {**extension, "payloadFormatVersion": version, **extra}


def _routes(plan: ImportPlan) -> dict[str, Any]:
    return {route.request["RouteKey"]: route for route in plan.routes}


def _target(plan: ImportPlan, route_key: str) -> dict[str, Any] | None:
    index = _routes(plan)[route_key].integration
    return None if index is None else plan.integrations[index].request


def _without_ids(document: dict[str, Any], *ids: str) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in ids}


def _created(request: dict[str, Any] | None) -> dict[str, Any] | None:
    """The integration CreateIntegration makes of `request` (AWS exports Lambda proxy
    integrations without their default 30 s timeout)."""
    return None if request is None else {"TimeoutInMillis": 30000, **request}


# Round trip: what export writes, import reads back.


def test_export_then_import_gives_back_the_routes_and_their_authorization() -> None:
    plan = plan_import(json.dumps(_export()))
    routes = _routes(plan)
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
    plan = plan_import(json.dumps(_export()))
    for route in ROUTES:
        original = {"lam0001": LAMBDA, "http001": BACKEND}.get(route.get("Target", "")[13:])
        imported = _target(plan, route["RouteKey"])
        if original is None:
            assert imported is None
        else:
            assert _created(imported) == _without_ids(original, "IntegrationId")
    unused = [integration for integration in plan.integrations if integration.name]
    assert [(item.name, _created(item.request)) for item in unused] == [
        ("unusedIntegration_spare01", _without_ids(SPARE, "IntegrationId"))
    ]


def test_export_then_import_gives_back_the_authorizers_and_cors() -> None:
    plan = plan_import(json.dumps(_export()))
    authorizers = {authorizer.name: authorizer.request for authorizer in plan.authorizers}
    assert authorizers == {
        "cognito": _without_ids(JWT_AUTHORIZER, "AuthorizerId"),
        "api-key": _without_ids(LAMBDA_AUTHORIZER, "AuthorizerId"),
    }
    assert plan.api == {
        "Name": "pets",
        "ProtocolType": "HTTP",
        "Description": "The pet store",
        "Version": "2024-02-02 14:22:44UTC",
        "CorsConfiguration": CORS,
    }


def test_the_rendered_export_imports_the_same_as_the_document() -> None:
    document = _export()
    rendered = render_export(document)
    assert json.loads(rendered) == document
    assert plan_import(rendered.decode()) == plan_import(json.dumps(document))


# Export: the document as AWS writes it.


def test_export_writes_routes_as_aws_does() -> None:
    document = _export()
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
    schemes = _export()["components"]["securitySchemes"]
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
    document = _export(stage={"StageName": "prod"})
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
    default_stage = _export(stage={"StageName": "$default"})["servers"][0]
    assert default_stage["variables"]["basePath"]["default"] == ""
    versioned = export_api({**API, "Version": "v7"}, [], [], [])
    assert versioned["info"]["version"] == "v7"
    assert "components" not in versioned


def test_export_without_extensions_keeps_routes_and_drops_gateway_settings() -> None:
    document = _export(include_extensions=False)
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
        _export(specification="OAS20")


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


def test_import_of_the_documented_pet_store() -> None:
    pets = "http://petstore.example.com/petstore/pets"
    proxy = {"type": "HTTP_PROXY", "payloadFormatVersion": 1.0}
    body = _definition(
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
    assert list(_routes(plan)) == ["GET /pets", "POST /pets", "GET /pets/{petId}"]
    assert _routes(plan)["GET /pets"].request["OperationName"] == "GET HTTP"
    assert _target(plan, "GET /pets/{petId}") == {
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
    body = _definition(
        {
            "/": {"get": {"x-amazon-apigateway-integration": reference}},
            "/pets": {"get": {"x-amazon-apigateway-integration": reference}},
        },
        components={
            "x-amazon-apigateway-integrations": {
                "integration1": _lambda_extension("1.0", passthroughBehavior="when_no_templates"),
            }
        },
    )
    plan = plan_import(body)
    assert [integration.name for integration in plan.integrations] == ["integration1"]
    assert _routes(plan)["GET /"].integration == _routes(plan)["GET /pets"].integration == 0
    assert plan.integrations[0].request["PayloadFormatVersion"] == "1.0"
    assert any("passthroughBehavior" in info for info in plan.import_info)


def test_the_documented_default_route_and_any_method() -> None:
    body = _definition(
        {
            "/$default": {
                "x-amazon-apigateway-any-method": {
                    "isDefaultRoute": True,
                    "x-amazon-apigateway-integration": _lambda_extension(1.0, timeoutInMillis=1000),
                }
            },
            "/{proxy+}": {"x-amazon-apigateway-any-method": {}},
        }
    )
    plan = plan_import(body)
    assert list(_routes(plan)) == ["$default", "ANY /{proxy+}"]
    assert _target(plan, "$default") == {
        "IntegrationType": "AWS_PROXY",
        "IntegrationMethod": "POST",
        "IntegrationUri": INVOKE_URI,
        "PayloadFormatVersion": "1.0",
        "TimeoutInMillis": 1000,
        "ConnectionType": "INTERNET",
    }
    assert _target(plan, "ANY /{proxy+}") is None


def test_the_documented_jwt_authorizers() -> None:
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/pool"
    body = _definition(
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
    assert _routes(plan)["GET /orders"].request == {
        "RouteKey": "GET /orders",
        "AuthorizationType": "JWT",
        "AuthorizationScopes": ["orders/read"],
    }
    assert _routes(plan)["GET /orders"].authorizer == "oauth"


def test_the_documented_lambda_authorizer_and_document_wide_security() -> None:
    body = _definition(
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
    assert _routes(plan)["GET /open"].request["AuthorizationType"] == "NONE"
    assert _routes(plan)["GET /closed"].request["AuthorizationType"] == "CUSTOM"
    assert _routes(plan)["GET /closed"].authorizer == "lambda-authorizer"


def test_base_path_is_ignored_prepended_or_split() -> None:
    body = _definition(
        {"/pets": {"get": {}}, "/": {"get": {}}},
        servers=[
            {
                "url": "https://example.com/{basePath}",
                "variables": {"basePath": {"default": "a/b/c"}},
            }
        ],
    )
    assert list(_routes(plan_import(body))) == ["GET /pets", "GET /"]
    assert list(_routes(plan_import(body, basepath="prepend"))) == ["GET /a/b/c/pets", "GET /a/b/c"]
    assert list(_routes(plan_import(body, basepath="split"))) == ["GET /b/c/pets", "GET /b/c"]
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
    assert _target(plan, "GET /pets") == {
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
    body = _definition(
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
    assert _target(plan, "GET /") is None
    assert len(plan.warnings) == 1
    assert "integration type 'AWS' is not supported" in plan.warnings[0]
    with pytest.raises(BadRequestException) as refused:
        plan_import(body, fail_on_warnings=True)
    assert refused.value.message.startswith("Warnings found during import:\n\t")
    assert "'AWS'" in refused.value.message


@pytest.mark.parametrize(
    ("extension", "problem"),
    [
        (_lambda_extension(version=None), "payloadFormatVersion must be 1.0 or 2.0"),
        (_lambda_extension(uri="https://example.com"), "is not a Lambda function"),
        ({"type": "http_proxy", "uri": "https://example.com"}, "httpMethod are required"),
        (_lambda_extension(timeoutInMillis=40000), "timeoutInMillis must be between"),
        (_lambda_extension(connectionType="VPC_LINK"), "connectionId is required"),
        (_lambda_extension(requestParameters={"a": 1}), "requestParameters must be"),
    ],
)
def test_integrations_that_cannot_be_built_are_warnings(
    extension: dict[str, Any], problem: str
) -> None:
    plan = plan_import(_definition({"/": {"get": {"x-amazon-apigateway-integration": extension}}}))
    assert list(_routes(plan)) == ["GET /"]
    assert _target(plan, "GET /") is None
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
    plan = plan_import(_definition({path: {"get": {}}, "/ok": {"get": {}}}))
    assert list(_routes(plan)) == ["GET /ok"]
    assert len(plan.warnings) == 1
    assert plan.warnings[0].startswith(f"Unable to create route 'GET {path}': ")
    assert problem in plan.warnings[0]


def test_paths_must_start_with_a_slash() -> None:
    plan = plan_import(_definition({"$default": {"x-amazon-apigateway-any-method": {}}}))
    assert plan.routes == []
    assert plan.warnings == ["Parse issue: attribute paths. Resource $default should start with /"]


def test_unsupported_methods_and_undeclared_path_parameters_are_warnings() -> None:
    body = _definition(
        {
            "/pets/{id}": {
                "trace": {},
                "get": {"parameters": [{"name": "petId", "in": "path", "required": True}]},
                "parameters": [{"name": "id", "in": "path", "required": True}],
            }
        }
    )
    plan = plan_import(body)
    assert list(_routes(plan)) == ["GET /pets/{id}"]
    assert len(plan.warnings) == 2
    assert "paths.'/pets/{id}'.trace is not supported" in plan.warnings[0]
    assert "path parameter 'petId'" in plan.warnings[1]


def test_routes_naming_an_unusable_security_scheme_are_left_out() -> None:
    body = _definition(
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
    body = _definition(
        {"/a": {"get": {"security": [{"sigv4": []}]}}},
        components={
            "securitySchemes": {
                "sigv4": {"type": "apiKey", "x-amazon-apigateway-authtype": "awsSigv4"}
            }
        },
    )
    route = _routes(plan_import(body))["GET /a"]
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
