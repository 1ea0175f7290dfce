"""HTTP APIs served by the real server: APIs made with boto3, requests sent with httpx."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.http_apis import (
    ACCOUNT,
    REGION,
    allow_api,
    function,
    quick_api,
    shared_server,
)

__all__ = ["shared_server"]


def _event(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    event: dict[str, Any] = answer.json()
    return event


def test_quick_create_serves_the_function_at_the_api_endpoint(shared_server: Server) -> None:
    arn = function(shared_server, "quick-echo")
    api = quick_api(shared_server, arn)
    answer = httpx.get(api["ApiEndpoint"] + "/pets/7?kind=dog&kind=cat", headers={"x-a": "1"})
    event = _event(answer)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/pets/7"
    assert event["rawQueryString"] == "kind=dog&kind=cat"
    assert event["queryStringParameters"] == {"kind": "dog,cat"}
    assert event["headers"]["x-a"] == "1"
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", event["headers"]["x-amzn-trace-id"])
    context = event["requestContext"]
    assert context["apiId"] == api["ApiId"]
    assert context["accountId"] == ACCOUNT
    assert context["stage"] == "$default"
    assert context["http"]["method"] == "GET"
    assert context["requestId"] == answer.headers["apigw-requestid"]
    assert "server" not in answer.headers


def test_the_api_answers_by_host_name_too(shared_server: Server) -> None:
    api = quick_api(shared_server, function(shared_server, "host-echo"))
    port = shared_server.url.rsplit(":", 1)[1]
    answer = httpx.get(
        f"{shared_server.url}/items",
        headers={"host": f"{api['ApiId']}.execute-api.localhost:{port}"},
    )
    event = _event(answer)
    assert event["rawPath"] == "/items"
    assert event["requestContext"]["domainName"] == f"{api['ApiId']}.execute-api.localhost"


def test_routes_stages_and_deployments(shared_server: Server) -> None:
    gateway = shared_server.client("apigatewayv2")
    arn = function(shared_server, "routes-echo")
    api = gateway.create_api(Name="pets", ProtocolType="HTTP")
    api_id = api["ApiId"]
    allow_api(shared_server, arn, api_id, "*/*/pets/{id}")
    allow_api(shared_server, arn, api_id, "*/*/old/{proxy+}")
    v2 = gateway.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="2.0"
    )["IntegrationId"]
    v1 = gateway.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="1.0"
    )["IntegrationId"]
    gateway.create_route(ApiId=api_id, RouteKey="GET /pets/{id}", Target=f"integrations/{v2}")
    gateway.create_route(ApiId=api_id, RouteKey="ANY /old/{proxy+}", Target=f"integrations/{v1}")
    gateway.create_stage(ApiId=api_id, StageName="dev", StageVariables={"color": "blue"})
    base = api["ApiEndpoint"]
    assert httpx.get(f"{base}/dev/pets/7").json() == {"message": "Not Found"}  # not deployed

    gateway.create_deployment(ApiId=api_id, StageName="dev")
    event = _event(httpx.get(f"{base}/dev/pets/7"))
    assert event["routeKey"] == "GET /pets/{id}"
    assert event["rawPath"] == "/dev/pets/7"
    assert event["pathParameters"] == {"id": "7"}
    assert event["stageVariables"] == {"color": "blue"}
    assert event["requestContext"]["stage"] == "dev"

    old = _event(
        httpx.post(
            f"{base}/dev/old/a/b?x=1",
            content=b'{"k": 1}',
            headers={"content-type": "application/json"},
        )
    )
    assert old["version"] == "1.0"
    assert old["resource"] == "/old/{proxy+}"
    assert old["path"] == "/dev/old/a/b"
    assert old["httpMethod"] == "POST"
    assert old["pathParameters"] == {"proxy": "a/b"}
    assert old["queryStringParameters"] == {"x": "1"}
    assert old["body"] == '{"k": 1}'
    assert old["requestContext"]["stage"] == "dev"

    missing = httpx.delete(f"{base}/dev/pets/7")
    assert (missing.status_code, missing.json()) == (404, {"message": "Not Found"})
    # A change is served only once deployed (the stage does not auto-deploy).
    gateway.create_route(ApiId=api_id, RouteKey="DELETE /pets/{id}", Target=f"integrations/{v2}")
    assert httpx.delete(f"{base}/dev/pets/7").status_code == 404
    gateway.create_deployment(ApiId=api_id, StageName="dev")
    assert _event(httpx.delete(f"{base}/dev/pets/7"))["routeKey"] == "DELETE /pets/{id}"


def test_paths_reach_the_function_decoded_as_http_apis_deliver_them(
    shared_server: Server,
) -> None:
    gateway = shared_server.client("apigatewayv2")
    arn = function(shared_server, "paths-echo")
    api = gateway.create_api(Name="paths", ProtocolType="HTTP")
    api_id, base = api["ApiId"], api["ApiEndpoint"]
    allow_api(shared_server, arn, api_id)
    for version, route_key in (("2.0", "GET /capture/{value}"), ("1.0", "GET /v1/{value}")):
        integration = gateway.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=arn,
            PayloadFormatVersion=version,
        )
        gateway.create_route(
            ApiId=api_id,
            RouteKey=route_key,
            Target=f"integrations/{integration['IntegrationId']}",
        )
    gateway.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)

    spaced = _event(httpx.get(f"{base}/capture/space%20value%E2%9C%93"))
    assert spaced["rawPath"] == "/capture/space value\u2713"
    assert spaced["requestContext"]["http"]["path"] == "/capture/space value\u2713"
    assert spaced["pathParameters"] == {"value": "space value\u2713"}
    assert _event(httpx.get(f"{base}/v1/space%20value"))["path"] == "/v1/space value"
    # An escaped slash is a slash by the time routes are matched: two segments, no route.
    split = httpx.get(f"{base}/capture/slash%2Fvalue")
    assert (split.status_code, split.json()) == (404, {"message": "Not Found"})
    # An escaped escape is routed as one segment, and given to the function decoded twice.
    twice = _event(httpx.get(f"{base}/capture/literal%252Fvalue"))
    assert twice["rawPath"] == "/capture/literal/value"
    assert twice["pathParameters"] == {"value": "literal/value"}
    # A '?' the path decodes to ends it; the query is the one sent.
    cut = _event(httpx.get(f"{base}/capture/question%3Fvalue?a=1"))
    assert (cut["rawPath"], cut["rawQueryString"]) == ("/capture/question", "a=1")
    # "%25do" decodes to "%do", which decodes to nothing: the request is refused.
    refused = httpx.get(f"{base}/capture/percent%25done")
    assert (refused.status_code, refused.json()) == (400, {"message": "Bad Request"})


def test_function_errors_timeouts_and_oversized_bodies(shared_server: Server) -> None:
    arn = function(
        shared_server, "slow-echo", Environment={"Variables": {"SLEEP": "3"}}, Timeout=10
    )
    api = quick_api(shared_server, arn)
    gateway = shared_server.client("apigatewayv2")
    integration = gateway.get_integrations(ApiId=api["ApiId"])["Items"][0]
    gateway.update_integration(
        ApiId=api["ApiId"], IntegrationId=integration["IntegrationId"], TimeoutInMillis=1000
    )
    base = api["ApiEndpoint"]
    failed = httpx.get(f"{base}/fail")
    assert (failed.status_code, failed.json()) == (500, {"message": "Internal Server Error"})
    started = time.monotonic()
    late = httpx.get(f"{base}/sleep", timeout=10)
    assert (late.status_code, late.json()) == (503, {"message": "Service Unavailable"})
    assert time.monotonic() - started < 2.5
    huge = httpx.post(f"{base}/upload", content=b"x" * (10 * 1024 * 1024 + 1), timeout=30)
    assert (huge.status_code, huge.json()) == (413, {"message": "Request Entity Too Large"})


def test_the_function_policy_must_let_the_api_invoke(shared_server: Server) -> None:
    functions = shared_server.client("lambda")
    arn = function(shared_server, "guarded")
    functions.publish_version(FunctionName="guarded")
    functions.create_alias(FunctionName="guarded", Name="live", FunctionVersion="1")
    api = quick_api(shared_server, arn, permit=False)
    api_id, url = api["ApiId"], api["ApiEndpoint"] + "/pets"
    internal_error = (500, {"message": "Internal Server Error"})

    refused = httpx.get(url)  # no policy at all: API Gateway may not invoke
    assert (refused.status_code, refused.json()) == internal_error
    assert shared_server.log_path is not None
    source = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/$default/$default"
    hint = (
        f"--principal apigateway.amazonaws.com --action lambda:InvokeFunction --source-arn {source}"
    )
    assert hint in shared_server.log_path.read_text()  # the server says how to grant it
    allow_api(shared_server, arn, api_id, "*/POST/*")  # another method only
    assert httpx.get(url).status_code == 500
    granted = allow_api(shared_server, arn, api_id, "$default/*")  # takes effect at once
    assert httpx.get(url).status_code == 200
    functions.remove_permission(FunctionName="guarded", StatementId=granted)
    assert httpx.get(url).status_code == 500

    # An alias has a policy of its own: the function's does not cover it.
    allow_api(shared_server, arn, api_id)
    on_alias = quick_api(shared_server, f"{arn}:live", permit=False)
    assert httpx.get(on_alias["ApiEndpoint"] + "/").status_code == 500
    allow_api(shared_server, f"{arn}:live", on_alias["ApiId"])
    assert httpx.get(on_alias["ApiEndpoint"] + "/").status_code == 200


def test_an_integration_may_name_an_alias(shared_server: Server) -> None:
    functions = shared_server.client("lambda")
    arn = function(shared_server, "aliased", Environment={"Variables": {"V": "one"}})
    functions.publish_version(FunctionName="aliased")
    functions.update_function_configuration(
        FunctionName="aliased", Environment={"Variables": {"V": "two"}}
    )
    functions.create_alias(FunctionName="aliased", Name="live", FunctionVersion="1")
    api = quick_api(shared_server, f"{arn}:live")
    assert httpx.get(api["ApiEndpoint"] + "/").headers["x-version"] == "one"


def test_cors_is_answered_by_the_gateway(shared_server: Server) -> None:
    api = quick_api(
        shared_server,
        function(shared_server, "cors-echo"),
        CorsConfiguration={
            "AllowOrigins": ["https://app.example.com"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["content-type", "x-token"],
            "ExposeHeaders": ["x-version"],
            "MaxAge": 300,
        },
    )
    base = api["ApiEndpoint"]
    preflight = httpx.options(
        f"{base}/things",
        headers={
            "origin": "https://app.example.com",
            "access-control-request-method": "POST",
            "access-control-request-headers": "x-token",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-max-age"] == "300"
    actual = httpx.get(f"{base}/things", headers={"origin": "https://app.example.com"})
    assert actual.status_code == 200
    assert actual.headers["access-control-allow-origin"] == "https://app.example.com"
    assert actual.headers["access-control-expose-headers"] == "x-version"
    stranger = httpx.get(f"{base}/things", headers={"origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in stranger.headers
    # A body over 64 KiB is answered the ASGI way, a small one from callbacks: alike.
    for size in (10, 100 * 1024):
        posted = httpx.post(
            f"{base}/things",
            content=b"x" * size,
            headers={"origin": "https://app.example.com", "content-type": "text/plain"},
        )
        assert posted.status_code == 200
        assert posted.headers["access-control-allow-origin"] == "https://app.example.com"
        assert posted.headers["access-control-expose-headers"] == "x-version"
        assert posted.json()["body"] == "x" * size


def test_throttling_answers_429(shared_server: Server) -> None:
    api = quick_api(shared_server, function(shared_server, "throttled-echo"))
    shared_server.client("apigatewayv2").update_stage(
        ApiId=api["ApiId"],
        StageName="$default",
        DefaultRouteSettings={"ThrottlingBurstLimit": 2, "ThrottlingRateLimit": 0.5},
    )
    with httpx.Client() as client:
        answers = [client.get(api["ApiEndpoint"] + "/") for _ in range(6)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:2] == [200, 200]
    assert 429 in statuses
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.json() == {"message": "Too Many Requests"}


def test_the_accounts_throttling_quota_is_awss_unless_raised(tmp_path: Path) -> None:
    """Every API of the account shares its quota: AWS's 10,000 requests a second, burst
    5,000, by default; PORTICO_ACCOUNT_THROTTLE_RATE and _BURST set it, as a quota increase
    does on AWS. A stage without limits of its own adds none."""
    quota = {"PORTICO_ACCOUNT_THROTTLE_RATE": "0.5", "PORTICO_ACCOUNT_THROTTLE_BURST": "3"}
    running = start_server(tmp_path / "data", tmp_path / "server.log", environment=quota)
    try:
        target = function(running, "quota-echo")
        apis = [quick_api(running, target), quick_api(running, target)]
        with httpx.Client() as client:
            statuses = [client.get(apis[n % 2]["ApiEndpoint"] + "/").status_code for n in range(5)]
    finally:
        stop_server(running.process)
    assert statuses == [200, 200, 200, 429, 429]  # three tokens, shared by both APIs


def test_access_logs_and_metrics(shared_server: Server) -> None:
    api = quick_api(shared_server, function(shared_server, "logged-echo"))
    logs = shared_server.client("logs")
    group = f"/portico/access/{api['ApiId']}"
    logs.create_log_group(logGroupName=group)
    shared_server.client("apigatewayv2").update_stage(
        ApiId=api["ApiId"],
        StageName="$default",
        AccessLogSettings={
            "DestinationArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}",
            "Format": "$context.requestId $context.httpMethod $context.routeKey $context.status",
        },
    )
    answer = httpx.post(api["ApiEndpoint"] + "/orders")
    request_id = answer.headers["apigw-requestid"]
    expected = f"{request_id} POST $default 200"
    deadline = time.monotonic() + 10
    messages: list[str] = []
    while time.monotonic() < deadline and expected not in messages:
        found = logs.filter_log_events(logGroupName=group)
        messages = [event["message"] for event in found["events"]]
        time.sleep(0.1)
    assert expected in messages
    metrics = httpx.get(f"{shared_server.url}/_portico/metrics").text
    labels = f'api_id="{api["ApiId"]}",stage="$default",route="$default"'
    assert f"portico_apigateway_count_total{{{labels}}} 1" in metrics


def test_custom_domain_names_route_by_host(shared_server: Server) -> None:
    gateway = shared_server.client("apigatewayv2")
    api = quick_api(shared_server, function(shared_server, "domain-echo"))
    gateway.create_domain_name(DomainName="shop.example.com")
    gateway.create_api_mapping(
        DomainName="shop.example.com", ApiId=api["ApiId"], Stage="$default", ApiMappingKey="v1"
    )
    answer = httpx.get(f"{shared_server.url}/v1/cart", headers={"host": "shop.example.com"})
    event = _event(answer)
    assert event["requestContext"]["apiId"] == api["ApiId"]
    assert event["requestContext"]["domainName"] == "shop.example.com"
    assert event["rawPath"] == "/cart"  # as AWS: the mapping key is not part of rawPath


def test_deployed_apis_are_served_after_a_restart(tmp_path: Path) -> None:
    running = start_server(tmp_path / "data", tmp_path / "server.log")
    try:
        api = quick_api(running, function(running, "durable-echo"))
    finally:
        stop_server(running.process)
    running = start_server(tmp_path / "data", tmp_path / "server.log")
    try:
        port = running.url.rsplit(":", 1)[1]
        endpoint = api["ApiEndpoint"].replace(api["ApiEndpoint"].split("/")[2], f"127.0.0.1:{port}")
        assert _event(httpx.get(endpoint + "/again"))["rawPath"] == "/again"
    finally:
        stop_server(running.process)


@pytest.mark.parametrize("payload_version", ["1.0", "2.0"])
def test_a_plain_result_becomes_a_json_200(shared_server: Server, payload_version: str) -> None:
    name = f"plain-{payload_version.replace('.', '')}"
    arn = function(
        shared_server, name, source="def handler(event, context):\n    return {'a': 1}\n"
    )
    gateway = shared_server.client("apigatewayv2")
    api = gateway.create_api(Name=name, ProtocolType="HTTP")
    allow_api(shared_server, arn, api["ApiId"])
    integration = gateway.create_integration(
        ApiId=api["ApiId"],
        IntegrationType="AWS_PROXY",
        IntegrationUri=arn,
        PayloadFormatVersion=payload_version,
    )
    gateway.create_route(
        ApiId=api["ApiId"], RouteKey="GET /", Target=f"integrations/{integration['IntegrationId']}"
    )
    gateway.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    answer = httpx.get(api["ApiEndpoint"] + "/")
    if payload_version == "2.0":
        assert (answer.status_code, answer.json()) == (200, {"a": 1})
        assert answer.headers["content-type"] == "application/json"
    else:  # 1.0 needs statusCode: anything else is a malformed proxy response
        assert (answer.status_code, answer.json()) == (500, {"message": "Internal Server Error"})
    assert json.loads(answer.text)


def test_a_no_content_answer_keeps_the_connection_usable(shared_server: Server) -> None:
    source = "def handler(event, context):\n    return {'statusCode': 204, 'body': 'ignored'}\n"
    api = quick_api(shared_server, function(shared_server, "no-content", source=source))
    with httpx.Client() as client:
        for _ in range(3):
            answer = client.delete(api["ApiEndpoint"] + "/item")
            assert (answer.status_code, answer.content) == (204, b"")


HEADERS_BY_PATH = """
def handler(event, context):
    answers = {
        "/split": {"headers": {"x-bad": "a\\r\\nInjected: 1"}},
        "/name": {"headers": {"bad name": "v"}},
        "/cookie": {"cookies": ["a=1\\r\\nInjected: 2"]},
        "/framing": {"headers": {"content-length": "999", "transfer-encoding": "chunked",
                                 "connection": "close", "date": "yesterday", "x-kept": "yes"}},
        "/unicode": {"headers": {"x-cup": "caf\\u00e9 \\u2615"}},
        "/informational": {"statusCode": 101},
    }
    return {"statusCode": 200, "body": "ok", **answers[event["rawPath"]]}
"""


def test_function_headers_no_response_can_carry_are_a_500(shared_server: Server) -> None:
    """Not a connection dropped, a response split, a header injected or a client left
    waiting after a 1xx: AWS's 500."""
    api = quick_api(shared_server, function(shared_server, "bad-headers", source=HEADERS_BY_PATH))
    with httpx.Client() as client:
        for path in ("/split", "/name", "/cookie", "/informational"):
            answer = client.get(api["ApiEndpoint"] + path)
            assert (answer.status_code, answer.json()) == (
                500,
                {"message": "Internal Server Error"},
            )
            assert "injected" not in answer.headers
        # the gateway frames and dates the response itself; the connection stays usable
        framed = client.get(api["ApiEndpoint"] + "/framing")
        assert (framed.status_code, framed.text, framed.headers["x-kept"]) == (200, "ok", "yes")
        assert framed.headers.get_list("content-length") == ["2"]
        assert (
            len(framed.headers.get_list("date")) == 1 and "yesterday" not in framed.headers["date"]
        )
        assert "transfer-encoding" not in framed.headers and "connection" not in framed.headers
        cup = client.get(api["ApiEndpoint"] + "/unicode")
        assert cup.headers.raw[[k for k, _v in cup.headers.raw].index(b"x-cup")][1] == (
            "caf\u00e9 \u2615".encode()
        )


class _Backend(BaseHTTPRequestHandler):
    """An HTTP backend that answers with what it was asked, and a few that misbehave."""

    def _answer(self) -> None:
        special = self._SPECIAL.get(self.path)
        if special is not None:
            with contextlib.suppress(OSError):  # the gateway stopped listening: as it should
                special(self)
            return
        length = int(self.headers.get("content-length") or 0)
        document = {
            "method": self.command,
            "path": self.path,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body": self.rfile.read(length).decode(),
        }
        data = json.dumps(document).encode()
        self.send_response(202)
        self.send_header("content-type", "application/json")
        self.send_header("x-backend", "yes")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _trickle(self) -> None:
        """40 bytes, one every 0.2 s."""
        self.send_response(200)
        self.send_header("content-length", "40")
        self.end_headers()
        for _ in range(40):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.2)

    def _huge(self) -> None:
        """A body over the 10 MB payload quota."""
        size = 10 * 1024 * 1024 + 1
        self.send_response(200)
        self.send_header("content-length", str(size))
        self.end_headers()
        self.wfile.write(bytes(size))

    def _compressed(self) -> None:
        """gzip when the client asks for it, and what it asked for in x-asked."""
        asked = self.headers.get("accept-encoding", "(none)")
        data = GREETING
        self.send_response(200)
        if "gzip" in asked:
            data = gzip.compress(data)
            self.send_header("content-encoding", "gzip")
        self.send_header("x-asked", asked)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    _SPECIAL: ClassVar[dict[str, Callable[[_Backend], None]]] = {
        "/trickle": _trickle,
        "/huge": _huge,
        "/compressed": _compressed,
    }

    do_GET = do_HEAD = do_POST = do_PUT = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def backend() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def proxy_api(server: Server, route_key: str, uri: str, **integration: Any) -> Any:
    """An HTTP API whose one route is an HTTP proxy to `uri`, on an auto-deployed stage."""
    gateway = server.client("apigatewayv2")
    api = gateway.create_api(Name="proxy", ProtocolType="HTTP")
    created = gateway.create_integration(
        ApiId=api["ApiId"],
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="ANY",
        IntegrationUri=uri,
        PayloadFormatVersion="1.0",
        **integration,
    )
    gateway.create_route(
        ApiId=api["ApiId"],
        RouteKey=route_key,
        Target=f"integrations/{created['IntegrationId']}",
    )
    gateway.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    return api


def test_http_proxy_with_parameter_mapping(shared_server: Server, backend: str) -> None:
    api = proxy_api(
        shared_server,
        "ANY /shop/{proxy+}",
        f"{backend}/store/{{proxy}}",
        RequestParameters={
            "append:header.x-request": "$context.requestId",
            "overwrite:querystring.source": "gateway",
            "remove:header.x-secret": "''",
        },
        ResponseParameters={"202": {"overwrite:header.x-mapped": "$response.header.x-backend"}},
    )
    answer = httpx.post(
        f"{api['ApiEndpoint']}/shop/cart/items?source=client&page=2",
        content=b"payload",
        headers={"x-secret": "hidden", "x-kept": "1"},
    )
    assert answer.status_code == 202, answer.text
    assert len(answer.headers.get_list("date")) == 1  # the gateway's, not the backend's too
    seen = answer.json()
    assert seen["method"] == "POST"
    assert seen["path"].startswith("/store/cart/items?")
    assert "source=gateway" in seen["path"] and "page=2" in seen["path"]
    assert "source=client" not in seen["path"]
    assert seen["body"] == "payload"
    assert seen["headers"]["x-request"] == answer.headers["apigw-requestid"]
    assert seen["headers"]["x-kept"] == "1"
    assert "x-secret" not in seen["headers"]
    # as from an HTTP API: the client in one Forwarded header, and the gateway in Via
    host = httpx.URL(api["ApiEndpoint"]).netloc.decode()
    assert seen["headers"]["forwarded"] == f'for=127.0.0.1;host="{host}";proto=http'
    assert seen["headers"]["via"] == "HTTP/1.1 AmazonAPIGateway"
    assert not [name for name in seen["headers"] if name.startswith("x-forwarded-")]
    assert answer.headers["x-mapped"] == "yes"


GREETING = b"hello from the backend " * 100


def test_http_proxy_answers_come_as_they_came_within_the_timeout_and_quota(
    shared_server: Server, backend: str
) -> None:
    endpoint = proxy_api(shared_server, "$default", backend, TimeoutInMillis=1000)["ApiEndpoint"]
    with httpx.Client(timeout=30) as client:
        # The timeout counts for the whole answer, not for each piece of it.
        started = time.monotonic()
        slow = client.get(endpoint + "/trickle")
        assert (slow.status_code, slow.json()) == (504, {"message": "Gateway Timeout"})
        assert time.monotonic() - started < 4
        huge = client.get(endpoint + "/huge")
        assert (huge.status_code, huge.json()) == (500, {"message": "Internal Server Error"})
        # A compressed body is passed on compressed, for the client that asked for it.
        packed = client.get(endpoint + "/compressed", headers={"accept-encoding": "gzip"})
        assert packed.status_code == 200
        assert (packed.headers["content-encoding"], packed.headers["x-asked"]) == ("gzip", "gzip")
        assert int(packed.headers["content-length"]) == len(gzip.compress(GREETING))
        assert packed.content == GREETING
        # A client that asks for no encoding is not made to ask for one.
        client.headers.pop("accept-encoding")
        plain = client.get(endpoint + "/compressed")
        assert (plain.status_code, plain.content) == (200, GREETING)
        assert "content-encoding" not in plain.headers
        assert plain.headers["x-asked"] == "(none)"
        # HEAD: the length the GET would have, and no body
        head = client.head(endpoint + "/compressed")
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == str(len(GREETING))


def test_a_storm_of_cold_starts_is_answered_whole(tmp_path: Path) -> None:
    """More requests at once than warm environments: each starts one, and more spawn requests
    reach the zygote than its socket holds. The rest wait for room: none fails."""
    running = start_server(tmp_path / "data", tmp_path / "server.log")
    try:
        arn = function(running, "storm", Environment={"Variables": {"SLEEP": "1"}})
        api = quick_api(running, arn)
        storm = 300

        async def all_at_once() -> list[int]:
            limits = httpx.Limits(max_connections=storm)
            async with httpx.AsyncClient(limits=limits, timeout=120) as client:
                answers = await asyncio.gather(
                    *(client.get(api["ApiEndpoint"] + "/sleep") for _ in range(storm))
                )
            return [answer.status_code for answer in answers]

        assert asyncio.run(all_at_once()) == [200] * storm
        assert "Traceback" not in (tmp_path / "server.log").read_text()
    finally:
        stop_server(running.process)
