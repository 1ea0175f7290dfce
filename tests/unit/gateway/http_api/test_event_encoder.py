"""`V2EventEncoder`: the bytes of `payloads.encode(build_event(...))`, request by request."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portico.gateway import payloads
from portico.gateway.http_api.event_encoder import (
    V2EventEncoder,
    protocol,
    request_headers,
    source_ip,
)
from portico.gateway.http_events import EventContext, HttpRequest, build_event

REQUEST_ID = "JTHoQgr2PHcEJnA="
EPOCH_MS = 1_700_000_000_123
ROOT = "Root=1-6553f100-0123456789abcdef01234567"


def trace_root() -> str:
    return ROOT


def scope(
    headers: list[tuple[bytes, bytes]],
    query: bytes = b"",
    method: str = "GET",
    http_version: str = "1.1",
    client: tuple[str, int] | None = ("203.0.113.7", 51234),
) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "http_version": http_version,
        "scheme": "http",
        "server": ("127.0.0.1", 4566),
        "client": client,
        "headers": headers,
        "query_string": query,
    }


def generic(
    request_scope: dict[str, Any], raw_path: str, body: bytes, context: EventContext
) -> bytes:
    """The event as the general path makes it (what `HttpApiEndpoint` builds for an ASGI
    request): the request read from the scope, its event built, then encoded."""
    address = source_ip(request_scope)
    request = HttpRequest(
        method=request_scope["method"],
        raw_path=raw_path,
        raw_query=request_scope["query_string"].decode("latin-1"),
        headers=request_headers(request_scope, address, trace_root),
        body=body,
        source_ip=address,
        protocol=protocol(request_scope),
        path_decoded=True,
    )
    return payloads.encode(build_event(request, context))


CASES = {
    "bare": (scope([(b"host", b"abc.execute-api.localhost")]), b""),
    "query, repeats and escapes": (
        scope([(b"host", b"h")], query=b"a=1&a=2&b=%20x+y&c&d=%E2%9C%93"),
        b"",
    ),
    "cookies and repeated headers": (
        scope(
            [
                (b"host", b"h"),
                (b"cookie", b"a=1; b=2"),
                (b"x-v", b"1"),
                (b"cookie", b"c=3; "),
                (b"x-v", b"2"),
                (b"user-agent", b"curl/8.5.0"),
            ]
        ),
        b"",
    ),
    "forwarding and trace sent by the client": (
        scope(
            [
                (b"x-forwarded-for", b"198.51.100.1"),
                (b"x-forwarded-port", b"443"),
                (b"x-forwarded-proto", b"https"),
                (b"x-amzn-trace-id", b"Root=1-00000000-000000000000000000000000"),
            ]
        ),
        b"",
    ),
    "json body": (
        scope([(b"content-type", b"application/json")], method="POST"),
        b'{"a": "\xc3\xa9"}',
    ),
    "binary body": (scope([(b"content-type", b"image/png")], method="PUT"), b"\x89PNG\x00\xff"),
    "text type, not UTF-8": (scope([(b"content-type", b"text/plain")], method="POST"), b"\xff"),
    "no type": (scope([], method="POST"), b"plain"),
    "HTTP/1.0, no client address": (scope([], http_version="1.0", client=None), b""),
    "HTTP/2": (scope([], http_version="2"), b""),
    "HTTP/3 (no protocol encoded ahead)": (scope([], http_version="3"), b""),
    "latin-1 header values": (scope([(b"x-name", b'caf\xe9 "quoted" \\')]), b""),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    "route",
    [
        ("$default", "/", None, None),
        ("GET /pets/{id}", "/dev/pets/é 7", {"id": "é 7"}, {"color": "blue", "n": "1"}),
    ],
    ids=["default route", "named stage, parameters"],
)
def test_the_event_is_the_general_paths_byte_for_byte(case: str, route: tuple[Any, ...]) -> None:
    request_scope, body = CASES[case]
    route_key, raw_path, parameters, variables = route
    stage = "dev" if variables else "$default"
    context = EventContext(
        api_id="a1b2c3d4e5",
        domain_name="a1b2c3d4e5.execute-api.localhost",
        request_id=REQUEST_ID,
        time_epoch_ms=EPOCH_MS,
        account_id="000000000000",
        route_key=route_key,
        stage=stage,
        path_parameters=parameters,
        stage_variables=variables,
    )
    encoder = V2EventEncoder(
        method=request_scope["method"],
        raw_path=raw_path,
        route_key=route_key,
        account_id="000000000000",
        api_id="a1b2c3d4e5",
        domain_name="a1b2c3d4e5.execute-api.localhost",
        stage=stage,
        path_parameters=parameters,
        stage_variables=variables,
    )
    encoded = encoder.encode(request_scope, body, REQUEST_ID, EPOCH_MS, trace_root)
    assert encoded == generic(request_scope, raw_path, body, context)
    event = json.loads(encoded)
    assert event["requestContext"]["requestId"] == REQUEST_ID
    assert event["requestContext"]["timeEpoch"] == EPOCH_MS


def test_headers_the_client_did_not_send_are_added_as_api_gateway_adds_them() -> None:
    encoder = V2EventEncoder(
        method="get",
        raw_path="/",
        route_key="$default",
        account_id="000000000000",
        api_id="a1b2c3d4e5",
        domain_name="example.com",
        stage="$default",
        path_parameters=None,
        stage_variables=None,
    )
    event = json.loads(encoder.encode(scope([]), b"", REQUEST_ID, EPOCH_MS, trace_root))
    assert event["headers"] == {
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "4566",
        "x-forwarded-proto": "http",
        "x-amzn-trace-id": ROOT,
    }
    assert event["requestContext"]["http"] == {
        "method": "GET",
        "path": "/",
        "protocol": "HTTP/1.1",
        "sourceIp": "203.0.113.7",
        "userAgent": "",
    }
    assert event["requestContext"]["domainPrefix"] == "example"
    assert event["requestContext"]["time"] == "14/Nov/2023:22:13:20 +0000"
    assert "body" not in event and event["isBase64Encoded"] is False
