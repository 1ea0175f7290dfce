"""The HTTP API quotas AWS does not raise, through the real server with boto3: each one's last
allowed resource is accepted, the next refused with AWS's error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, error_of, serving

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:000000000000:function:fn"
LOG_GROUP = "arn:aws:logs:eu-west-1:000000000000:log-group:access-logs"
INTEGRATIONS_FULL = (
    429,
    "ConflictException",
    "Maximum number of Integrations for this API has been reached.",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serving(tmp_path_factory.mktemp("apigatewayv2-quotas"))


@pytest.fixture
def client(server: Server) -> Any:
    return server.client("apigatewayv2")


def proxy(client: Any, api_id: str) -> str:
    return str(
        client.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=FUNCTION_ARN,
            PayloadFormatVersion="2.0",
        )["IntegrationId"]
    )


def test_an_api_has_at_most_300_integrations(client: Any) -> None:
    api_id = client.create_api(Name="many", ProtocolType="HTTP")["ApiId"]
    for _ in range(300):
        proxy(client, api_id)
    assert error_of(proxy, client, api_id) == INTEGRATIONS_FULL
    listed = client.get_integrations(ApiId=api_id, MaxResults="500")["Items"]
    assert len(listed) == 300  # the refused one was not stored
    client.delete_integration(ApiId=api_id, IntegrationId=listed[0]["IntegrationId"])
    proxy(client, api_id)  # room again


def openapi(paths: int) -> str:
    """An OpenAPI 3 document with `paths` routes, each with an integration of its own."""
    document = {
        "openapi": "3.0.1",
        "info": {"title": "imported", "version": "1"},
        "paths": {
            f"/items{index}": {
                "get": {
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "uri": FUNCTION_ARN,
                        "httpMethod": "POST",
                        "payloadFormatVersion": "2.0",
                    }
                }
            }
            for index in range(paths)
        },
    }
    return json.dumps(document)


def test_imports_keep_to_300_integrations(client: Any) -> None:
    assert error_of(client.import_api, Body=openapi(301)) == INTEGRATIONS_FULL
    api_id = client.import_api(Body=openapi(300))["ApiId"]
    assert len(client.get_integrations(ApiId=api_id, MaxResults="500")["Items"]) == 300
    assert error_of(client.reimport_api, ApiId=api_id, Body=openapi(301)) == INTEGRATIONS_FULL
    client.reimport_api(ApiId=api_id, Body=openapi(2))  # replaces them: room again
    assert len(client.get_integrations(ApiId=api_id)["Items"]) == 2


def test_a_domain_name_has_at_most_200_multi_level_mappings(client: Any) -> None:
    api_id = client.create_api(Name="mapped", ProtocolType="HTTP")["ApiId"]
    client.create_stage(ApiId=api_id, StageName="live")
    domain = client.create_domain_name(DomainName="quota.example.com")["DomainName"]

    def mapping(key: str) -> Any:
        return client.create_api_mapping(
            DomainName=domain, ApiId=api_id, Stage="live", ApiMappingKey=key
        )

    for index in range(200):
        mapping(f"v{index}/orders")
    assert error_of(mapping, "v200/orders") == (
        429,
        "ConflictException",
        "Maximum number of multi-level API mappings for this domain name has been reached.",
    )
    mapping("orders")  # single-level mappings are not counted
    single = mapping("")["ApiMappingId"]
    error = error_of(
        client.update_api_mapping,
        DomainName=domain,
        ApiMappingId=single,
        ApiId=api_id,
        ApiMappingKey="v200/orders",
    )
    assert error[:2] == (429, "ConflictException")


def test_stage_variables_keep_to_their_quotas(client: Any) -> None:
    api_id = client.create_api(Name="variables", ProtocolType="HTTP")["ApiId"]
    hundred = {f"v{index}": "x" for index in range(100)}
    client.create_stage(ApiId=api_id, StageName="full", StageVariables=hundred)
    status, code, message = error_of(
        client.update_stage, ApiId=api_id, StageName="full", StageVariables={"one_more": "x"}
    )
    assert (status, code) == (400, "BadRequestException")
    assert "at most 100 stage variables" in message
    client.update_stage(  # one removed ("" removes), one added: still 100
        ApiId=api_id, StageName="full", StageVariables={"v0": "", "one_more": "x"}
    )
    many = {**hundred, "v100": "x"}
    assert error_of(client.create_stage, ApiId=api_id, StageName="s1", StageVariables=many)[:2] == (
        400,
        "BadRequestException",
    )
    client.create_stage(ApiId=api_id, StageName="s2", StageVariables={"n" * 64: "v" * 512})
    for variables in ({"n" * 65: "v"}, {"name": "v" * 513}):
        error = error_of(
            client.create_stage, ApiId=api_id, StageName="s3", StageVariables=variables
        )
        assert error[:2] == (400, "BadRequestException")


def test_access_log_formats_may_be_3_kb(client: Any) -> None:
    api_id = client.create_api(Name="logged", ProtocolType="HTTP")["ApiId"]
    fields = '"requestId":"$context.requestId"'
    full = "{" + fields + "," + '"x":"' + "a" * (3 * 1024 - len(fields) - 9) + '"}'
    assert len(full) == 3 * 1024
    stage = client.create_stage(
        ApiId=api_id,
        StageName="logs",
        AccessLogSettings={"DestinationArn": LOG_GROUP, "Format": full},
    )
    assert stage["AccessLogSettings"]["Format"] == full
    error = error_of(
        client.update_stage,
        ApiId=api_id,
        StageName="logs",
        AccessLogSettings={"DestinationArn": LOG_GROUP, "Format": full[:-2] + 'a"}'},
    )
    assert error == (
        400,
        "BadRequestException",
        "Invalid input: Format must have at most 3072 characters.",
    )


def test_jwt_audiences_and_route_scopes_keep_to_their_quotas(client: Any) -> None:
    api_id = client.create_api(Name="tokens", ProtocolType="HTTP")["ApiId"]

    def jwt_authorizer(audiences: int) -> Any:
        return client.create_authorizer(
            ApiId=api_id,
            Name=f"idp{audiences}",
            AuthorizerType="JWT",
            IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={
                "Issuer": "https://idp.example.com",
                "Audience": [f"app{index}" for index in range(audiences)],
            },
        )

    authorizer_id = jwt_authorizer(50)["AuthorizerId"]
    status, code, message = error_of(jwt_authorizer, 51)
    assert (status, code) == (400, "BadRequestException")
    assert "at most 50 audiences" in message

    def route(scopes: int) -> Any:
        return client.create_route(
            ApiId=api_id,
            RouteKey=f"GET /scoped{scopes}",
            AuthorizationType="JWT",
            AuthorizerId=authorizer_id,
            AuthorizationScopes=[f"s{index}" for index in range(scopes)],
        )

    route(10)
    status, code, message = error_of(route, 11)
    assert (status, code) == (400, "BadRequestException")
    assert "at most 10 authorization scopes" in message
