"""Stages, deployments, custom domain names and API mappings of HTTP APIs through the real
server with boto3, and AWS's errors for each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, error_of, serving

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:000000000000:function:fn"
LOG_GROUP = "arn:aws:logs:eu-west-1:000000000000:log-group:access-logs"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serving(tmp_path_factory.mktemp("apigatewayv2-stages"))


@pytest.fixture
def client(server: Server) -> Any:
    return server.client("apigatewayv2")


@pytest.fixture
def api_id(client: Any) -> str:
    api_id = str(client.create_api(Name="pets", ProtocolType="HTTP")["ApiId"])
    integration_id = client.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=FUNCTION_ARN,
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    client.create_route(ApiId=api_id, RouteKey="GET /pets", Target=f"integrations/{integration_id}")
    return api_id


# -- stages and deployments --------------------------------------------------------------------


def test_stage_lifecycle(client: Any, api_id: str) -> None:
    created = client.create_stage(
        ApiId=api_id,
        StageName="prod",
        Description="production",
        StageVariables={"backend": "https://prod.example.com/v1"},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["StageName"] == "prod"
    assert created["AutoDeploy"] is False
    assert created["DefaultRouteSettings"] == {"DetailedMetricsEnabled": False}
    assert created["RouteSettings"] == {}
    assert "DeploymentId" not in created

    deployment = client.create_deployment(ApiId=api_id, StageName="prod", Description="first")
    assert deployment["DeploymentStatus"] == "DEPLOYED"
    assert deployment["AutoDeployed"] is False
    stage = client.get_stage(ApiId=api_id, StageName="prod")
    assert stage["DeploymentId"] == deployment["DeploymentId"]
    assert stage["StageVariables"] == {"backend": "https://prod.example.com/v1"}

    updated = client.update_stage(
        ApiId=api_id, StageName="prod", StageVariables={"backend": "", "mode": "fast"}
    )
    assert updated["StageVariables"] == {"mode": "fast"}
    assert updated["LastUpdatedDate"] >= created["LastUpdatedDate"]

    client.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    names = sorted(item["StageName"] for item in client.get_stages(ApiId=api_id)["Items"])
    assert names == ["$default", "prod"]
    automatic = client.get_stage(ApiId=api_id, StageName="$default")
    assert automatic["LastDeploymentStatusMessage"] == (
        f"Successfully deployed stage with deployment ID {automatic['DeploymentId']}"
    )

    assert error_of(client.create_stage, ApiId=api_id, StageName="prod") == (
        409,
        "ConflictException",
        "Stage already exists",
    )
    client.delete_stage(ApiId=api_id, StageName="prod")
    assert error_of(client.get_stage, ApiId=api_id, StageName="prod") == (
        404,
        "NotFoundException",
        "Invalid stage identifier specified",
    )
    client.reset_authorizers_cache(ApiId=api_id, StageName="$default")
    assert error_of(client.reset_authorizers_cache, ApiId=api_id, StageName="prod")[:2] == (
        404,
        "NotFoundException",
    )


def test_auto_deploy_follows_route_changes(client: Any, api_id: str) -> None:
    first = client.create_stage(ApiId=api_id, StageName="dev", AutoDeploy=True)["DeploymentId"]
    client.create_route(ApiId=api_id, RouteKey="POST /pets")
    second = client.get_stage(ApiId=api_id, StageName="dev")["DeploymentId"]
    assert second != first
    deployments = {d["DeploymentId"]: d for d in client.get_deployments(ApiId=api_id)["Items"]}
    assert deployments[second]["AutoDeployed"] is True
    assert deployments[second]["Description"] == (
        "Automatic deployment triggered by changes to the Api configuration"
    )
    assert error_of(client.update_stage, ApiId=api_id, StageName="dev", DeploymentId=first)[:2] == (
        400,
        "BadRequestException",
    )


def test_deployments(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    old = client.create_deployment(ApiId=api_id, StageName="prod")["DeploymentId"]
    new = client.create_deployment(ApiId=api_id)["DeploymentId"]
    assert client.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == old

    described = client.update_deployment(ApiId=api_id, DeploymentId=new, Description="second")
    assert described["Description"] == "second"
    assert client.get_deployment(ApiId=api_id, DeploymentId=new)["Description"] == "second"
    ids = {item["DeploymentId"] for item in client.get_deployments(ApiId=api_id)["Items"]}
    assert ids == {old, new}

    assert error_of(client.delete_deployment, ApiId=api_id, DeploymentId=old) == (
        400,
        "BadRequestException",
        "Active stages pointing to this deployment must be moved or deleted",
    )
    client.update_stage(ApiId=api_id, StageName="prod", DeploymentId=new)
    client.delete_deployment(ApiId=api_id, DeploymentId=old)
    assert error_of(client.get_deployment, ApiId=api_id, DeploymentId=old) == (
        404,
        "NotFoundException",
        f"Invalid Deployment identifier specified {old}",
    )
    assert error_of(client.create_deployment, ApiId=api_id, StageName="nope")[:2] == (
        404,
        "NotFoundException",
    )
    assert error_of(client.create_stage, ApiId=api_id, StageName="x", DeploymentId="nope12")[
        :2
    ] == (404, "NotFoundException")


def test_an_api_without_routes_cannot_be_deployed(client: Any) -> None:
    empty = client.create_api(Name="empty", ProtocolType="HTTP")["ApiId"]
    assert error_of(client.create_deployment, ApiId=empty) == (
        400,
        "BadRequestException",
        "Unable to deploy API because no routes exist in this API",
    )
    stage = client.create_stage(ApiId=empty, StageName="dev", AutoDeploy=True)
    assert stage["LastDeploymentStatusMessage"] == (
        "Deployment attempt failed: Unable to deploy API because no routes exist in this API"
    )
    assert "DeploymentId" not in stage


@pytest.mark.parametrize(
    ("members", "code"),
    [
        ({"StageName": "bad name"}, "BadRequestException"),
        ({"StageName": "v", "StageVariables": {"bad-name": "x"}}, "BadRequestException"),
        ({"StageName": "v", "StageVariables": {"url": "has space"}}, "BadRequestException"),
    ],
)
def test_bad_stages(client: Any, api_id: str, members: dict[str, Any], code: str) -> None:
    assert error_of(client.create_stage, ApiId=api_id, **members)[1] == code


def test_stage_settings(client: Any, api_id: str) -> None:
    stage = client.create_stage(
        ApiId=api_id,
        StageName="prod",
        DefaultRouteSettings={"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5.0},
        RouteSettings={"GET /pets": {"DetailedMetricsEnabled": True}},
        AccessLogSettings={"DestinationArn": LOG_GROUP, "Format": "$context.requestId"},
    )
    assert stage["DefaultRouteSettings"] == {
        "DetailedMetricsEnabled": False,
        "ThrottlingBurstLimit": 10,
        "ThrottlingRateLimit": 5.0,
    }
    assert stage["RouteSettings"] == {"GET /pets": {"DetailedMetricsEnabled": True}}
    assert stage["AccessLogSettings"]["DestinationArn"] == LOG_GROUP

    updated = client.update_stage(
        ApiId=api_id, StageName="prod", RouteSettings={"GET /pets": {"ThrottlingBurstLimit": 1}}
    )
    assert updated["RouteSettings"] == {
        "GET /pets": {"DetailedMetricsEnabled": True, "ThrottlingBurstLimit": 1}
    }
    client.delete_route_settings(ApiId=api_id, StageName="prod", RouteKey="GET /pets")
    client.delete_access_log_settings(ApiId=api_id, StageName="prod")
    stage = client.get_stage(ApiId=api_id, StageName="prod")
    assert stage["RouteSettings"] == {}
    assert "AccessLogSettings" not in stage

    assert error_of(
        client.update_stage,
        ApiId=api_id,
        StageName="prod",
        RouteSettings={"GET /cats": {"ThrottlingBurstLimit": 1}},
    ) == (
        404,
        "NotFoundException",
        "Unable to find Route by key GET /cats within the provided RouteSettings",
    )
    assert error_of(
        client.update_stage,
        ApiId=api_id,
        StageName="prod",
        DefaultRouteSettings={"LoggingLevel": "INFO"},
    ) == (400, "BadRequestException", "Execution logs are not supported on protocolType HTTP")
    assert error_of(
        client.update_stage,
        ApiId=api_id,
        StageName="prod",
        AccessLogSettings={"DestinationArn": LOG_GROUP, "Format": "$context.status"},
    )[:2] == (400, "BadRequestException")


# -- domain names and API mappings -------------------------------------------------------------


def test_domain_names(client: Any) -> None:
    created = client.create_domain_name(DomainName="api.example.com", Tags={"team": "pets"})
    assert created["DomainName"] == "api.example.com"
    assert created["ApiMappingSelectionExpression"] == "$request.basepath"
    assert created["DomainNameArn"] == "arn:aws:apigateway:eu-west-1::/domainnames/api.example.com"
    (configuration,) = created["DomainNameConfigurations"]
    assert configuration["DomainNameStatus"] == "AVAILABLE"
    assert configuration["EndpointType"] == "REGIONAL"
    assert configuration["SecurityPolicy"] == "TLS_1_2"
    assert configuration["ApiGatewayDomainName"].endswith(".execute-api.eu-west-1.amazonaws.com")

    fetched = client.get_domain_name(DomainName="api.example.com")
    assert fetched["DomainNameConfigurations"] == created["DomainNameConfigurations"]
    assert "api.example.com" in [d["DomainName"] for d in client.get_domain_names()["Items"]]
    arn = created["DomainNameArn"]
    client.tag_resource(ResourceArn=arn, Tags={"env": "dev"})
    assert client.get_tags(ResourceArn=arn)["Tags"] == {"team": "pets", "env": "dev"}

    assert error_of(client.create_domain_name, DomainName="api.example.com") == (
        409,
        "ConflictException",
        "The domain name you provided already exists.",
    )
    client.delete_domain_name(DomainName="api.example.com")
    assert error_of(client.get_domain_name, DomainName="api.example.com") == (
        404,
        "NotFoundException",
        "The domain name resource specified in the request was not found.",
    )
    assert error_of(client.create_domain_name, DomainName="not a domain")[1] == (
        "BadRequestException"
    )


def test_domain_name_configurations(client: Any) -> None:
    created = client.create_domain_name(
        DomainName="certified.example.com",
        DomainNameConfigurations=[
            {
                "CertificateArn": "arn:aws:acm:eu-west-1:000000000000:certificate/abc",
                "EndpointType": "REGIONAL",
            }
        ],
    )
    (configuration,) = created["DomainNameConfigurations"]
    assert configuration["CertificateArn"].endswith("certificate/abc")
    assert error_of(
        client.create_domain_name,
        DomainName="edge.example.com",
        DomainNameConfigurations=[{"EndpointType": "EDGE"}],
    )[:2] == (400, "BadRequestException")


def test_api_mappings(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    client.create_domain_name(DomainName="mapped.example.com")
    root = client.create_api_mapping(DomainName="mapped.example.com", ApiId=api_id, Stage="prod")
    assert root["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert root["Stage"] == "prod"
    nested = client.create_api_mapping(
        DomainName="mapped.example.com", ApiId=api_id, Stage="prod", ApiMappingKey="orders/v1"
    )
    assert nested["ApiMappingKey"] == "orders/v1"
    assert (
        client.get_api_mapping(
            DomainName="mapped.example.com", ApiMappingId=nested["ApiMappingId"]
        )["ApiId"]
        == api_id
    )
    listed = client.get_api_mappings(DomainName="mapped.example.com")["Items"]
    assert {item["ApiMappingId"] for item in listed} == {
        root["ApiMappingId"],
        nested["ApiMappingId"],
    }

    assert error_of(
        client.create_api_mapping,
        DomainName="mapped.example.com",
        ApiId=api_id,
        Stage="prod",
        ApiMappingKey="orders/v1",
    ) == (409, "ConflictException", "ApiMapping key already exists for this domain name")
    assert error_of(
        client.create_api_mapping,
        DomainName="mapped.example.com",
        ApiId=api_id,
        Stage="prod",
        ApiMappingKey="/orders",
    ) == (
        400,
        "BadRequestException",
        "An ApiMapping key may contain only letters, numbers and one of $-_.+!*'()",
    )
    assert error_of(
        client.create_api_mapping,
        DomainName="mapped.example.com",
        ApiId=api_id,
        Stage="nope",
        ApiMappingKey="x",
    ) == (400, "BadRequestException", "Invalid stage identifier specified")
    assert error_of(
        client.create_api_mapping, DomainName="missing.example.com", ApiId=api_id, Stage="prod"
    )[:2] == (404, "NotFoundException")

    moved = client.update_api_mapping(
        DomainName="mapped.example.com",
        ApiMappingId=nested["ApiMappingId"],
        ApiId=api_id,
        ApiMappingKey="orders/v2",
    )
    assert moved["ApiMappingKey"] == "orders/v2"
    client.delete_api_mapping(DomainName="mapped.example.com", ApiMappingId=root["ApiMappingId"])
    assert error_of(
        client.get_api_mapping, DomainName="mapped.example.com", ApiMappingId=root["ApiMappingId"]
    ) == (
        404,
        "NotFoundException",
        "The api mapping resource specified in the request was not found.",
    )

    client.delete_stage(ApiId=api_id, StageName="prod")  # takes its mappings along
    assert client.get_api_mappings(DomainName="mapped.example.com")["Items"] == []
