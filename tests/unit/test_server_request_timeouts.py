"""The server closes connections whose request head is overdue, whose body has stalled or whose
answer has not moved: real sockets, uvicorn with Portico's protocol and server on uvloop, a
timeout of half a second."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
import uvloop

from portico.http_bounds import REQUEST_TIMEOUT_SECONDS, BoundedHttpProtocol
from portico.server import _bind, _Server

TIMEOUT = 0.5
TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\n"
# A request that announces 100 bytes of body and sends one.
BODY_BEGUN = b"POST / HTTP/1.1\r\nhost: portico\r\ncontent-length: 100\r\n\r\na"


async def echo_length(
    scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any
) -> None:
    """Answers with the length of the body it read."""
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = str(size).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def start_serving(
    app: Any = echo_length, request_timeout: float = TIMEOUT, keep_alive: float = 5
) -> tuple[_Server, asyncio.Future[None], tuple[str, int]]:
    """The server with `app`, started on a free port of the loopback: the server, the task
    that serves (done once the server has shut down) and the address."""
    [sock] = _bind("127.0.0.1", 0, 64)
    config = uvicorn.Config(
        app,
        http=BoundedHttpProtocol,
        lifespan="off",
        log_level="error",
        loop="none",
        proxy_headers=False,  # as Portico serves: the application unwrapped
        timeout_keep_alive=keep_alive,
    )
    server = _Server(config, request_timeout=request_timeout)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    return server, task, sock.getsockname()[:2]


@asynccontextmanager
async def serving(
    app: Any = echo_length, request_timeout: float = TIMEOUT
) -> AsyncIterator[tuple[str, int]]:
    """The server with `app`, on a free port of the loopback, for the block's time."""
    server, task, address = await start_serving(app, request_timeout)
    try:
        yield address
    finally:
        server.should_exit = True
        await task


async def answer(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(), 5)  # until the server closes


def run(test: Callable[[], Awaitable[None]]) -> None:
    uvloop.run(test())


def test_the_default_timeout_is_30_s() -> None:
    assert REQUEST_TIMEOUT_SECONDS == 30.0


def test_a_connection_kept_alive_with_no_request_is_closed_after_the_keep_alive_timeout() -> None:
    """No timer is armed after each answer: the connection notes since when it is idle, and
    the server's once-a-second sweep closes it past the timeout. One that keeps asking, at
    shorter intervals than the timeout, stays open for longer than it."""
    keep_alive = 1.0
    request = b"GET / HTTP/1.1\r\nhost: portico\r\n\r\n"

    async def body() -> None:
        server, task, (host, port) = await start_serving(keep_alive=keep_alive)
        try:
            busy_reader, busy_writer = await asyncio.open_connection(host, port)
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            assert (await reader.readuntil(b"\r\n\r\n0")).startswith(b"HTTP/1.1 200 OK")
            loop = asyncio.get_running_loop()
            answered = loop.time()
            [connection] = [c for c in server.server_state.connections if c.idle_since is not None]
            assert isinstance(connection, BoundedHttpProtocol)
            assert connection.timeout_keep_alive_task is None
            closed = asyncio.ensure_future(reader.read())
            closed_at: list[float] = []  # when the idle one's end came
            closed.add_done_callback(lambda _: closed_at.append(loop.time()))
            for _ in range(6):  # 3 s of requests, 0.5 s apart
                busy_writer.write(request)
                assert await busy_reader.readuntil(b"\r\n\r\n0")
                await asyncio.sleep(0.5)
            assert await asyncio.wait_for(closed, 5) == b""  # the idle one was closed
            idle = closed_at[0] - answered
            # not before the timeout, and within the sweep's second after it (and slack)
            assert keep_alive <= idle < keep_alive + 1.5
            busy_writer.write(request)  # the busy one still serves
            assert (await busy_reader.readuntil(b"\r\n\r\n0")).startswith(b"HTTP/1.1 200")
            busy_writer.close()
            writer.close()
        finally:
            server.should_exit = True
            await task

    run(body)


def test_a_connection_that_sends_nothing_is_closed_with_408() -> None:
    async def body() -> None:
        async with serving() as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            started = asyncio.get_running_loop().time()
            assert (await answer(reader)).startswith(TIMED_OUT)
            waited = asyncio.get_running_loop().time() - started
            assert TIMEOUT <= waited < TIMEOUT + 2
            writer.close()

    run(body)


def test_a_head_sent_a_byte_at_a_time_is_cut_off() -> None:
    async def body() -> None:
        async with serving() as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            status = asyncio.ensure_future(reader.readline())  # read while sending
            head = b"GET / HTTP/1.1\r\nhost: portico\r\nx-slow: " + b"a" * 1000 + b"\r\n\r\n"
            sent = 0
            try:
                for byte in head:
                    if status.done():
                        break
                    writer.write(bytes([byte]))
                    await writer.drain()
                    sent += 1
                    await asyncio.sleep(0.01)
            except (ConnectionError, RuntimeError):  # RuntimeError: uvloop's closed transport
                pass
            assert sent < len(head)
            assert await asyncio.wait_for(status, 5) == TIMED_OUT
            writer.close()

    run(body)


def test_heads_within_the_timeout_and_slow_bodies_are_served() -> None:
    async def body() -> None:
        async with serving() as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            # a head in pieces, within the timeout
            for piece in (
                b"POST / HTTP/1.1\r\n",
                b"host: portico\r\n",
                b"content-length: 6\r\n\r\n",
            ):
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(TIMEOUT / 5)
            # a body that takes longer than the timeout in all, but never stalls for as long
            for piece in (b"ab", b"cd", b"ef"):
                await asyncio.sleep(TIMEOUT * 0.4)
                writer.write(piece)
                await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 5)
            assert status == b"HTTP/1.1 200 OK\r\n"
            # the connection is kept: the next request's head is timed from its first byte
            await asyncio.sleep(TIMEOUT * 1.5)
            rest = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert b"content-length: 1" in rest and await reader.readexactly(1) == b"6"
            writer.write(b"GET / HTTP/1.1\r\nhost: portico\r\n\r\n")
            await writer.drain()
            assert await asyncio.wait_for(reader.readline(), 5) == b"HTTP/1.1 200 OK\r\n"
            writer.close()

    run(body)


def test_a_body_that_stalls_is_cut_off_with_408() -> None:
    async def body() -> None:
        async with serving() as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(BODY_BEGUN)
                await writer.drain()
                started = asyncio.get_running_loop().time()
                assert (await answer(reader)).startswith(TIMED_OUT)
                waited = asyncio.get_running_loop().time() - started
                assert TIMEOUT <= waited < TIMEOUT + 2
            finally:
                writer.close()  # else a failure here would leave the server waiting for it

    run(body)


async def answer_first(
    scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any
) -> None:
    """Answers at once, before reading the body."""
    headers = [(b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_body_still_coming_after_the_answer_ends_the_connection_when_it_stalls() -> None:
    async def body() -> None:
        async with serving(answer_first) as (host, port):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(BODY_BEGUN)
                await writer.drain()
                everything = await answer(reader)
                assert everything.startswith(b"HTTP/1.1 200 OK\r\n")
                assert everything.endswith(b"ok")
            finally:
                writer.close()

    run(body)


LARGE = b"x" * (8 * 1024 * 1024)


async def answer_large(
    scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any
) -> None:
    headers = [(b"content-length", str(len(LARGE)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": LARGE})


def _reader(host: str, port: int, window: int | None = None) -> socket.socket:
    """A client socket that has asked for the large answer."""
    client = socket.socket()
    if window is not None:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, window)
    client.connect((host, port))
    client.sendall(b"GET / HTTP/1.1\r\nhost: portico\r\n\r\n")
    client.setblocking(False)
    return client


async def _read_all(client: socket.socket, piece: int, pause: float, received: int = -1) -> int:
    """How much of the answer's body the client has once it is whole or the server closes or
    resets, reading up to `piece` bytes every `pause` seconds; `received` of it already
    read (-1: not even the head)."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(ConnectionResetError):
        while received < len(LARGE):
            data = await asyncio.wait_for(loop.sock_recv(client, piece), 5)
            if not data:
                break
            if received < 0:  # the head comes first, whole
                data = data[data.index(b"\r\n\r\n") + 4 :]
                received = 0
            received += len(data)
            await asyncio.sleep(pause)
    return received


def test_a_client_that_reads_none_of_its_answer_is_dropped() -> None:
    async def body() -> None:
        async with serving(answer_large) as (host, port):
            with _reader(host, port, window=4096) as client:
                await asyncio.sleep(TIMEOUT + 2.5)  # the server looks once a second
                assert await _read_all(client, 1 << 20, 0) < len(LARGE) / 2

    run(body)


def test_a_client_that_reads_its_answer_slowly_gets_all_of_it() -> None:
    async def body() -> None:
        async with serving(answer_large) as (host, port):
            with _reader(host, port, window=4096) as client:
                # For six times the timeout, a little at a time: the kernel's queue drains,
                # though it takes nothing more from the server's for a long while.
                loop = asyncio.get_running_loop()
                head = await asyncio.wait_for(loop.sock_recv(client, 4096), 5)
                received = len(head) - head.index(b"\r\n\r\n") - 4
                until = loop.time() + TIMEOUT * 6
                while loop.time() < until:
                    received += len(await asyncio.wait_for(loop.sock_recv(client, 4096), 5))
                    await asyncio.sleep(0.01)
                assert received < len(LARGE) / 4
                # then the rest, at once
                assert await _read_all(client, 1 << 20, 0, received) == len(LARGE)

    run(body)
