"""The Lambda API through boto3 against the real server."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import pytest

from tests.e2e.conftest import Server, error_of, signed

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ECHO = """
import os
def handler(event, context):
    greeting = os.environ.get("GREETING")
    return {"event": event, "greeting": greeting, "version": context.function_version}
"""


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, source)
    return buffer.getvalue()


def create(client: Any, name: str = "echo", source: str = ECHO, **extra: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": zipped({"app.py": source})},
    }
    response: dict[str, Any] = client.create_function(**{**arguments, **extra})
    return response


def invoke(client: Any, name: str, event: Any = None, **extra: Any) -> tuple[dict[str, Any], Any]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event or {}), **extra)
    return response, json.loads(response["Payload"].read() or b"null")


def test_create_get_invoke(server: Server) -> None:
    client = server.client("lambda")
    created = create(client, Environment={"Variables": {"GREETING": "hi"}}, Tags={"team": "core"})
    assert created["FunctionArn"] == "arn:aws:lambda:eu-west-1:000000000000:function:echo"
    assert created["State"] == "Active" and created["Version"] == "$LATEST"
    code = zipped({"app.py": ECHO})
    assert created["CodeSize"] == len(code)
    assert (
        created["CodeSha256"]
        == base64.b64encode(__import__("hashlib").sha256(code).digest()).decode()
    )
    client.get_waiter("function_active_v2").wait(FunctionName="echo")
    fetched = client.get_function(FunctionName="echo")
    assert fetched["Configuration"]["Handler"] == "app.handler"
    assert fetched["Tags"] == {"team": "core"}
    response, payload = invoke(client, "echo", {"a": 1}, LogType="Tail")
    assert response["StatusCode"] == 200 and response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert payload == {"event": {"a": 1}, "greeting": "hi", "version": "$LATEST"}
    log = base64.b64decode(response["LogResult"]).decode()
    assert "START RequestId:" in log and "REPORT RequestId:" in log
    by_arn = client.get_function_configuration(FunctionName=created["FunctionArn"])
    assert by_arn["RevisionId"] == created["RevisionId"]


def test_an_invocation_has_one_request_id(server: Server) -> None:
    """The answer's x-amzn-RequestId is the id the function sees and its log lines name."""
    client = server.client("lambda")
    create(client, source="def handler(event, context):\n    return context.aws_request_id\n")
    response, seen = invoke(client, "echo", LogType="Tail")
    request_id = response["ResponseMetadata"]["RequestId"]
    assert seen == request_id
    log = base64.b64decode(response["LogResult"]).decode()
    assert f"START RequestId: {request_id} " in log
    assert f"REPORT RequestId: {request_id}\t" in log


def test_updates_and_versions(server: Server) -> None:
    client = server.client("lambda")
    create(client)
    first = client.publish_version(FunctionName="echo", Description="one")
    assert first["Version"] == "1" and first["FunctionArn"].endswith(":echo:1")
    assert client.publish_version(FunctionName="echo")["Version"] == "1"  # nothing changed
    updated = client.update_function_configuration(
        FunctionName="echo", Environment={"Variables": {"GREETING": "two"}}, Timeout=10
    )
    assert updated["Timeout"] == 10 and updated["RevisionId"] != first["RevisionId"]
    new_code = ECHO.replace('"greeting"', '"hello"')
    client.update_function_code(FunctionName="echo", ZipFile=zipped({"app.py": new_code}))
    _, latest = invoke(client, "echo")
    assert latest == {"event": {}, "hello": "two", "version": "$LATEST"}
    response, old = invoke(client, "echo", Qualifier="1")
    assert response["ExecutedVersion"] == "1"
    assert old == {"event": {}, "greeting": None, "version": "1"}
    second = client.publish_version(FunctionName="echo")
    assert second["Version"] == "2"
    versions = client.list_versions_by_function(FunctionName="echo")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert [v["Description"] for v in versions][1] == "one"
    client.delete_function(FunctionName="echo", Qualifier="1")
    status, code, _ = error_of(client.invoke, FunctionName="echo:1")
    assert (status, code) == (404, "ResourceNotFoundException")
    stale = error_of(
        client.update_function_configuration,
        FunctionName="echo",
        Timeout=5,
        RevisionId=first["RevisionId"],
    )
    assert stale[:2] == (412, "PreconditionFailedException")


def test_list_functions_pages(server: Server) -> None:
    client = server.client("lambda")
    for index in range(5):
        create(client, name=f"fn-{index}")
    names: list[str] = []
    marker = None
    while True:
        page = client.list_functions(MaxItems=2, **({"Marker": marker} if marker else {}))
        names += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert names == [f"fn-{i}" for i in range(5)]
    paginated = client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 3})
    assert sum(len(p["Functions"]) for p in paginated) == 5


def test_function_errors_and_dry_run(server: Server) -> None:
    client = server.client("lambda")
    create(client, name="fails", source="def handler(e, c):\n    raise ValueError('nope')\n")
    response, payload = invoke(client, "fails")
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValueError" and payload["errorMessage"] == "nope"
    dry = client.invoke(FunctionName="fails", InvocationType="DryRun")
    assert dry["StatusCode"] == 204


@pytest.mark.parametrize(
    ("call", "status", "code", "message"),
    [
        (
            lambda c: c.get_function(FunctionName="missing"),
            404,
            "ResourceNotFoundException",
            "Function not found: arn:aws:lambda:eu-west-1:000000000000:function:missing",
        ),
        (lambda c: create(c), 409, "ResourceConflictException", "Function already exist: echo"),
        (
            lambda c: create(c, name="x", Runtime="python2.7"),
            400,
            "InvalidParameterValueException",
            "The runtime parameter of python2.7 is no longer supported",
        ),
        (
            lambda c: create(c, name="x", Environment={"Variables": {"AWS_REGION": "x"}}),
            400,
            "InvalidParameterValueException",
            "Lambda was unable to configure your environment",
        ),
        (
            lambda c: create(c, name="x", Timeout=901),
            400,
            "ValidationException",
            "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint",
        ),
        (
            lambda c: c.invoke(FunctionName="echo", Payload=b"{not json"),
            400,
            "InvalidRequestContentException",
            "Could not parse request body into json",
        ),
        (
            lambda c: c.invoke(FunctionName="echo", Payload=b"x" * (6 * 1024 * 1024 + 1)),
            413,
            "RequestEntityTooLargeException",
            "Request must be smaller than 6291456 bytes",
        ),
        (
            lambda c: c.create_function(
                FunctionName="y",
                Runtime="python3.12",
                Role=ROLE,
                Handler="app.handler",
                Code={"ZipFile": b"not a zip"},
            ),
            400,
            "InvalidParameterValueException",
            "",
        ),
    ],
    ids=[
        "not-found",
        "conflict",
        "deprecated-runtime",
        "reserved-env",
        "timeout-range",
        "bad-json",
        "too-large",
        "bad-zip",
    ],
)
def test_errors(server: Server, call: Any, status: int, code: str, message: str) -> None:
    client = server.client("lambda")
    create(client)
    got_status, got_code, got_message = error_of(call, client)
    assert (got_status, got_code) == (status, code)
    assert got_message.startswith(message)


def test_requests_botocore_would_not_send_get_aws_errors(server: Server) -> None:
    """Required members missing, or JSON of the wrong type, sent without botocore's own
    checks: a 400 that says what is wrong, not a 500."""
    create(server.client("lambda"))
    policy = "/2015-03-31/functions/echo/policy"
    unnamed = b'{"Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com"}'
    response = signed(server, "POST", policy, "lambda", data=unnamed)
    assert (response.status_code, response.headers["x-amzn-ErrorType"]) == (
        400,
        "ValidationException",
    )
    assert response.json()["message"] == (
        "1 validation error detected: Value null at 'statementId' failed to satisfy "
        "constraint: Member must not be null"
    )
    response = signed(server, "POST", "/2015-03-31/functions/echo/aliases", "lambda", data=b"{}")
    assert response.status_code == 400
    assert response.json()["message"].startswith("2 validation errors detected: Value null at")
    concurrency = "/2017-10-31/functions/echo/concurrency"
    response = signed(
        server, "PUT", concurrency, "lambda", data=b'{"ReservedConcurrentExecutions": "10"}'
    )
    assert (response.status_code, response.headers["x-amzn-ErrorType"]) == (
        400,
        "SerializationException",
    )


def test_delete(server: Server) -> None:
    client = server.client("lambda")
    create(client)
    invoke(client, "echo")
    client.delete_function(FunctionName="echo")
    assert error_of(client.get_function, FunctionName="echo")[1] == "ResourceNotFoundException"
    assert error_of(client.delete_function, FunctionName="echo")[1] == "ResourceNotFoundException"


CALLBACK = """
import os
import boto3

def handler(event, context):
    client = boto3.client("lambda")
    names = [f["FunctionName"] for f in client.list_functions()["Functions"]]
    return {
        "names": names,
        "key": os.environ["AWS_ACCESS_KEY_ID"],
        "secret": os.environ["AWS_SECRET_ACCESS_KEY"],
        "endpoint": os.environ["AWS_ENDPOINT_URL"],
        "has_token": bool(os.environ.get("AWS_SESSION_TOKEN")),
    }
"""


def test_functions_call_back_with_their_own_credentials(server: Server) -> None:
    from tests.e2e.conftest import SECRET_ACCESS_KEY

    client = server.client("lambda")
    create(client, name="caller", source=CALLBACK, Timeout=30)
    response, seen = invoke(client, "caller")
    assert "FunctionError" not in response, seen
    assert seen["names"] == ["caller"]
    assert seen["endpoint"] == server.url
    assert seen["key"].startswith("ASIA") and seen["has_token"]
    assert seen["secret"] != SECRET_ACCESS_KEY
    # The keys are the function's: without the session token they are refused.
    borrowed = server.client("lambda", key=seen["key"], secret=seen["secret"])
    assert error_of(borrowed.list_functions)[1] == "UnrecognizedClientException"


def test_function_logs_reach_cloudwatch_logs(server: Server) -> None:
    import time

    client = server.client("lambda")
    create(client, source="def handler(e, c):\n    print('hello from the function')\n")
    invoke(client, "echo")
    logs = server.client("logs")
    deadline = time.monotonic() + 10
    messages: list[str] = []
    while time.monotonic() < deadline:
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/echo")["events"]
        except logs.exceptions.ResourceNotFoundException:  # the group comes with its first lines
            events = []
        messages = [event["message"] for event in events]
        if any(message.startswith("REPORT") for message in messages):
            break
        time.sleep(0.1)
    assert any(message.startswith("INIT_START") for message in messages)
    assert "hello from the function\n" in messages
    assert any(message.startswith("REPORT RequestId:") for message in messages)
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/echo")["logStreams"]
    assert len(streams) == 1 and "[$LATEST]" in streams[0]["logStreamName"]


def test_layers(server: Server) -> None:
    client = server.client("lambda")
    first = client.publish_layer_version(
        LayerName="shared",
        Content={"ZipFile": zipped({"python/shared.py": "WHO = 'layer one'\n"})},
        CompatibleRuntimes=["python3.12"],
        Description="first",
    )
    assert first["Version"] == 1
    assert first["LayerVersionArn"] == "arn:aws:lambda:eu-west-1:000000000000:layer:shared:1"
    second = client.publish_layer_version(
        LayerName="shared",
        Content={"ZipFile": zipped({"python/shared.py": "WHO = 'layer two'\n"})},
    )
    assert second["Version"] == 2
    source = "import shared\ndef handler(e, c):\n    return shared.WHO\n"
    created = create(client, name="uses", source=source, Layers=[first["LayerVersionArn"]])
    assert created["Layers"] == [
        {"Arn": first["LayerVersionArn"], "CodeSize": first["Content"]["CodeSize"]}
    ]
    assert invoke(client, "uses")[1] == "layer one"
    client.update_function_configuration(FunctionName="uses", Layers=[second["LayerVersionArn"]])
    assert invoke(client, "uses")[1] == "layer two"
    versions = client.list_layer_versions(LayerName="shared")["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]
    layers = client.list_layers()["Layers"]
    assert [
        (layer["LayerName"], layer["LatestMatchingVersion"]["Version"]) for layer in layers
    ] == [("shared", 2)]
    by_arn = client.get_layer_version_by_arn(Arn=first["LayerVersionArn"])
    assert by_arn["Description"] == "first"
    client.delete_layer_version(LayerName="shared", VersionNumber=1)
    assert error_of(client.get_layer_version, LayerName="shared", VersionNumber=1)[1] == (
        "ResourceNotFoundException"
    )
    status, code, _ = error_of(
        create, client, name="bad", Layers=["arn:aws:lambda:eu-west-1:000000000000:layer:nope:1"]
    )
    assert (status, code) == (400, "InvalidParameterValueException")
