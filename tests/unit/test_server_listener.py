"""The server's listening socket accepts every waiting connection each time it is ready.

Real sockets on uvloop, the loop the server runs on: connections that arrive together are all
accepted within a few turns of the loop, however many there are.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

import pytest
import uvloop

from portico.server import _bind, _Listener

CLIENTS = 64
TURNS = 4  # one to accept, the next ones to open the transports and make the connections


def recording(made: list[asyncio.BaseTransport]) -> type[asyncio.Protocol]:
    class Recorder(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            made.append(transport)

    return Recorder


def peer(transport: asyncio.BaseTransport) -> object:
    """The client's address; None for one that is already gone."""
    try:
        return transport.get_extra_info("peername")
    except (AttributeError, OSError):  # uvloop has no socket left to ask
        return None


async def turns_of_the_loop(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def connections_made_within(turns: int) -> int:
    loop = asyncio.get_running_loop()
    made: list[asyncio.BaseTransport] = []
    [listening] = _bind("127.0.0.1", 0, CLIENTS * 2)
    listener = _Listener(loop, listening, recording(made), CLIENTS * 2)
    # A connect completes in the kernel's queue, before the server accepts it.
    clients = [socket.create_connection(listening.getsockname()) for _ in range(CLIENTS)]
    try:
        await turns_of_the_loop(turns)
        return len(made)
    finally:
        listener.close()
        for transport in made:
            transport.close()
        for client in clients:
            client.close()
        await asyncio.sleep(0)


def test_connections_that_arrive_together_are_all_accepted_at_once() -> None:
    assert uvloop.run(connections_made_within(TURNS)) == CLIENTS


def test_a_closed_listener_accepts_nothing_more() -> None:
    async def scenario() -> tuple[int, bool]:
        loop = asyncio.get_running_loop()
        [listening] = _bind("127.0.0.1", 0, 16)
        address = listening.getsockname()
        listener = _Listener(loop, listening, asyncio.Protocol, 16)
        listener.close()
        listener.close()  # twice is harmless, as uvicorn's shutdown may do
        await listener.wait_closed()
        refused = False
        try:
            socket.create_connection(address, timeout=5).close()
        except ConnectionRefusedError:
            refused = True
        return listening.fileno(), refused

    fileno, refused = uvloop.run(scenario())
    assert fileno == -1 and refused


def test_a_client_that_gives_up_in_the_queue_does_not_stop_the_others() -> None:
    async def scenario() -> tuple[list[object], object]:
        loop = asyncio.get_running_loop()
        made: list[asyncio.BaseTransport] = []
        [listening] = _bind("127.0.0.1", 0, 16)
        listener = _Listener(loop, listening, recording(made), 16)
        address = listening.getsockname()
        first = socket.create_connection(address)
        gone = socket.create_connection(address)
        # Closed with a reset while it waits to be accepted.
        gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        gone.close()
        last = socket.create_connection(address)
        try:
            await turns_of_the_loop(TURNS)
            return [peer(transport) for transport in made], last.getsockname()
        finally:
            listener.close()
            for transport in made:
                with contextlib.suppress(Exception):
                    transport.close()
            first.close()
            last.close()
            await asyncio.sleep(0)

    peers, last = uvloop.run(scenario())
    assert last in peers


def test_a_host_name_is_listened_on_at_each_of_its_addresses() -> None:
    named = {
        address[0] for *_, address in socket.getaddrinfo("localhost", 0, type=socket.SOCK_STREAM)
    }
    listening = _bind("localhost", 0, 16)
    try:
        assert {sock.getsockname()[0] for sock in listening} == named
        for sock in listening:
            with socket.create_connection(sock.getsockname()[:2], timeout=5):
                pass  # the kernel completes it on the backlog: the socket listens
    finally:
        for sock in listening:
            sock.close()


def test_port_0_gives_every_address_of_the_host_the_same_port() -> None:
    """Both families of "" (every interface): a client that tries ::1 before 127.0.0.1, as
    one resolving `localhost` may, must find Portico at the port it was told."""
    listening = _bind("", 0, 16)
    try:
        families = {sock.family for sock in listening}
        if socket.AF_INET6 not in families:
            pytest.skip("this machine has no IPv6: there is one address to listen on")
        ports = {sock.getsockname()[1] for sock in listening}
        assert len(listening) == 2 and len(ports) == 1
        [port] = ports
        for loopback in ("127.0.0.1", "::1"):
            with socket.create_connection((loopback, port), timeout=5):
                pass
    finally:
        for sock in listening:
            sock.close()
