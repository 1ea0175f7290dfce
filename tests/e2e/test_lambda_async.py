"""Asynchronous invocation: durable acknowledgement, retries, destinations, kill -9."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Marks, Server, start_server, stop_server
from tests.e2e.test_lambda_api import create

MARKER = """
import json, os, urllib.request
def handler(event, context):
    # One mark per attempt: retries keep the request id, as on AWS.
    urllib.request.urlopen(os.environ["MARKS"], json.dumps(event).encode())
    if event.get("fail"):
        raise RuntimeError("failing on purpose")
    return {"seen": event}
"""


def eventually(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("the condition did not come true in time")


def marking(marks: Marks, bucket: str) -> dict[str, Any]:
    """The environment of a MARKER function that reports to `bucket`."""
    return {"Variables": {"MARKS": f"{marks.url}/{bucket}"}}


def test_event_invocations_run_after_202(server: Server, marks: Marks) -> None:
    client = server.client("lambda")
    create(client, name="marker", source=MARKER, Environment=marking(marks, "marker"))
    response = client.invoke(FunctionName="marker", InvocationType="Event", Payload=b'{"n": 1}')
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    eventually(lambda: marks.of("marker") == [{"n": 1}])


def test_retries_then_on_failure_destination(server: Server, marks: Marks) -> None:
    client = server.client("lambda")
    create(client, name="flaky", source=MARKER, Environment=marking(marks, "failing"))
    sink = create(client, name="sink", source=MARKER, Environment=marking(marks, "records"))
    config = client.put_function_event_invoke_config(
        FunctionName="flaky",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": sink["FunctionArn"]}},
    )
    assert config["MaximumRetryAttempts"] == 1
    assert client.get_function_event_invoke_config(FunctionName="flaky")["DestinationConfig"] == {
        "OnSuccess": {},
        "OnFailure": {"Destination": sink["FunctionArn"]},
    }
    client.invoke(FunctionName="flaky", InvocationType="Event", Payload=b'{"fail": true}')
    eventually(lambda: len(marks.of("records")) == 1)
    assert len(marks.of("failing")) == 2  # the first try and one retry
    (record,) = marks.of("records")
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"].endswith(":function:flaky:$LATEST")
    assert record["requestPayload"] == {"fail": True}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorMessage"] == "failing on purpose"


def test_on_success_destination(server: Server, marks: Marks) -> None:
    client = server.client("lambda")
    create(client, name="ok", source=MARKER, Environment=marking(marks, "seen"))
    sink = create(client, name="sink", source=MARKER, Environment=marking(marks, "records"))
    client.put_function_event_invoke_config(
        FunctionName="ok", DestinationConfig={"OnSuccess": {"Destination": sink["FunctionArn"]}}
    )
    client.invoke(FunctionName="ok", InvocationType="Event", Payload=b'{"x": 2}')
    eventually(lambda: len(marks.of("records")) == 1)
    (record,) = marks.of("records")
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == {"seen": {"x": 2}}


def test_async_payload_limit(server: Server) -> None:
    from tests.e2e.conftest import error_of

    client = server.client("lambda")
    create(client)
    status, code, message = error_of(
        client.invoke,
        FunctionName="echo",
        InvocationType="Event",
        Payload=b'"' + b"x" * 1048576 + b'"',
    )
    assert (status, code) == (413, "RequestEntityTooLargeException")
    assert (
        message
        == "1048578 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )


def test_nothing_acknowledged_is_lost_across_kill_9(tmp_path: Path, marks: Marks) -> None:
    data, log = tmp_path / "data", tmp_path / "server.log"
    first = start_server(data, log)
    acknowledged: list[int] = []
    try:
        client = first.client("lambda")
        slow = MARKER.replace(
            "def handler(event, context):",
            "def handler(event, context):\n    import time; time.sleep(0.3)",
        )
        create(client, name="marker", source=slow, Environment=marking(marks, "marker"))
        for index in range(40):
            response = client.invoke(
                FunctionName="marker", InvocationType="Event", Payload=json.dumps({"n": index})
            )
            assert response["StatusCode"] == 202
            acknowledged.append(index)
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(10)
    finally:
        stop_server(first.process)
    done_before = {mark["n"] for mark in marks.of("marker")}
    assert len(done_before) < len(acknowledged), "the burst finished before the kill: no test"
    second = start_server(data, log)
    try:
        eventually(lambda: {m["n"] for m in marks.of("marker")} >= set(acknowledged), seconds=60)
    finally:
        stop_server(second.process)
