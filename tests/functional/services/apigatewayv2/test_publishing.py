"""What the control plane hands the data plane: on deploy, auto-deploy, stage changes, deletes,
domain mappings, and at start-up after a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from portico.errors import AwsError
from portico.services.apigatewayv2.published import ApiMapping, DeployedApi
from portico.store import Database, ManualClock
from portico.store.sqlite import open_database
from tests.functional.services.apigatewayv2.conftest import (
    ENDPOINT,
    FUNCTION_ARN,
    Client,
    RecordingPublisher,
    make_provider,
)

pytestmark = pytest.mark.asyncio


async def http_api(client: Client, **members: object) -> str:
    api = await client("CreateApi", Name="pets", ProtocolType="HTTP", **members)
    return str(api["ApiId"])


async def lambda_integration(client: Client, api_id: str) -> str:
    created = await client(
        "CreateIntegration",
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=FUNCTION_ARN,
        PayloadFormatVersion="2.0",
    )
    return str(created["IntegrationId"])


def route_keys(api: DeployedApi, stage: str) -> list[str]:
    deployed = next(s for s in api.stages if s.stage["StageName"] == stage)
    return sorted(str(route["RouteKey"]) for route in deployed.routes)


async def test_nothing_is_published_before_publish_to(
    database: Database, clock: ManualClock, publisher: RecordingPublisher
) -> None:
    provider = make_provider(database, clock)
    client = Client(provider)
    api_id = await http_api(client, Target=FUNCTION_ARN)
    assert publisher.calls == []

    provider.publish_to(publisher)
    await provider.start()

    (published,) = publisher.published()
    assert published.api_id == api_id
    assert [stage.stage["StageName"] for stage in published.stages] == ["$default"]


async def test_quick_create_publishes_its_auto_deployed_default_stage(
    client: Client, publisher: RecordingPublisher
) -> None:
    api_id = await http_api(client, Target=FUNCTION_ARN, RouteKey="GET /pets")

    (published,) = publisher.published()
    assert (published.account_id, published.region, published.api_id) == (
        "000000000000",
        "eu-west-1",
        api_id,
    )
    (stage,) = published.stages
    assert stage.stage["AutoDeploy"] is True
    assert stage.api["ApiEndpoint"] == f"{ENDPOINT}/_aws/execute-api/{api_id}"
    assert [route["RouteKey"] for route in stage.routes] == ["GET /pets"]
    (integration,) = stage.integrations
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert stage.routes[0]["Target"] == f"integrations/{integration['IntegrationId']}"


async def test_a_stage_is_served_once_deployed_and_serves_its_deployment(
    client: Client, publisher: RecordingPublisher
) -> None:
    api_id = await http_api(client)
    integration_id = await lambda_integration(client, api_id)
    target = f"integrations/{integration_id}"
    await client("CreateRoute", ApiId=api_id, RouteKey="GET /pets", Target=target)
    await client("CreateStage", ApiId=api_id, StageName="prod")
    assert publisher.published() == []  # no deployment yet: nothing to serve

    deployment = await client("CreateDeployment", ApiId=api_id, StageName="prod")
    (published,) = publisher.published()
    assert route_keys(published, "prod") == ["GET /pets"]
    assert published.stages[0].stage["DeploymentId"] == deployment["DeploymentId"]

    await client("CreateRoute", ApiId=api_id, RouteKey="POST /pets", Target=target)
    assert publisher.published() == []  # prod still serves its deployment

    await client("UpdateStage", ApiId=api_id, StageName="prod", StageVariables={"v": "2"})
    (published,) = publisher.published()
    assert published.stages[0].stage["StageVariables"] == {"v": "2"}
    assert route_keys(published, "prod") == ["GET /pets"]

    await client("CreateDeployment", ApiId=api_id, StageName="prod")
    (published,) = publisher.published()
    assert route_keys(published, "prod") == ["GET /pets", "POST /pets"]


async def test_auto_deploy_stages_follow_every_change(
    client: Client, publisher: RecordingPublisher
) -> None:
    api_id = await http_api(client)
    integration_id = await lambda_integration(client, api_id)
    await client("CreateStage", ApiId=api_id, StageName="dev", AutoDeploy=True)
    await client("CreateStage", ApiId=api_id, StageName="manual")
    assert publisher.published() == []  # no routes: the auto deployment failed
    stage = await client("GetStage", ApiId=api_id, StageName="dev")
    assert stage["LastDeploymentStatusMessage"] == (
        "Deployment attempt failed: Unable to deploy API because no routes exist in this API"
    )

    route = await client(
        "CreateRoute", ApiId=api_id, RouteKey="GET /pets", Target=f"integrations/{integration_id}"
    )
    (published,) = publisher.published()
    assert [s.stage["StageName"] for s in published.stages] == ["dev"]
    assert route_keys(published, "dev") == ["GET /pets"]
    deployment_id = published.stages[0].stage["DeploymentId"]
    deployment = await client("GetDeployment", ApiId=api_id, DeploymentId=deployment_id)
    assert deployment["AutoDeployed"] is True

    await client(
        "UpdateIntegration", ApiId=api_id, IntegrationId=integration_id, TimeoutInMillis=5000
    )
    (published,) = publisher.published()
    assert published.stages[0].integrations[0]["TimeoutInMillis"] == 5000

    await client(
        "UpdateApi",
        ApiId=api_id,
        CorsConfiguration={"AllowOrigins": ["https://app.example.com"]},
    )
    (published,) = publisher.published()
    assert published.stages[0].api["CorsConfiguration"] == {
        "AllowOrigins": ["https://app.example.com"]
    }
    last_deployment = published.stages[0].stage["DeploymentId"]
    assert last_deployment != deployment_id

    await client("DeleteRoute", ApiId=api_id, RouteId=route["RouteId"])
    assert publisher.published() == []  # no routes left: dev keeps its last deployment
    stage = await client("GetStage", ApiId=api_id, StageName="dev")
    assert stage["DeploymentId"] == last_deployment
    assert stage["LastDeploymentStatusMessage"].startswith("Deployment attempt failed")


async def test_failed_writes_publish_nothing(client: Client, publisher: RecordingPublisher) -> None:
    api_id = await http_api(client, Target=FUNCTION_ARN)
    publisher.take()
    with pytest.raises(AwsError):
        await client("CreateRoute", ApiId=api_id, RouteKey="$default")  # duplicate
    with pytest.raises(AwsError):
        await client("CreateRoute", ApiId=api_id, RouteKey="FETCH /pets")
    assert publisher.calls == []
    routes = await client("GetRoutes", ApiId=api_id)
    assert [route["RouteKey"] for route in routes["Items"]] == ["$default"]


async def test_deleting_stages_and_apis(client: Client, publisher: RecordingPublisher) -> None:
    api_id = await http_api(client, Target=FUNCTION_ARN)
    await client("CreateStage", ApiId=api_id, StageName="prod", AutoDeploy=True)
    published = publisher.published()
    assert [s.stage["StageName"] for s in published[-1].stages] == ["$default", "prod"]

    await client("DeleteStage", ApiId=api_id, StageName="prod")
    (published_after,) = publisher.published()
    assert [s.stage["StageName"] for s in published_after.stages] == ["$default"]

    await client("DeleteApi", ApiId=api_id)
    assert publisher.take() == [("withdraw_api", api_id)]


async def test_domain_mappings_are_published_whole(
    client: Client, publisher: RecordingPublisher
) -> None:
    first = await http_api(client, Target=FUNCTION_ARN)
    second = await http_api(client, Target=FUNCTION_ARN)
    await client("CreateDomainName", DomainName="API.Example.com")
    publisher.take()

    root = await client(
        "CreateApiMapping", DomainName="api.example.com", ApiId=first, Stage="$default"
    )
    assert publisher.take() == [
        ("publish_domains", [ApiMapping("api.example.com", first, "$default", "")])
    ]
    await client(
        "CreateApiMapping",
        DomainName="api.example.com",
        ApiId=second,
        Stage="$default",
        ApiMappingKey="orders/v1",
    )
    (call,) = publisher.take()
    assert sorted(call[1], key=lambda m: m.mapping_key) == [
        ApiMapping("api.example.com", first, "$default", ""),
        ApiMapping("api.example.com", second, "$default", "orders/v1"),
    ]

    await client(
        "DeleteApiMapping", DomainName="api.example.com", ApiMappingId=root["ApiMappingId"]
    )
    assert publisher.take() == [
        ("publish_domains", [ApiMapping("api.example.com", second, "$default", "orders/v1")])
    ]

    await client("DeleteApi", ApiId=second)
    assert publisher.take() == [("withdraw_api", second), ("publish_domains", [])]


async def test_a_restart_publishes_everything_again(
    data_dir: Path, clock: ManualClock, client: Client
) -> None:
    served = await http_api(client, Target=FUNCTION_ARN)
    undeployed = await http_api(client)
    await client("CreateStage", ApiId=undeployed, StageName="prod")
    await client(
        "CreateApi",
        Name="chat",
        ProtocolType="WEBSOCKET",
        RouteSelectionExpression="$request.body.action",
    )
    await client("CreateDomainName", DomainName="api.example.com")
    await client("CreateApiMapping", DomainName="api.example.com", ApiId=served, Stage="$default")

    reopened = open_database(data_dir, clock=clock)
    try:
        restarted = make_provider(reopened, clock)
        publisher = RecordingPublisher()
        restarted.publish_to(publisher)
        await restarted.start()
    finally:
        reopened.close()

    names = [name for name, _ in publisher.calls]
    assert names == ["publish_api", "publish_domains"]
    published: DeployedApi = publisher.calls[0][1]
    assert published.api_id == served
    assert route_keys(published, "$default") == ["$default"]
    assert publisher.calls[1][1] == [ApiMapping("api.example.com", served, "$default", "")]


class BrokenPublisher(RecordingPublisher):
    def publish_api(self, api: DeployedApi) -> None:
        raise ValueError("the gateway could not compile it")


async def test_a_failing_publisher_does_not_undo_the_write(
    database: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    provider = make_provider(database, clock)
    provider.publish_to(BrokenPublisher())
    client = Client(provider)

    api_id = await http_api(client, Target=FUNCTION_ARN)

    assert (await client("GetApi", ApiId=api_id))["Name"] == "pets"
    assert f"publishing API {api_id} failed" in caplog.text
