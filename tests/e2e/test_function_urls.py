"""Function URLs end to end: configure with boto3, call with httpx (Host header or path form)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.e2e.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Server, error_of
from tests.e2e.test_lambda_api import create

HANDLER = """
def handler(event, context):
    path = event["rawPath"]
    if path == "/structured":
        return {"statusCode": 201, "headers": {"X-Made": "yes", "Content-Type": "text/plain"},
                "cookies": ["a=1", "b=2"], "body": "made"}
    if path == "/fail":
        raise ValueError("boom")
    if path == "/text":
        return "just text"
    if path == "/split":
        return {"statusCode": 200, "headers": {"X-Bad": "a\\r\\nInjected: 1"}, "body": "x"}
    return {"event": event, "version": context.function_version}
"""


def open_to_public(client: Any, function: str) -> list[str]:
    """The two statements a public URL needs (the console adds them); their ids."""
    client.add_permission(
        FunctionName=function,
        StatementId="FunctionURLAllowPublicAccess",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    client.add_permission(
        FunctionName=function,
        StatementId="FunctionURLAllowInvokeAction",
        Action="lambda:InvokeFunction",
        Principal="*",
        InvokedViaFunctionUrl=True,
    )
    return ["FunctionURLAllowPublicAccess", "FunctionURLAllowInvokeAction"]


def url_config(server: Server, **extra: Any) -> tuple[Any, dict[str, Any]]:
    client = server.client("lambda")
    create(client, "web", HANDLER)
    client.get_waiter("function_active_v2").wait(FunctionName="web")
    config: dict[str, Any] = client.create_function_url_config(
        FunctionName="web", AuthType="NONE", **extra
    )
    open_to_public(client, "web")
    return client, config


def call(
    server: Server, function_url: str, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    host = urlsplit(function_url).netloc
    headers = {"Host": host, **kwargs.pop("headers", {})}
    return httpx.request(method, f"{server.url}{path}", headers=headers, timeout=30, **kwargs)


def test_url_config_api(server: Server) -> None:
    client, config = url_config(server, Cors={"AllowOrigins": ["*"]})
    port = urlsplit(server.url).port
    url = urlsplit(config["FunctionUrl"])
    url_id, _, rest = url.netloc.partition(".")
    assert len(url_id) == 32 and url_id == url_id.lower()
    assert rest == f"lambda-url.eu-west-1.localhost:{port}" and url.path == "/"
    assert config["FunctionArn"].endswith(":function:web") and config["AuthType"] == "NONE"
    fetched = client.get_function_url_config(FunctionName="web")
    assert (
        fetched["Cors"] == {"AllowOrigins": ["*"]}
        and fetched["FunctionUrl"] == config["FunctionUrl"]
    )
    assert error_of(client.create_function_url_config, FunctionName="web", AuthType="NONE")[:2] == (
        409,
        "ResourceConflictException",
    )
    updated = client.update_function_url_config(FunctionName="web", AuthType="AWS_IAM")
    assert updated["AuthType"] == "AWS_IAM"
    listed = client.list_function_url_configs(FunctionName="web")["FunctionUrlConfigs"]
    assert [item["FunctionUrl"] for item in listed] == [config["FunctionUrl"]]
    client.delete_function_url_config(FunctionName="web")
    assert error_of(client.get_function_url_config, FunctionName="web") == (
        404,
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
    )


def test_requests_reach_the_function(server: Server) -> None:
    _client, config = url_config(server)
    response = call(
        server,
        config["FunctionUrl"],
        "POST",
        "/items/7?a=1&a=2&b=x",
        headers={"Content-Type": "application/json", "Cookie": "c1=v1; c2=v2", "X-Custom": "yes"},
        content=b'{"hello": "world"}',
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    event = document["event"]
    assert document["version"] == "$LATEST"
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/items/7" and event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["headers"]["x-custom"] == "yes" and "cookie" not in event["headers"]
    assert event["body"] == '{"hello": "world"}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    url_id = urlsplit(config["FunctionUrl"]).netloc.split(".")[0]
    assert context["apiId"] == url_id and context["domainPrefix"] == url_id
    assert context["http"]["method"] == "POST" and context["http"]["path"] == "/items/7"
    assert context["accountId"] == "anonymous" and "authorizer" not in context
    assert context["stage"] == "$default" and isinstance(context["timeEpoch"], int)

    binary = call(server, config["FunctionUrl"], "PUT", "/bin", content=b"\x00\x01\xff")
    assert binary.json()["event"]["isBase64Encoded"] is True

    by_path = httpx.get(f"{server.url}/_portico/lambda-url/{url_id}/via/path", timeout=30)
    assert by_path.status_code == 200 and by_path.json()["event"]["rawPath"] == "/via/path"


def test_response_mapping(server: Server) -> None:
    _client, config = url_config(server)
    structured = call(server, config["FunctionUrl"], "GET", "/structured")
    assert structured.status_code == 201 and structured.text == "made"
    assert structured.headers["x-made"] == "yes"
    assert structured.headers.get_list("set-cookie") == ["a=1", "b=2"]
    text = call(server, config["FunctionUrl"], "GET", "/text")
    assert (text.status_code, text.text) == (200, "just text")
    failed = call(server, config["FunctionUrl"], "GET", "/fail")
    assert failed.status_code == 502 and failed.json() == {"Message": "Internal Server Error"}
    split = call(server, config["FunctionUrl"], "GET", "/split")  # no response can carry it
    assert split.status_code == 502 and split.json() == {"Message": "Internal Server Error"}
    unknown = call(server, f"http://{'f' * 32}.lambda-url.eu-west-1.localhost/", "GET", "/")
    assert unknown.status_code == 403 and unknown.json() == {"Message": None}


def signed_call(server: Server, function_url: str, secret: str) -> httpx.Response:
    body = b'{"signed": true}'
    request = AWSRequest(
        method="POST",
        url=f"{function_url}signed",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    SigV4Auth(Credentials(ACCESS_KEY_ID, secret), "lambda", "eu-west-1").add_auth(request)
    headers = {name: value for name, value in request.headers.items()}
    return call(server, function_url, "POST", "/signed", headers=headers, content=body)


def test_aws_iam(server: Server) -> None:
    client = server.client("lambda")
    create(client, "web", HANDLER)
    client.get_waiter("function_active_v2").wait(FunctionName="web")
    config = client.create_function_url_config(FunctionName="web", AuthType="AWS_IAM")
    unsigned = call(server, config["FunctionUrl"], "GET", "/")
    assert unsigned.status_code == 403 and unsigned.json() == {"Message": "Forbidden"}
    wrong = signed_call(server, config["FunctionUrl"], "not-the-secret")
    assert wrong.status_code == 403
    good = signed_call(server, config["FunctionUrl"], SECRET_ACCESS_KEY)
    assert good.status_code == 200, good.text
    context = good.json()["event"]["requestContext"]
    assert context["authorizer"]["iam"]["accessKey"] == ACCESS_KEY_ID
    assert json.loads(good.json()["event"]["body"]) == {"signed": True}


def test_a_public_url_needs_the_policy_to_let_the_public_in(server: Server) -> None:
    client = server.client("lambda")
    create(client, "closed", HANDLER)
    config = client.create_function_url_config(FunctionName="closed", AuthType="NONE")
    forbidden = (403, {"Message": "Forbidden"})
    refused = call(server, config["FunctionUrl"], "GET", "/")
    assert (refused.status_code, refused.json()) == forbidden
    assert refused.headers["x-amzn-errortype"] == "AccessDeniedException"

    _access, invoke = open_to_public(client, "closed")
    assert call(server, config["FunctionUrl"], "GET", "/").status_code == 200
    policy = json.loads(client.get_policy(FunctionName="closed")["Policy"])
    conditions = [statement["Condition"] for statement in policy["Statement"]]
    assert conditions == [
        {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
        {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
    ]
    client.remove_permission(FunctionName="closed", StatementId=invoke)  # both are needed
    refused = call(server, config["FunctionUrl"], "GET", "/")
    assert (refused.status_code, refused.json()) == forbidden


def test_a_deleted_function_can_get_a_url_again(server: Server) -> None:
    client = server.client("lambda")
    create(client, name="again")
    client.create_function_url_config(FunctionName="again", AuthType="NONE")
    client.delete_function(FunctionName="again")
    create(client, name="again")
    config = client.create_function_url_config(FunctionName="again", AuthType="NONE")
    assert config["FunctionUrl"].startswith("http://")


def test_a_deleted_alias_can_get_a_url_again(server: Server) -> None:
    client = server.client("lambda")
    create(client, name="aliased")
    version = client.publish_version(FunctionName="aliased")["Version"]
    client.create_alias(FunctionName="aliased", Name="live", FunctionVersion=version)
    client.create_function_url_config(FunctionName="aliased", Qualifier="live", AuthType="NONE")
    client.delete_alias(FunctionName="aliased", Name="live")
    client.create_alias(FunctionName="aliased", Name="live", FunctionVersion=version)
    config = client.create_function_url_config(
        FunctionName="aliased", Qualifier="live", AuthType="NONE"
    )
    assert config["FunctionUrl"].startswith("http://")


def test_cors_is_served_from_the_url_config(server: Server) -> None:
    client = server.client("lambda")
    create(client, name="browser")
    config = client.create_function_url_config(
        FunctionName="browser",
        AuthType="AWS_IAM",
        Cors={"AllowOrigins": ["https://app.example.com"], "AllowMethods": ["GET"]},
    )
    url_id = urlsplit(config["FunctionUrl"]).netloc.split(".")[0]
    preflight = httpx.options(
        f"{server.url}/_portico/lambda-url/{url_id}/data",
        headers={"origin": "https://app.example.com", "access-control-request-method": "GET"},
    )
    assert preflight.status_code == 204  # answered before authentication, as browsers need
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    assert preflight.headers["access-control-allow-methods"] == "GET"
