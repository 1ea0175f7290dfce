"""The HTTP Runtime API endpoint's status codes and headers, with a recording peer."""

from __future__ import annotations

import asyncio
import http.client
import json

import pytest

from portico.runtime.invocation import InvocationRequest
from portico.runtime.runtime_api import RuntimeApiEndpoint

pytestmark = pytest.mark.asyncio


class RecordingPeer:
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def on_ready(self) -> None:
        self.calls.append(("ready",))

    def on_init_error(self, error_type: str, body: bytes) -> None:
        self.calls.append(("init_error", error_type, body))

    def on_response(self, request_id: str, body: bytes, max_rss_kb: int | None) -> None:
        self.calls.append(("response", request_id, body))

    def on_error(self, request_id: str, error_type: str, body: bytes, rss: int | None) -> None:
        self.calls.append(("error", request_id, error_type, body))


def call(
    address: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    host, _, port = address.rpartition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.request(method, path, body, headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.headers), data


async def test_next_response_and_error() -> None:
    peer = RecordingPeer()
    endpoint = RuntimeApiEndpoint(peer)
    address = await endpoint.start()
    try:
        invocation = InvocationRequest(
            request_id="req-1",
            payload=b'{"a": 1}',
            deadline_ms=1_700_000_000_000,
            function_arn="arn:aws:lambda:us-east-1:000000000000:function:f",
            trace_id="Root=1-abc",
            client_context='{"custom": {}}',
        )
        pending = asyncio.ensure_future(
            asyncio.to_thread(call, address, "GET", "/2018-06-01/runtime/invocation/next")
        )
        await asyncio.sleep(0.05)
        assert peer.calls == [("ready",)]
        assert not pending.done()  # /next long-polls until there is work
        endpoint.send_invocation(invocation)
        status, headers, body = await pending
        assert (status, body) == (200, b'{"a": 1}')
        assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-1"
        assert headers["Lambda-Runtime-Deadline-Ms"] == "1700000000000"
        assert headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:f")
        assert headers["Lambda-Runtime-Trace-Id"] == "Root=1-abc"
        assert headers["Lambda-Runtime-Client-Context"] == '{"custom": {}}'
        assert "Lambda-Runtime-Cognito-Identity" not in headers

        wrong = await asyncio.to_thread(
            call, address, "POST", "/2018-06-01/runtime/invocation/nope/response", b"1"
        )
        assert wrong[0] == 400
        assert json.loads(wrong[2]) == {
            "errorMessage": "Invalid request ID",
            "errorType": "InvalidRequestID",
        }
        ok = await asyncio.to_thread(
            call, address, "POST", "/2018-06-01/runtime/invocation/req-1/response", b"42"
        )
        assert (ok[0], json.loads(ok[2])) == (202, {"status": "OK"})
        assert peer.calls[-1] == ("response", "req-1", b"42")
        # Answered already: a second answer names no current request.
        again = await asyncio.to_thread(
            call, address, "POST", "/2018-06-01/runtime/invocation/req-1/error", b"{}"
        )
        assert again[0] == 400
        missing = await asyncio.to_thread(call, address, "GET", "/2018-06-01/other")
        assert missing[0] == 404
    finally:
        endpoint.close()


async def test_init_error_and_oversized_response() -> None:
    peer = RecordingPeer()
    endpoint = RuntimeApiEndpoint(peer)
    address = await endpoint.start()
    try:
        status, _, body = await asyncio.to_thread(
            call,
            address,
            "POST",
            "/2018-06-01/runtime/init/error",
            b'{"errorMessage": "x"}',
            {"Lambda-Runtime-Function-Error-Type": "Runtime.Custom"},
        )
        assert (status, json.loads(body)) == (202, {"status": "OK"})
        assert peer.calls == [("init_error", "Runtime.Custom", b'{"errorMessage": "x"}')]

        endpoint.send_invocation(InvocationRequest("req-2", b"{}", 0, "arn", "Root=1"))
        await asyncio.to_thread(call, address, "GET", "/2018-06-01/runtime/invocation/next")
        huge = b"x" * (6 * 1024 * 1024 + 101)
        status, _, body = await asyncio.to_thread(
            call, address, "POST", "/2018-06-01/runtime/invocation/req-2/response", huge
        )
        assert status == 413
        assert json.loads(body)["errorType"] == "RequestEntityTooLarge"
        assert peer.calls[-1][:3] == ("error", "req-2", "Function.ResponseSizeTooLarge")
    finally:
        endpoint.close()
