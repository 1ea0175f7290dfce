"""ImportApi, ReimportApi and ExportApi through the real server with boto3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, error_of, serving

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:000000000000:function:fn"


def definition(title: str, paths: dict[str, Any]) -> str:
    return json.dumps(
        {
            "openapi": "3.0.1",
            "info": {"title": title, "version": "1.0"},
            "paths": paths,
            "components": {
                "securitySchemes": {
                    "jwt": {
                        "type": "oauth2",
                        "flows": {},
                        "x-amazon-apigateway-authorizer": {
                            "type": "jwt",
                            "identitySource": "$request.header.Authorization",
                            "jwtConfiguration": {
                                "issuer": "https://issuer.example.com",
                                "audience": ["pets"],
                            },
                        },
                    }
                }
            },
        }
    )


LAMBDA = {
    "x-amazon-apigateway-integration": {
        "type": "aws_proxy",
        "uri": FUNCTION_ARN,
        "httpMethod": "POST",
        "payloadFormatVersion": "2.0",
    }
}
PETS = definition(
    "pets",
    {
        "/pets": {"get": {**LAMBDA, "security": [{"jwt": ["read"]}]}},
        "/pets/{id}": {
            "delete": {
                "x-amazon-apigateway-integration": {
                    "type": "http_proxy",
                    "uri": "https://backend.example.com/pets/{id}",
                    "httpMethod": "DELETE",
                    "payloadFormatVersion": "1.0",
                }
            }
        },
    },
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serving(tmp_path_factory.mktemp("apigatewayv2-openapi"))


@pytest.fixture
def client(server: Server) -> Any:
    return server.client("apigatewayv2")


def test_import_builds_the_api(client: Any) -> None:
    imported = client.import_api(Body=PETS)
    assert imported["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (imported["Name"], imported["Version"], imported["ProtocolType"]) == (
        "pets",
        "1.0",
        "HTTP",
    )
    api_id = imported["ApiId"]
    routes = {route["RouteKey"]: route for route in client.get_routes(ApiId=api_id)["Items"]}
    assert set(routes) == {"GET /pets", "DELETE /pets/{id}"}
    (authorizer,) = client.get_authorizers(ApiId=api_id)["Items"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert routes["GET /pets"]["AuthorizationType"] == "JWT"
    assert routes["GET /pets"]["AuthorizerId"] == authorizer["AuthorizerId"]
    assert routes["GET /pets"]["AuthorizationScopes"] == ["read"]
    integrations = {
        item["IntegrationId"]: item for item in client.get_integrations(ApiId=api_id)["Items"]
    }
    target = routes["GET /pets"]["Target"].removeprefix("integrations/")
    assert integrations[target]["IntegrationUri"] == FUNCTION_ARN
    assert integrations[target]["PayloadFormatVersion"] == "2.0"


def test_export_gives_the_definition_back(client: Any) -> None:
    api_id = client.import_api(Body=PETS)["ApiId"]
    exported = client.export_api(ApiId=api_id, Specification="OAS30", OutputType="JSON")
    document = json.loads(exported["body"].read())
    assert document["openapi"].startswith("3.0")
    assert document["info"]["title"] == "pets"
    assert set(document["paths"]) == {"/pets", "/pets/{id}"}
    assert "x-amazon-apigateway-integration" in document["paths"]["/pets"]["get"]

    client.create_stage(ApiId=api_id, StageName="prod")
    assert error_of(
        client.export_api, ApiId=api_id, Specification="OAS30", OutputType="JSON", StageName="prod"
    )[:2] == (400, "BadRequestException")
    client.create_deployment(ApiId=api_id, StageName="prod")
    client.create_route(ApiId=api_id, RouteKey="POST /pets")
    frozen = client.export_api(
        ApiId=api_id, Specification="OAS30", OutputType="JSON", StageName="prod"
    )
    assert set(json.loads(frozen["body"].read())["paths"]) == {"/pets", "/pets/{id}"}
    assert error_of(client.export_api, ApiId=api_id, Specification="OAS20", OutputType="JSON")[
        :2
    ] == (400, "BadRequestException")


def test_reimport_replaces_routes_and_redeploys(client: Any) -> None:
    api_id = client.import_api(Body=PETS)["ApiId"]
    client.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    deployed = client.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]

    replacement = definition("pets v2", {"/cats": {"get": LAMBDA}})
    reimported = client.reimport_api(ApiId=api_id, Body=replacement)
    assert reimported["ApiId"] == api_id
    assert reimported["Name"] == "pets v2"
    keys = [route["RouteKey"] for route in client.get_routes(ApiId=api_id)["Items"]]
    assert keys == ["GET /cats"]
    (integration,) = client.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationUri"] == FUNCTION_ARN
    assert client.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"] != deployed
    assert error_of(client.reimport_api, ApiId="missing123", Body=replacement)[:2] == (
        404,
        "NotFoundException",
    )


def test_import_errors(client: Any) -> None:
    assert error_of(client.import_api, Body="not a definition")[:2] == (
        400,
        "BadRequestException",
    )
    warned = definition(
        "warned", {"/pets": {"get": {"x-amazon-apigateway-integration": {"type": "mock"}}}}
    )
    assert error_of(client.import_api, Body=warned, FailOnWarnings=True)[:2] == (
        400,
        "BadRequestException",
    )
    lenient = client.import_api(Body=warned)
    assert lenient["Warnings"]
