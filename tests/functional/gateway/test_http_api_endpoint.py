"""The HTTP API data plane in-process: deployed documents in, requests through ASGI, a fake
function behind the Lambda integrations and an ASGI app behind the HTTP ones."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from portico.gateway.http_api.authorizers import JwksCache
from portico.gateway.http_api.compiled import Compiler
from portico.gateway.http_api.endpoint import HttpApiEndpoint
from portico.gateway.http_api.registry import HttpApiRegistry
from portico.runtime import InvocationResult
from portico.services.apigatewayv2.published import ApiMapping, DeployedApi, DeployedStage
from portico.services.lambda_.permissions import ServiceSource

ACCOUNT = "000000000000"
REGION = "eu-west-1"
API_ID = "a1b2c3d4e5"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:echo"


class EchoFunction:
    """Answers every event with the event itself, as the body of a 200."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.within: float | None = None
        self.sources: list[ServiceSource | None] = []
        self.calls: list[tuple[str, str, str, str]] = []

    async def __call__(
        self,
        account: str,
        region: str,
        name: str,
        qualifier: str,
        payload: bytes,
        *,
        within: float | None = None,
        source: ServiceSource | None = None,
    ) -> InvocationResult:
        self.calls.append((account, region, name, qualifier))
        self.within = within
        self.sources.append(source)
        event = json.loads(payload)
        self.events.append(event)
        if event.get("rawPath", "").endswith("/fail"):
            return InvocationResult("r", b'{"errorMessage":"boom"}', "$LATEST", "Unhandled")
        route = event.get("routeKey") or event.get("resource")
        answer = {"statusCode": 200, "headers": {"x-route": route}, "body": "ok"}
        return InvocationResult("r", json.dumps(answer).encode(), "$LATEST")


async def backend(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An HTTP backend that tells what it was asked."""
    message = await receive()
    document = {
        "method": scope["method"],
        "path": scope["path"],
        "query": scope["query_string"].decode(),
        "body": message.get("body", b"").decode(),
        "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
    }
    body = json.dumps(document).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"application/json"), (b"set-cookie", b"a=1")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _integration(integration_id: str, kind: str, uri: str, **extra: Any) -> dict[str, Any]:
    document = {
        "IntegrationId": integration_id,
        "IntegrationType": kind,
        "IntegrationUri": uri,
        "PayloadFormatVersion": "2.0" if kind == "AWS_PROXY" else "1.0",
    }
    return {**document, **extra}


def _route(key: str, integration_id: str) -> dict[str, Any]:
    return {
        "RouteId": key.replace(" ", "-"),
        "RouteKey": key,
        "Target": f"integrations/{integration_id}",
    }


def _deployed(stages: tuple[str, ...] = ("$default", "dev")) -> DeployedApi:
    api = {"ApiId": API_ID, "Name": "pets", "ProtocolType": "HTTP"}
    routes = (
        _route("GET /pets", "fn"),
        _route("GET /pets/{id}", "fn"),
        _route("ANY /backend/{proxy+}", "http"),
        _route("$default", "fn"),
    )
    integrations = (
        _integration("fn", "AWS_PROXY", FUNCTION_ARN),
        _integration(
            "http", "HTTP_PROXY", "http://backend.test/up/{proxy}", IntegrationMethod="ANY"
        ),
    )
    return DeployedApi(
        ACCOUNT,
        REGION,
        API_ID,
        False,
        tuple(
            DeployedStage(
                {"StageName": name, "StageVariables": {"color": "blue"} if name == "dev" else {}},
                api,
                routes,
                integrations,
                (),
            )
            for name in stages
        ),
    )


@pytest_asyncio.fixture
async def setup() -> AsyncIterator[tuple[httpx.AsyncClient, EchoFunction, HttpApiRegistry]]:
    function = EchoFunction()
    backend_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=backend))
    registry = HttpApiRegistry(
        Compiler(function, backend_client, jwks=JwksCache(backend_client, clock=time.time))
    )
    registry.publish_api(_deployed())
    endpoint = HttpApiEndpoint(registry, clock=lambda: 1_700_000_000.0)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=endpoint), base_url="http://127.0.0.1:4566"
    )
    async with backend_client, client:
        yield client, function, registry


@pytest.mark.asyncio
async def test_default_stage_routes_to_the_function_with_a_2_0_event(setup: Any) -> None:
    client, function, _registry = setup
    answer = await client.get(f"/_aws/execute-api/{API_ID}/pets/7?x=1&x=2")
    assert answer.status_code == 200
    assert answer.text == "ok"
    assert answer.headers["x-route"] == "GET /pets/{id}"
    assert len(answer.headers["apigw-requestid"]) == 16
    event = function.events[-1]
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/pets/7"
    assert event["rawQueryString"] == "x=1&x=2"
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["pathParameters"] == {"id": "7"}
    assert "stageVariables" not in event
    context = event["requestContext"]
    assert context["stage"] == "$default"
    assert context["routeKey"] == "GET /pets/{id}"
    assert context["apiId"] == API_ID
    assert context["accountId"] == ACCOUNT
    assert context["requestId"] == answer.headers["apigw-requestid"]
    assert context["timeEpoch"] == 1_700_000_000_000
    assert function.calls[-1] == (ACCOUNT, REGION, "echo", "")
    assert function.within == 30.0  # the integration's timeout (TimeoutInMillis by default)
    # API Gateway invokes for the route: what the function's policy must allow.
    assert function.sources[-1] == ServiceSource(
        "apigateway.amazonaws.com",
        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/$default/GET/pets/{{id}}",
        ACCOUNT,
    )


@pytest.mark.asyncio
async def test_a_named_stage_is_the_first_path_segment(setup: Any) -> None:
    client, function, _registry = setup
    answer = await client.get(f"/_aws/execute-api/{API_ID}/dev/pets")
    assert answer.headers["x-route"] == "GET /pets"
    event = function.events[-1]
    assert event["rawPath"] == "/dev/pets"  # as AWS: the stage stays in the raw path
    assert event["requestContext"]["stage"] == "dev"
    assert event["stageVariables"] == {"color": "blue"}


@pytest.mark.asyncio
async def test_the_api_is_found_by_host_too(setup: Any) -> None:
    client, function, _registry = setup
    answer = await client.get("/pets", headers={"host": f"{API_ID}.execute-api.localhost:4566"})
    assert answer.headers["x-route"] == "GET /pets"
    assert function.events[-1]["requestContext"]["domainName"] == f"{API_ID}.execute-api.localhost"


@pytest.mark.asyncio
async def test_unmatched_requests_go_to_the_default_route(setup: Any) -> None:
    client, _function, _registry = setup
    answer = await client.post(f"/_aws/execute-api/{API_ID}/anything/else", content=b"{}")
    assert answer.headers["x-route"] == "$default"


@pytest.mark.asyncio
async def test_unknown_apis_and_stages_are_not_found(setup: Any) -> None:
    client, _function, registry = setup
    answer = await client.get("/_aws/execute-api/zzzzzzzzzz/pets")
    assert (answer.status_code, answer.json()) == (404, {"message": "Not Found"})
    registry.publish_api(_deployed(stages=("dev",)))
    answer = await client.get(f"/_aws/execute-api/{API_ID}/pets")
    assert (answer.status_code, answer.json()) == (404, {"message": "Not Found"})
    registry.withdraw_api(API_ID)
    answer = await client.get(f"/_aws/execute-api/{API_ID}/dev/pets")
    assert answer.status_code == 404


@pytest.mark.asyncio
async def test_a_function_error_is_a_500(setup: Any) -> None:
    client, _function, _registry = setup
    answer = await client.get(f"/_aws/execute-api/{API_ID}/x/fail")
    assert (answer.status_code, answer.json()) == (500, {"message": "Internal Server Error"})


@pytest.mark.asyncio
async def test_http_proxy_forwards_the_request(setup: Any) -> None:
    client, _function, _registry = setup
    answer = await client.put(
        f"/_aws/execute-api/{API_ID}/backend/a/b?q=1", content=b"data", headers={"x-in": "1"}
    )
    assert answer.status_code == 201
    seen = answer.json()
    assert (seen["method"], seen["path"], seen["query"], seen["body"]) == (
        "PUT",
        "/up/a/b",
        "q=1",
        "data",
    )
    assert seen["headers"]["x-in"] == "1"
    assert seen["headers"]["forwarded"].startswith("for=")  # not x-forwarded-*, as from AWS
    assert "x-forwarded-for" not in seen["headers"]
    assert answer.headers["set-cookie"] == "a=1"


@pytest.mark.asyncio
async def test_bodies_over_the_quota_are_refused() -> None:
    function = EchoFunction()
    async with httpx.AsyncClient() as unused:
        registry = HttpApiRegistry(
            Compiler(function, unused, jwks=JwksCache(unused, clock=time.time))
        )
        registry.publish_api(_deployed())
        endpoint = HttpApiEndpoint(registry, max_body=10)
        transport = httpx.ASGITransport(app=endpoint)
        async with httpx.AsyncClient(transport=transport, base_url="http://h") as client:
            answer = await client.post(f"/_aws/execute-api/{API_ID}/pets", content=b"x" * 11)
    assert (answer.status_code, answer.json()) == (413, {"message": "Request Entity Too Large"})
    assert not function.events


@pytest.mark.asyncio
async def test_custom_domains_route_by_host_and_mapping_key(setup: Any) -> None:
    client, function, registry = setup
    registry.publish_domains(
        [
            ApiMapping("api.example.com", API_ID, "dev", ""),
            ApiMapping("api.example.com", API_ID, "$default", "v1/shop"),
        ]
    )
    answer = await client.get("/pets", headers={"host": "api.example.com"})
    assert answer.headers["x-route"] == "GET /pets"
    assert function.events[-1]["requestContext"]["stage"] == "dev"
    answer = await client.get("/v1/shop/pets/3", headers={"host": "API.example.com:8080"})
    assert answer.headers["x-route"] == "GET /pets/{id}"
    assert function.events[-1]["requestContext"]["stage"] == "$default"
    assert function.events[-1]["pathParameters"] == {"id": "3"}
    assert function.events[-1]["rawPath"] == "/pets/3"  # the mapping key left out, as AWS


@pytest.mark.asyncio
async def test_a_1_0_event_keeps_the_mapping_key_in_its_path(setup: Any) -> None:
    client, function, registry = setup
    api = {"ApiId": "f0e1d2c3b4", "Name": "v1", "ProtocolType": "HTTP"}
    integration = _integration("v1", "AWS_PROXY", FUNCTION_ARN, PayloadFormatVersion="1.0")
    stage = DeployedStage(
        {"StageName": "$default"}, api, (_route("GET /items", "v1"),), (integration,), ()
    )
    registry.publish_api(DeployedApi(ACCOUNT, REGION, "f0e1d2c3b4", False, (stage,)))
    registry.publish_domains([ApiMapping("old.example.com", "f0e1d2c3b4", "$default", "legacy")])
    await client.get("/legacy/items", headers={"host": "old.example.com"})
    event = function.events[-1]
    assert (event["version"], event["path"], event["resource"]) == (
        "1.0",
        "/legacy/items",
        "/items",
    )


@pytest.mark.asyncio
async def test_the_source_names_the_route_and_credentials_invoke_as_the_role(setup: Any) -> None:
    client, function, registry = setup
    await client.post(f"/_aws/execute-api/{API_ID}/dev/anything")  # the $default route
    assert function.sources[-1] is not None
    assert function.sources[-1].source_arn.endswith(f":{API_ID}/dev/$default")

    api = {"ApiId": "c0ffee1234", "Name": "role", "ProtocolType": "HTTP"}
    integration = _integration(
        "r", "AWS_PROXY", FUNCTION_ARN, CredentialsArn="arn:aws:iam::000000000000:role/apigw"
    )
    routes = (_route("ANY /any", "r"),)
    stage = DeployedStage({"StageName": "$default"}, api, routes, (integration,), ())
    registry.publish_api(DeployedApi(ACCOUNT, REGION, "c0ffee1234", False, (stage,)))
    await client.put("/_aws/execute-api/c0ffee1234/any")
    assert function.sources[-1] is None  # the role's permissions apply, not the policy

    # The source is the API's, in the API's region, whatever the function's region.
    plain = _integration("p", "AWS_PROXY", FUNCTION_ARN)
    routes = (_route("ANY /any", "p"),)
    stage = DeployedStage({"StageName": "$default"}, api, routes, (plain,), ())
    registry.publish_api(DeployedApi(ACCOUNT, "us-west-2", "c0ffee1234", False, (stage,)))
    await client.put("/_aws/execute-api/c0ffee1234/any")
    assert function.sources[-1] == ServiceSource(
        "apigateway.amazonaws.com",
        f"arn:aws:execute-api:us-west-2:{ACCOUNT}:c0ffee1234/$default/PUT/any",
        ACCOUNT,
    )


@pytest.mark.asyncio
async def test_a_request_cut_short_invokes_nothing() -> None:
    function = EchoFunction()
    async with httpx.AsyncClient() as unused:
        registry = HttpApiRegistry(
            Compiler(function, unused, jwks=JwksCache(unused, clock=time.time))
        )
        registry.publish_api(_deployed())
        endpoint = HttpApiEndpoint(registry)
        messages = [
            {"type": "http.request", "body": b'{"half":', "more_body": True},
            {"type": "http.disconnect"},
        ]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return messages.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": f"/_aws/execute-api/{API_ID}/pets",
            "raw_path": f"/_aws/execute-api/{API_ID}/pets".encode(),
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1")],
        }
        await endpoint(scope, receive, send)
    assert not function.events
    assert not sent


@pytest.mark.asyncio
async def test_a_fault_inside_the_gateway_is_an_aws_shaped_500() -> None:
    async def broken(*_args: Any, **_options: Any) -> InvocationResult:
        raise RuntimeError("a bug, not the function's fault")

    async with httpx.AsyncClient() as unused:
        registry = HttpApiRegistry(
            Compiler(broken, unused, jwks=JwksCache(unused, clock=time.time))
        )
        registry.publish_api(_deployed())
        transport = httpx.ASGITransport(app=HttpApiEndpoint(registry))
        async with httpx.AsyncClient(transport=transport, base_url="http://h") as client:
            answer = await client.get(f"/_aws/execute-api/{API_ID}/pets")
    assert (answer.status_code, answer.json()) == (500, {"message": "Internal Server Error"})
    assert answer.headers["apigw-requestid"]


@pytest.mark.asyncio
async def test_a_disabled_default_endpoint_is_forbidden_but_domains_serve(setup: Any) -> None:
    client, _function, registry = setup
    enabled = _deployed()
    registry.publish_api(
        DeployedApi(ACCOUNT, REGION, API_ID, True, enabled.stages)  # DisableExecuteApiEndpoint
    )
    registry.publish_domains([ApiMapping("api.example.com", API_ID, "$default", "")])
    refused = await client.get(f"/_aws/execute-api/{API_ID}/pets")
    assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"})
    by_host = await client.get("/pets", headers={"host": f"{API_ID}.execute-api.localhost"})
    assert by_host.status_code == 403
    served = await client.get("/pets", headers={"host": "api.example.com"})
    assert served.headers["x-route"] == "GET /pets"


class Started:
    """A `StartInvoke` whose way of failing a test picks: at once (`raise`), later through
    `then` (`later`), or none (`answer`: an echo of the event, a moment later)."""

    def __init__(self, way: str) -> None:
        self.way = way
        self.started: list[dict[str, Any]] = []

    def __call__(
        self,
        account: str,
        region: str,
        name: str,
        qualifier: str,
        payload: bytes,
        then: Any,
        *,
        within: float | None = None,
        source: ServiceSource | None = None,
    ) -> None:
        self.started.append(json.loads(payload))
        if self.way == "raise":
            raise RuntimeError("a bug before the invocation")
        loop = asyncio.get_running_loop()
        if self.way == "later":
            loop.call_soon(then, RuntimeError("a bug after the invocation"))
            return
        answer = {"statusCode": 200, "headers": {"x-direct": "yes"}, "body": "ok"}
        result = InvocationResult("r", json.dumps(answer).encode(), "$LATEST")
        loop.call_soon(then, result)


async def _answered_directly(way: str) -> tuple[int, dict[bytes, bytes], bytes, Started]:
    """A request to GET /pets answered through `HttpApiEndpoint.direct`, as the server's
    protocol answers it: the status, headers and body given to `respond`."""
    started = Started(way)
    answers: list[tuple[int, dict[bytes, bytes], bytes]] = []
    async with httpx.AsyncClient() as unused:
        registry = HttpApiRegistry(
            Compiler(
                EchoFunction(),
                unused,
                jwks=JwksCache(unused, clock=time.time),
                start_invoke=started,
            )
        )
        registry.publish_api(_deployed())
        endpoint = HttpApiEndpoint(registry)
        path = f"/_aws/execute-api/{API_ID}/pets"
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1:4566")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 4566),
        }
        answer = endpoint.direct(scope)
        assert answer is not None
        answer(
            scope, b"", lambda status, headers, body: answers.append((status, dict(headers), body))
        )
        for _ in range(3):
            await asyncio.sleep(0)
    [(status, headers, body)] = answers
    return status, headers, body, started


@pytest.mark.asyncio
async def test_a_request_answered_directly_gets_the_function_s_answer() -> None:
    status, headers, body, started = await _answered_directly("answer")
    assert (status, headers[b"x-direct"], body) == (200, b"yes", b"ok")
    assert headers[b"content-length"] == b"2"
    assert started.started[0]["routeKey"] == "GET /pets"
    assert headers[b"apigw-requestid"].decode() == started.started[0]["requestContext"]["requestId"]


@pytest.mark.asyncio
@pytest.mark.parametrize("way", ["raise", "later"])
async def test_a_fault_on_the_direct_way_is_an_aws_shaped_500(
    way: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Before the invocation or after it, a fault of Portico's own answers the client (it
    would otherwise wait for ever: no coroutine is there to raise to)."""
    status, headers, body, _started = await _answered_directly(way)
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    assert headers[b"apigw-requestid"]
    assert "a bug" in caplog.text
