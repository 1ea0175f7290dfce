"""The server bounds what a request's head (request line and headers) may take: a client that
sends headers without end is refused with 431 and cut off, instead of growing the server."""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Iterator

import httpx
import pytest

from portico.http_bounds import MAX_HEAD_BYTES
from tests.e2e.conftest import Server, serving


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serving(tmp_path_factory.mktemp("request-heads"))


def address(server: Server) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def resident_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def answer_of(connection: socket.socket) -> bytes:
    """What the server sent before it closed the connection."""
    connection.settimeout(10)
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_large_heads_within_the_bound_are_served(server: Server) -> None:
    headers = {f"x-big-{index}": "a" * 10_000 for index in range(5)}  # 50 KB of headers
    assert httpx.get(f"{server.url}/_portico/health", headers=headers).status_code == 200
    # A body that arrives with the head is not counted against it.
    big = httpx.post(f"{server.url}/_portico/health", content=b"b" * 3_000_000)
    assert big.status_code == 200


def test_a_head_past_the_bound_is_a_431(server: Server) -> None:
    with socket.create_connection(address(server)) as connection:
        header = b"x-big: " + b"a" * MAX_HEAD_BYTES + b"\r\n"
        connection.sendall(b"GET /_portico/health HTTP/1.1\r\nhost: portico\r\n" + header + b"\r\n")
        answer = answer_of(connection)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"connection: close" in answer


def test_a_header_without_end_is_cut_off_not_held(server: Server) -> None:
    before = resident_kb(server.process.pid)
    sent = 0
    with socket.create_connection(address(server)) as connection:
        connection.sendall(b"GET /_portico/health HTTP/1.1\r\nhost: portico\r\nx-endless: ")
        chunk = b"a" * 65536
        with pytest.raises(OSError):  # the server closes the connection: a reset, a broken pipe
            while sent < 50_000_000:
                connection.sendall(chunk)
                sent += len(chunk)
    print(f"cut off after {sent} bytes")
    assert sent < 16_000_000  # cut off early (what socket buffers took aside), not after 50 MB
    grown = resident_kb(server.process.pid) - before
    assert grown < 8_000  # KB; with no bound, the server grew by about 85 MB
    assert httpx.get(f"{server.url}/_portico/health").status_code == 200
