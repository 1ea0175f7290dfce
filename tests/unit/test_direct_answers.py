"""Answers made without the ASGI cycle (`DirectApp`): real sockets, uvicorn with Portico's
protocol and server on uvloop, an application that answers some paths directly (at once or
from a later callback) and the rest the ASGI way, and says which way each request went."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from portico.http_bounds import DIRECT_BODY_BYTES, JOINED_BODY_BYTES, Respond
from portico.server import _bind
from tests.unit.test_server_request_timeouts import run, serving, start_serving


class App:
    """`/direct...` is answered directly (`/direct/slow` after 0.2 s, `/direct/fault` raises),
    everything else the ASGI way; each answer says its way and the body's length."""

    def __init__(self) -> None:
        self.ways: list[tuple[str, str]] = []
        self.late_answers: list[str] = []  # what answering after the client left did

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any
    ) -> None:
        self.ways.append(("asgi", scope["path"]))
        size = 0
        while True:
            message = await receive()
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        content = f"asgi {size}".encode()
        headers = [(b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def direct(self, scope: dict[str, Any]) -> Any:
        if not scope["path"].startswith("/direct"):
            return None
        return partial(self._answer, scope["path"])

    def _answer(self, path: str, scope: dict[str, Any], body: bytes, respond: Respond) -> None:
        self.ways.append(("direct", path))
        if path == "/direct/fault":
            raise RuntimeError("a fault of the application's own")
        content = f"direct {len(body)}".encode()
        if path.startswith("/direct/sized/"):
            content = b"x" * int(path.rpartition("/")[2])
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(content))]
        if path == "/direct/slow":
            asyncio.get_running_loop().call_later(0.2, self._late, respond, headers, content)
        else:
            respond(200, headers, content)

    def _late(self, respond: Respond, headers: list[tuple[bytes, bytes]], content: bytes) -> None:
        try:
            respond(200, headers, content)
        except Exception as exc:  # what the test asserts is that none is raised
            self.late_answers.append(repr(exc))
        else:
            self.late_answers.append("sent")


async def read_answer(
    reader: asyncio.StreamReader, head: bool = False
) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """One HTTP/1.1 answer: status line, headers (names lower case), body (none to HEAD)."""
    status = await asyncio.wait_for(reader.readline(), 5)
    headers: dict[bytes, bytes] = {}
    while (line := await asyncio.wait_for(reader.readline(), 5)) != b"\r\n":
        name, _, value = line.rstrip(b"\r\n").partition(b": ")
        headers[name.lower()] = value
    length = 0 if head else int(headers.get(b"content-length", b"0"))
    body = await asyncio.wait_for(reader.readexactly(length), 5)
    return status.rstrip(b"\r\n"), headers, body


def get(path: str, *extra: str, method: str = "GET", version: str = "1.1") -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "host: portico", *extra, "", ""]
    return "\r\n".join(lines).encode()


def test_a_request_the_application_answers_directly_goes_without_the_asgi_cycle() -> None:
    app = App()

    async def body() -> None:
        async with serving(app, request_timeout=30) as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(get("/direct"))
            status, headers, content = await read_answer(reader)
            assert status == b"HTTP/1.1 200 OK"
            assert content == b"direct 0"
            assert headers[b"content-type"] == b"text/plain"
            assert b"date" in headers  # uvicorn's default headers come first, as for ASGI
            assert b"connection" not in headers  # kept alive
            writer.write(get("/other"))
            assert (await read_answer(reader))[2] == b"asgi 0"
            writer.close()

    run(body)
    assert app.ways == [("direct", "/direct"), ("asgi", "/other")]


def test_pipelined_requests_are_answered_in_order_whichever_way_each_goes() -> None:
    app = App()

    async def body() -> None:
        async with serving(app, request_timeout=30) as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            # One write: a slow direct answer, then queued behind it ASGI ones (one whose body
            # came whole while it waited, one without) and a direct one.
            writer.write(
                get("/direct/slow")
                + get("/asgi/body", "content-length: 5", method="POST")
                + b"12345"
                + get("/asgi")
                + get("/direct/fast")
            )
            answers = [await read_answer(reader) for _ in range(4)]
            assert [content for _status, _headers, content in answers] == [
                b"direct 0",
                b"asgi 5",
                b"asgi 0",
                b"direct 0",
            ]
            writer.close()

    run(body)
    assert app.ways == [
        ("direct", "/direct/slow"),
        ("asgi", "/asgi/body"),
        ("asgi", "/asgi"),
        ("direct", "/direct/fast"),
    ]


class ScopeRecorder:
    """Keeps the scope of each request, whichever way it goes (`/direct...` directly), and
    answers `ok`."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any
    ) -> None:
        if scope["type"] != "http":
            return
        self.scopes.append(dict(scope))
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": _OK_HEADERS})
        await send({"type": "http.response.body", "body": b"ok"})

    def direct(self, scope: dict[str, Any]) -> Any:
        if not scope["path"].startswith("/direct"):
            return None
        return self._answer

    def _answer(self, scope: dict[str, Any], body: bytes, respond: Respond) -> None:
        self.scopes.append(dict(scope))
        respond(200, _OK_HEADERS, b"ok")


_OK_HEADERS = [(b"content-length", b"2")]
_SCOPED_REQUESTS = [
    get("/direct/a%20b/c%2Fd", "X-Mixed-Case: Value", "accept: */*") + b"",
    b"GET /direct/q?x=1&y=%2F&z HTTP/1.1\r\nhost: portico\r\n\r\n",
    get("/direct/one-oh", version="1.0"),
    get("/direct/body", "content-length: 3", method="POST") + b"abc",
    b"GET http://portico/direct/absolute?q=1 HTTP/1.1\r\nhost: portico\r\n\r\n",
    get("/asgi/%7Euser", "Content-Type: text/plain", method="DELETE"),
    get("/direct/expect", "content-length: 1", "expect: 100-continue"),
    # An upgrade to what the server does not speak: answered as HTTP/1.1.
    get("/direct/h2c", "connection: Upgrade, HTTP2-Settings", "upgrade: h2c", "http2-settings: "),
]


async def _scopes_of(app: ScopeRecorder, address: tuple[str, int]) -> list[dict[str, Any]]:
    for request in _SCOPED_REQUESTS:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(request)
        if b"100-continue" in request:
            assert await asyncio.wait_for(reader.readline(), 5) == b"HTTP/1.1 100 Continue\r\n"
            await asyncio.wait_for(reader.readline(), 5)
            writer.write(b"x")
        assert (await read_answer(reader))[2] == b"ok"
        writer.close()
    # Which ports serve and ask differ from one server to the other; the rest may not.
    return [{**scope, "server": None, "client": None} for scope in app.scopes]


def test_a_request_gets_the_scope_uvicorns_protocol_gives_it() -> None:
    """Portico's protocol reads heads in its own callbacks: the scopes they make, for requests
    answered either way, are those uvicorn's own protocol makes."""
    ours, theirs = ScopeRecorder(), ScopeRecorder()

    async def body() -> None:
        async with serving(ours, request_timeout=30) as address:
            ours_scopes = await _scopes_of(ours, address)
        [sock] = _bind("127.0.0.1", 0, 64)
        config = uvicorn.Config(
            theirs, http=HttpToolsProtocol, lifespan="off", log_level="error", loop="none"
        )
        config.proxy_headers = False
        server = uvicorn.Server(config)
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            theirs_scopes = await _scopes_of(theirs, sock.getsockname()[:2])
        finally:
            server.should_exit = True
            await task
        assert len(ours_scopes) == len(_SCOPED_REQUESTS)
        assert ours_scopes == theirs_scopes

    run(body)
    assert ours.scopes[0]["path"] == "/direct/a b/c/d"
    assert ours.scopes[0]["raw_path"] == b"/direct/a%20b/c%2Fd"
    assert ours.scopes[1]["query_string"] == b"x=1&y=%2F&z"
    assert ours.scopes[2]["http_version"] == "1.0"
    assert ours.scopes[5]["method"] == "DELETE"


# struct tcp_info (linux/tcp.h): tcpi_data_segs_in, the segments received that carried data.
_DATA_SEGMENTS_IN = struct.Struct("152xI")


def data_segments_in(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _DATA_SEGMENTS_IN.size)
    return int(_DATA_SEGMENTS_IN.unpack(info)[0])


@pytest.mark.parametrize("size", [5, JOINED_BODY_BYTES, JOINED_BODY_BYTES + 1, 1 << 20])
def test_a_small_answer_comes_in_one_segment_and_any_answer_whole(size: int) -> None:
    """Head and body of a small answer go in one write: the client gets one segment, not two
    (each write its own, with no delay on the connection). A larger body follows its head
    in a write of its own, uncopied."""

    async def body() -> None:
        async with serving(App(), request_timeout=30) as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            sock = writer.get_extra_info("socket")
            before = data_segments_in(sock)
            writer.write(get(f"/direct/sized/{size}"))
            status, headers, content = await read_answer(reader)
            assert status == b"HTTP/1.1 200 OK"
            assert headers[b"content-length"] == str(size).encode()
            assert content == b"x" * size
            if size <= JOINED_BODY_BYTES:
                assert data_segments_in(sock) - before == 1
            writer.close()

    run(body)


def test_head_gets_the_headers_alone_and_the_connection_stays_usable() -> None:
    async def body() -> None:
        async with serving(App(), request_timeout=30) as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(get("/direct", method="HEAD"))
            status, headers, _body = await read_answer(reader, head=True)
            assert status == b"HTTP/1.1 200 OK"
            assert headers[b"content-length"] == b"8"
            writer.write(get("/direct"))  # a stray body byte would garble this answer
            assert await read_answer(reader) == (b"HTTP/1.1 200 OK", headers, b"direct 0")
            writer.close()

    run(body)


@pytest.mark.parametrize(
    "request_bytes",
    [get("/direct", "connection: close"), get("/direct", version="1.0")],
    ids=["connection-close", "http-1.0"],
)
def test_an_answer_that_ends_the_connection_says_so_and_closes_it(request_bytes: bytes) -> None:
    async def body() -> None:
        async with serving(App(), request_timeout=30) as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request_bytes)
            _status, headers, content = await read_answer(reader)
            assert content == b"direct 0"
            assert headers[b"connection"] == b"close"
            assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server
            writer.close()

    run(body)


def test_bodies_come_whole_and_large_ones_or_100_continue_go_the_asgi_way() -> None:
    app = App()
    small, large = 1000, DIRECT_BODY_BYTES + 1

    async def body() -> None:
        async with serving(app, request_timeout=30) as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            # A small body in three writes: the answer waits for all of it.
            writer.write(get("/direct/small", f"content-length: {small}") + b"a" * 10)
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(b"b" * 500)
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(b"c" * (small - 510))
            assert (await read_answer(reader))[2] == f"direct {small}".encode()
            writer.write(get("/direct/large", f"content-length: {large}") + b"x" * large)
            assert (await read_answer(reader))[2] == f"asgi {large}".encode()
            writer.write(get("/direct/expect", "content-length: 3", "expect: 100-continue"))
            assert await asyncio.wait_for(reader.readline(), 5) == b"HTTP/1.1 100 Continue\r\n"
            assert await asyncio.wait_for(reader.readline(), 5) == b"\r\n"
            writer.write(b"abc")
            assert (await read_answer(reader))[2] == b"asgi 3"
            writer.close()

    run(body)
    assert app.ways == [
        ("direct", "/direct/small"),
        ("asgi", "/direct/large"),
        ("asgi", "/direct/expect"),
    ]


def test_a_fault_of_the_application_is_a_500_and_the_connection_stays_usable(
    capfd: pytest.CaptureFixture[str],
) -> None:
    async def body() -> None:
        async with serving(App(), request_timeout=30) as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(get("/direct/fault"))
            status, _headers, content = await read_answer(reader)
            assert status == b"HTTP/1.1 500 Internal Server Error"
            assert content == b"Internal Server Error"
            writer.write(get("/direct"))
            assert (await read_answer(reader))[2] == b"direct 0"
            writer.close()

    run(body)
    assert "a fault of the application's own" in capfd.readouterr().err  # uvicorn's log


def test_an_answer_for_a_client_that_left_is_dropped_quietly() -> None:
    app = App()

    async def body() -> None:
        async with serving(app, request_timeout=30) as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(get("/direct/slow"))
            await writer.drain()
            writer.close()
            await asyncio.sleep(0.4)  # the answer comes after the client left
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(get("/direct"))
            assert (await read_answer(reader))[2] == b"direct 0"
            writer.close()

    run(body)
    assert app.late_answers == ["sent"]  # respond() returned without raising


def test_a_shutdown_waits_for_a_direct_answer_on_its_way() -> None:
    app = App()

    async def body() -> None:
        server, serving_task, address = await start_serving(app, request_timeout=30)
        reader, writer = await asyncio.open_connection(*address)
        writer.write(get("/direct/slow"))
        await writer.drain()
        await asyncio.sleep(0.05)
        server.should_exit = True  # as SIGTERM does
        _status, headers, content = await read_answer(reader)
        assert content == b"direct 0"
        assert headers[b"connection"] == b"close"
        await asyncio.wait_for(serving_task, 5)
        writer.close()

    run(body)
