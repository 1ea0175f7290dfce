"""How the server answers HTTP API requests: a request to a function's route from the event
loop's callbacks, the rest (large bodies, `100-continue`, authorizers...) the ASGI way; both on
one connection, with real clients against the real server."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import uvicorn
import uvloop

from portico.app import Portico, create_app
from portico.http_bounds import BoundedHttpProtocol
from portico.server import _bind, _Server
from portico.settings import Settings
from tests.e2e.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Server
from tests.e2e.http_apis import allow_api, function, quick_api, shared_server

__all__ = ["shared_server"]


def _raw_answers(host: str, port: int, sent: bytes, count: int) -> list[tuple[int, bytes]]:
    """Sends `sent` at once on one connection; the first `count` answers' status and body."""
    answers: list[tuple[int, bytes]] = []
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(sent)
        received = connection.makefile("rb")
        for _ in range(count):
            status = int(received.readline().split()[1])
            length = 0
            while (line := received.readline()) != b"\r\n":
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            answers.append((status, received.read(length)))
    return answers


def test_pipelined_requests_and_large_bodies_are_answered_in_order(
    shared_server: Server,
) -> None:
    """Requests to a function are answered from the event loop's callbacks (no task per
    request); those with a body over 64 KiB go the ASGI way. Both ways on one connection,
    pipelined, in one write: each answer in its request's place."""
    arn = function(shared_server, "pipelined", Environment={"Variables": {"SLEEP": "0.3"}})
    api = quick_api(shared_server, arn)
    parsed = httpx.URL(api["ApiEndpoint"])
    prefix = parsed.path.rstrip("/")
    large = b"x" * (100 * 1024)

    def request(path: str, body: bytes = b"", method: str = "GET") -> bytes:
        head = f"{method} {prefix}{path} HTTP/1.1\r\nhost: {parsed.host}\r\n"
        head += f"content-type: text/plain\r\ncontent-length: {len(body)}\r\n\r\n"
        return head.encode() + body

    sent = b"".join(
        [
            request("/sleep"),
            request("/upload", large, "POST"),
            request("/fail"),
            request("/_portico/health"),  # the function's, not the server's health path
            request("/last"),
        ]
    )
    answers = _raw_answers(parsed.host, parsed.port or 80, sent, 5)
    assert [status for status, _body in answers] == [200, 200, 500, 200, 200]
    events = [json.loads(body) for status, body in answers if status == 200]
    assert [event["rawPath"] for event in events] == [
        "/sleep",
        "/upload",
        "/_portico/health",
        "/last",
    ]
    assert events[1]["body"] == large.decode()
    assert json.loads(answers[2][1]) == {"message": "Internal Server Error"}


def test_a_client_that_leaves_does_not_stop_the_function_or_the_server(
    shared_server: Server,
) -> None:
    arn = function(shared_server, "left", Environment={"Variables": {"SLEEP": "0.5"}})
    api = quick_api(shared_server, arn)
    base = api["ApiEndpoint"]
    assert httpx.get(f"{base}/warm").status_code == 200
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{base}/sleep", timeout=0.2)
    time.sleep(0.6)  # the answer comes for a connection that is gone
    for _ in range(3):
        assert httpx.get(f"{base}/after").json()["rawPath"] == "/after"
    logs = shared_server.client("logs")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [
            event["message"]
            for event in logs.filter_log_events(logGroupName="/aws/lambda/left")["events"]
        ]
        if sum(line.startswith("REPORT") for line in lines) == 5:
            break
        time.sleep(0.2)
    assert sum(line.startswith("REPORT") for line in lines) == 5  # the left one ran through


def test_each_deployment_decides_how_the_next_request_is_answered(shared_server: Server) -> None:
    """How a request is answered is decided once per method, path and host, and again after
    every deployment: the same request follows each change at once."""
    first = function(shared_server, "decided-a", Environment={"Variables": {"V": "a"}})
    second = function(shared_server, "decided-b", Environment={"Variables": {"V": "b"}})
    api = quick_api(shared_server, first)
    allow_api(shared_server, second, api["ApiId"])
    gateway = shared_server.client("apigatewayv2")
    url = api["ApiEndpoint"] + "/same"
    origin = {"origin": "https://example.com"}
    assert httpx.get(url, headers=origin).headers["x-version"] == "a"
    [integration] = gateway.get_integrations(ApiId=api["ApiId"])["Items"]
    gateway.update_integration(
        ApiId=api["ApiId"], IntegrationId=integration["IntegrationId"], IntegrationUri=second
    )
    answer = httpx.get(url, headers=origin)
    assert answer.headers["x-version"] == "b"
    assert "access-control-allow-origin" not in answer.headers
    gateway.update_api(
        ApiId=api["ApiId"], CorsConfiguration={"AllowOrigins": ["https://example.com"]}
    )
    answer = httpx.get(url, headers=origin)
    assert answer.headers["access-control-allow-origin"] == "https://example.com"
    gateway.delete_cors_configuration(ApiId=api["ApiId"])
    answer = httpx.get(url, headers=origin)
    assert (answer.headers["x-version"], answer.headers.get("access-control-allow-origin")) == (
        "b",
        None,
    )
    gateway.delete_api(ApiId=api["ApiId"])
    assert httpx.get(url).status_code == 404


DIES_ON_REQUEST = """
import os

def handler(event, context):
    if event["rawPath"] == "/exit":
        os._exit(3)
    return {"statusCode": 200, "body": str(os.getpid())}
"""


def test_an_environment_that_dies_mid_request_is_an_aws_500_and_is_replaced(
    shared_server: Server,
) -> None:
    """An environment's death reaches the callback path as the platform's error: the client
    gets AWS's 500, and the next request a fresh environment."""
    api = quick_api(shared_server, function(shared_server, "dies", source=DIES_ON_REQUEST))
    base = api["ApiEndpoint"]
    with httpx.Client() as client:
        first = client.get(f"{base}/alive")
        assert first.status_code == 200
        died = client.get(f"{base}/exit")
        assert (died.status_code, died.json()) == (500, {"message": "Internal Server Error"})
        again = client.get(f"{base}/alive")
    assert again.status_code == 200
    assert again.text != first.text  # another process


@contextlib.contextmanager
def serving_in_process(settings: Settings) -> Iterator[tuple[Portico, Server]]:
    """Portico's own application behind its own protocol and server, on a loop of its own in
    a thread, for a test to look inside while real clients talk to it."""
    app = create_app(settings)
    [sock] = _bind(settings.host, 0, 64)
    config = uvicorn.Config(
        app,
        http=BoundedHttpProtocol,
        lifespan="on",
        log_level="error",
        loop="none",
        proxy_headers=False,  # as `portico up` serves
    )
    server = _Server(config)
    loop = uvloop.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve([sock]),))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.01)
        host, port = sock.getsockname()[:2]
        app.listening_on(host, port)
        yield app, Server(cast(Any, None), f"http://{host}:{port}")
    finally:
        server.should_exit = True
        thread.join(30)
        loop.close()


def test_portico_answers_a_warm_function_route_from_callbacks(tmp_path: Path) -> None:
    """The composition, looked at from inside: Portico's server asks Portico's application for
    a direct answer, whose integration starts the invocation without a coroutine once an
    environment waits (the runtime's `start_invoke` sends it); the first, cold request
    goes the coroutine way. The other tests of this module pass on either way; this one
    fails if the pieces are not wired together."""
    settings = Settings(
        port=0,
        data_dir=tmp_path / "data",
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )
    with serving_in_process(settings) as (app, server):
        started: list[bool] = []
        start_invoke = app.runtime.start_invoke

        def recorded(*args: Any, **options: Any) -> bool:
            started.append(start_invoke(*args, **options))
            return started[-1]

        app.runtime.start_invoke = recorded  # type: ignore[method-assign]
        api = quick_api(server, function(server, "in-process"))
        answers = [httpx.get(api["ApiEndpoint"] + f"/{n}") for n in range(3)]
    assert [answer.json()["rawPath"] for answer in answers] == ["/0", "/1", "/2"]
    # The first request goes the coroutine way before the runtime is asked (its target and
    # permission are read then, its environment started); the next two are sent at once.
    assert started == [True, True]
