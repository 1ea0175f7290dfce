"""HTTP APIs through the real server with boto3: CreateApi (and quick create), GetApi(s) with
paging, UpdateApi, CORS, tags, DeleteApi, and AWS's errors for each."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, error_of, serving, signed

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:000000000000:function:fn"
ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serving(tmp_path_factory.mktemp("apigatewayv2-apis"))


@pytest.fixture
def client(server: Server) -> Any:
    return server.client("apigatewayv2")


def test_create_get_and_delete_an_http_api(server: Server, client: Any) -> None:
    created = client.create_api(Name="pets", ProtocolType="HTTP", Description="Pet store")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    api_id = created["ApiId"]
    assert re.fullmatch(r"[a-z0-9]{10}", api_id)
    assert created["ApiEndpoint"] == f"{server.url}/_aws/execute-api/{api_id}"
    assert created["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert created["RouteSelectionExpression"] == "$request.method $request.path"
    assert created["DisableExecuteApiEndpoint"] is False
    assert created["ProtocolType"] == "HTTP"
    assert created["Description"] == "Pet store"
    assert created["Tags"] == {}
    age = datetime.datetime.now(datetime.UTC) - created["CreatedDate"]
    assert datetime.timedelta(0) <= age < datetime.timedelta(minutes=1)

    fetched = client.get_api(ApiId=api_id)
    fetched.pop("ResponseMetadata")
    created.pop("ResponseMetadata")
    assert fetched == created

    deleted = client.delete_api(ApiId=api_id)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(client.get_api, ApiId=api_id) == (
        404,
        "NotFoundException",
        f"Invalid API identifier specified {ACCOUNT}:{api_id}",
    )
    assert error_of(client.delete_api, ApiId=api_id)[1] == "NotFoundException"


def test_quick_create_with_a_function(client: Any) -> None:
    api_id = client.create_api(
        Name="quick", ProtocolType="HTTP", Target=FUNCTION_ARN, RouteKey="GET /pets"
    )["ApiId"]

    (integration,) = client.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationUri"] == FUNCTION_ARN
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["ApiGatewayManaged"] is True
    (route,) = client.get_routes(ApiId=api_id)["Items"]
    assert route["RouteKey"] == "GET /pets"
    assert route["Target"] == f"integrations/{integration['IntegrationId']}"
    assert route["ApiGatewayManaged"] is True
    (stage,) = client.get_stages(ApiId=api_id)["Items"]
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    assert stage["ApiGatewayManaged"] is True
    assert stage["LastDeploymentStatusMessage"] == (
        f"Successfully deployed stage with deployment ID {stage['DeploymentId']}"
    )
    (deployment,) = client.get_deployments(ApiId=api_id)["Items"]
    assert deployment["DeploymentId"] == stage["DeploymentId"]
    assert deployment["AutoDeployed"] is True
    assert deployment["DeploymentStatus"] == "DEPLOYED"


def test_quick_create_with_a_url_and_updating_its_target(client: Any) -> None:
    api_id = client.create_api(
        Name="proxy", ProtocolType="HTTP", Target="https://backend.example.com"
    )["ApiId"]
    (integration,) = client.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationType"] == "HTTP_PROXY"
    assert integration["IntegrationMethod"] == "ANY"
    assert integration["PayloadFormatVersion"] == "1.0"
    (route,) = client.get_routes(ApiId=api_id)["Items"]
    assert route["RouteKey"] == "$default"

    client.update_api(ApiId=api_id, Target=FUNCTION_ARN, RouteKey="ANY /{proxy+}")
    (integration,) = client.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationUri"] == FUNCTION_ARN
    (route,) = client.get_routes(ApiId=api_id)["Items"]
    assert route["RouteKey"] == "ANY /{proxy+}"
    assert len(client.get_deployments(ApiId=api_id)["Items"]) == 2  # auto-deployed again


def test_quick_create_errors(client: Any) -> None:
    assert error_of(client.create_api, Name="x", ProtocolType="HTTP", Target="not a target") == (
        400,
        "BadRequestException",
        "Invalid target specified: not a target",
    )
    assert error_of(
        client.create_api,
        Name="x",
        ProtocolType="HTTP",
        Target=FUNCTION_ARN,
        RouteKey="GET pets",
    ) == (400, "BadRequestException", "The provided route key is not formatted properly")
    plain = client.create_api(Name="plain", ProtocolType="HTTP")["ApiId"]
    status, code, _ = error_of(client.update_api, ApiId=plain, Target=FUNCTION_ARN)
    assert (status, code) == (400, "BadRequestException")


def test_update_api(client: Any) -> None:
    api_id = client.create_api(Name="before", ProtocolType="HTTP")["ApiId"]
    updated = client.update_api(
        ApiId=api_id,
        Name="after",
        Version="2",
        DisableExecuteApiEndpoint=True,
        CorsConfiguration={
            "AllowOrigins": ["https://app.example.com"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["authorization"],
            "MaxAge": 300,
            "AllowCredentials": True,
        },
    )
    assert updated["Name"] == "after"
    assert updated["Version"] == "2"
    assert updated["DisableExecuteApiEndpoint"] is True
    assert updated["CorsConfiguration"]["AllowMethods"] == ["GET", "POST"]
    assert client.get_api(ApiId=api_id)["CorsConfiguration"]["MaxAge"] == 300

    assert (
        client.delete_cors_configuration(ApiId=api_id)["ResponseMetadata"]["HTTPStatusCode"] == 204
    )
    assert "CorsConfiguration" not in client.get_api(ApiId=api_id)


def test_cors_is_checked(client: Any) -> None:
    def cors_error(configuration: dict[str, Any]) -> tuple[int, str, str]:
        return error_of(
            client.create_api, Name="c", ProtocolType="HTTP", CorsConfiguration=configuration
        )

    assert cors_error({"AllowOrigins": ["*"], "AllowCredentials": True}) == (
        400,
        "BadRequestException",
        "allow-credentials is not supported if 'allow-origin' is *",
    )
    assert cors_error({"AllowMethods": ["FETCH"]})[1] == "BadRequestException"
    assert cors_error({"MaxAge": 86401})[1] == "BadRequestException"
    assert cors_error({"AllowOrigins": ["not an origin"]})[1] == "BadRequestException"


def test_create_api_errors(server: Server, client: Any) -> None:
    assert error_of(client.create_api, Name="x", ProtocolType="GRPC") == (
        400,
        "BadRequestException",
        "Invalid protocol specified. Must be one of [HTTP, WEBSOCKET]",
    )
    assert (
        error_of(
            client.create_api,
            Name="x",
            ProtocolType="HTTP",
            RouteSelectionExpression="$request.body.action",
        )[1]
        == "BadRequestException"
    )
    assert error_of(client.create_api, Name="ws", ProtocolType="WEBSOCKET")[1] == (
        "BadRequestException"
    )
    # Required members, sent without botocore's own check.
    response = signed(server, "POST", "/v2/apis", "apigateway", data=b'{"protocolType": "HTTP"}')
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "BadRequestException"
    assert response.json()["Message"] == "Name is required."


def test_websocket_apis_are_kept(server: Server, client: Any) -> None:
    created = client.create_api(
        Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    assert created["ApiEndpoint"].startswith("ws://")
    api_id = created["ApiId"]
    route = client.create_route(ApiId=api_id, RouteKey="$connect")
    assert route["RouteKey"] == "$connect"
    assert error_of(client.create_route, ApiId=api_id, RouteKey="$custom")[1] == (
        "BadRequestException"
    )
    response = client.create_route_response(
        ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default"
    )
    assert client.get_route_responses(ApiId=api_id, RouteId=route["RouteId"])["Items"] == [
        {"RouteResponseId": response["RouteResponseId"], "RouteResponseKey": "$default"}
    ]
    client.delete_route_response(
        ApiId=api_id, RouteId=route["RouteId"], RouteResponseId=response["RouteResponseId"]
    )
    assert client.get_route_responses(ApiId=api_id, RouteId=route["RouteId"])["Items"] == []


def test_get_apis_pages(client: Any) -> None:
    created = {client.create_api(Name=f"page-{n}", ProtocolType="HTTP")["ApiId"] for n in range(5)}
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        kwargs = {"MaxResults": "2", **({"NextToken": token} if token else {})}
        listed = client.get_apis(**kwargs)
        assert len(listed["Items"]) <= 2
        seen.extend(item["ApiId"] for item in listed["Items"])
        pages += 1
        token = listed.get("NextToken")
        if not token:
            break
    assert created <= set(seen)
    assert len(seen) == len(set(seen))
    assert pages >= 3
    everything = client.get_apis()
    assert "NextToken" not in everything
    assert [item["ApiId"] for item in everything["Items"]] == seen

    paginated = client.get_paginator("get_apis").paginate(PaginationConfig={"PageSize": 2})
    assert [item["ApiId"] for page in paginated for item in page["Items"]] == seen
    assert error_of(client.get_apis, MaxResults="zero")[1] == "BadRequestException"
    assert error_of(client.get_apis, NextToken="%%%")[1] == "BadRequestException"


def test_tags(client: Any) -> None:
    created = client.create_api(Name="tagged", ProtocolType="HTTP", Tags={"team": "pets"})
    api_id = created["ApiId"]
    assert created["Tags"] == {"team": "pets"}
    arn = f"arn:aws:apigateway:eu-west-1::/apis/{api_id}"
    client.tag_resource(ResourceArn=arn, Tags={"env": "dev"})
    assert client.get_tags(ResourceArn=arn)["Tags"] == {"team": "pets", "env": "dev"}
    client.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert client.get_tags(ResourceArn=arn)["Tags"] == {"env": "dev"}
    assert client.get_api(ApiId=api_id)["Tags"] == {"env": "dev"}

    client.create_stage(ApiId=api_id, StageName="prod", Tags={"tier": "1"})
    stage_arn = f"{arn}/stages/prod"
    client.tag_resource(ResourceArn=stage_arn, Tags={"tier": "2"})
    assert client.get_tags(ResourceArn=stage_arn)["Tags"] == {"tier": "2"}
    assert client.get_stage(ApiId=api_id, StageName="prod")["Tags"] == {"tier": "2"}

    missing = "arn:aws:apigateway:eu-west-1::/apis/abcdefghij"
    assert error_of(client.get_tags, ResourceArn=missing) == (
        404,
        "NotFoundException",
        f"Invalid API identifier specified {ACCOUNT}:abcdefghij",
    )
    assert error_of(client.get_tags, ResourceArn="arn:aws:sqs:eu-west-1:1:q")[1] == (
        "BadRequestException"
    )
    assert error_of(client.tag_resource, ResourceArn=arn, Tags={"aws:x": "y"})[1] == (
        "BadRequestException"
    )
