"""`portico up`: the real server on an ephemeral port, driven by real clients."""

from __future__ import annotations

import json
import resource
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server, error_of, signed, start_server, stop_server


def test_health_and_loopback_binding(server: Server) -> None:
    response = httpx.get(f"{server.url}/_portico/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert server.url.startswith("http://127.0.0.1:")


def test_signed_requests_reach_the_handler_chain(server: Server) -> None:
    status, code, message = error_of(server.client("lambda").list_code_signing_configs)
    assert (status, code) == (501, "NotImplemented")
    assert message == "Portico does not implement lambda:ListCodeSigningConfigs yet."


def test_bad_signatures_are_refused_as_aws_refuses_them(server: Server) -> None:
    wrong_secret = server.client("lambda", secret="not-the-secret")
    status, code, message = error_of(wrong_secret.list_functions)
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("The request signature we calculated does not match")
    unknown_key = server.client("sqs", key="AKIAUNKNOWNKEY000000")
    status, code, _ = error_of(unknown_key.list_queues)
    assert (status, code) == (400, "UnrecognizedClientException")
    unknown_sns = server.client("sns", key="AKIAUNKNOWNKEY000000")
    status, code, _ = error_of(unknown_sns.list_topics)
    assert (status, code) == (403, "InvalidClientTokenId")
    unsigned = httpx.get(f"{server.url}/2015-03-31/functions")
    assert unsigned.status_code == 403
    assert unsigned.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert unsigned.json()["message"] == "Missing Authentication Token"


def test_unknown_operations(server: Server) -> None:
    headers = {
        "X-Amz-Target": "AmazonSQS.NoSuchThing",
        "Content-Type": "application/x-amz-json-1.0",
    }
    response = signed(server, "POST", "/", "sqs", headers=headers, data=b"{}")
    assert response.status_code == 404
    assert response.json()["__type"] == "UnknownOperationException"
    response = signed(server, "GET", "/2015-03-31/no-such-thing", "lambda")
    assert response.status_code == 404
    assert response.headers["x-amzn-ErrorType"] == "UnknownOperationException"


def test_connections_opened_together_are_all_served(server: Server) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    clients = [socket.create_connection((host, int(port)), timeout=30) for _ in range(200)]
    try:
        for client in clients:
            client.sendall(b"GET /_portico/health HTTP/1.1\r\nHost: portico\r\n\r\n")
        status_lines = [client.makefile("rb").readline() for client in clients]
    finally:
        for client in clients:
            client.close()
    assert status_lines == [b"HTTP/1.1 200 OK\r\n"] * 200


def test_a_port_in_use_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        completed = subprocess.run(
            [
                *(sys.executable, "-m", "portico.cli.main", "up", "--port", str(port)),
                *("--data-dir", str(tmp_path / "data"), "--example", ""),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert completed.returncode != 0
    assert completed.stderr.startswith(f"Portico cannot listen on 127.0.0.1:{port}: ")
    assert "Address already in use" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert "Portico ready" not in completed.stdout


def test_the_server_raises_its_open_files_limit(tmp_path: Path) -> None:
    """Started with a soft limit of 256 open files (a few hundred clients' worth), it takes
    what the hard limit allows, and serves more connections than 256 at once."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 1024:
        pytest.skip(f"the hard limit on open files here ({hard}) leaves nothing to raise")
    running = start_server(tmp_path / "data", tmp_path / "server.log", open_files=256)
    try:
        limits = Path(f"/proc/{running.process.pid}/limits").read_text()
        line = next(line for line in limits.splitlines() if line.startswith("Max open files"))
        assert line.split()[3:5] == [str(hard), str(hard)]
        host, port = httpx.URL(running.url).host, httpx.URL(running.url).port
        assert port is not None
        connections = [socket.create_connection((host, port)) for _ in range(400)]
        try:
            last = connections[-1]
            last.sendall(b"GET /_portico/health HTTP/1.1\r\nhost: portico\r\n\r\n")
            last.settimeout(10)
            assert last.recv(64).startswith(b"HTTP/1.1 200 ")
        finally:
            for connection in connections:
                connection.close()
    finally:
        stop_server(running.process)


_FROZEN_ONCE_READY = """
import asyncio, gc, signal, sys
from pathlib import Path
from portico.server import serve
from portico.settings import Settings

async def main() -> None:
    settings = Settings(port=0, data_dir=Path(sys.argv[1]), sandbox=False)
    serving = asyncio.create_task(serve(settings))
    waited = 0
    while gc.get_freeze_count() == 0 and not serving.done() and waited < 2000:
        await asyncio.sleep(0.01)
        waited += 1
    print("frozen", gc.get_freeze_count(), flush=True)
    signal.raise_signal(signal.SIGTERM)
    await serving

asyncio.run(main())
"""


def test_what_start_up_made_is_kept_out_of_the_collectors_full_passes(tmp_path: Path) -> None:
    """Once the server listens, the objects of its start-up (tens of thousands: modules,
    models, the application) are frozen: the collector's full passes, which came every few
    seconds under load, no longer walk them (each took tens of milliseconds)."""
    completed = subprocess.run(
        [sys.executable, "-c", _FROZEN_ONCE_READY, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    frozen = [line for line in completed.stdout.splitlines() if line.startswith("frozen ")]
    assert frozen, completed.stdout
    assert int(frozen[0].split()[1]) > 10_000
    assert "Portico ready" in completed.stdout


def test_sigterm_shuts_down_cleanly(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(15) == 0
    data_dir = Path(server.process.args[server.process.args.index("--data-dir") + 1])  # type: ignore[union-attr,index]
    assert (data_dir / "runtime").is_dir()


def test_a_second_signal_still_stores_the_last_log_lines(tmp_path: Path) -> None:
    """A second SIGTERM stops the wait for open connections, not Portico's own shutdown: the
    lines of an invocation that just ended, still held by the log sink, are stored."""
    example = str(Path(__file__).parents[2] / "examples" / "hello")
    running = start_server(tmp_path / "data", tmp_path / "first.log", example=example)
    try:
        assert running.process.stdout is not None
        running.process.stdout.readline()  # the example's own invocation
        # The example lives in the server's default region, us-east-1.
        invoked = running.client("lambda", region="us-east-1").invoke(FunctionName="hello")
        request_id = json.loads(invoked["Payload"].read())["requestId"]
        running.process.send_signal(signal.SIGTERM)
        running.process.send_signal(signal.SIGTERM)
        assert running.process.wait(30) == 0
    finally:
        stop_server(running.process)
    assert "Traceback" not in (tmp_path / "first.log").read_text()

    again = start_server(tmp_path / "data", tmp_path / "second.log")
    try:
        logs = again.client("logs", region="us-east-1")
        found = logs.filter_log_events(logGroupName="/aws/lambda/hello")["events"]
        assert f"REPORT RequestId: {request_id}" in "".join(e["message"] for e in found)
    finally:
        stop_server(again.process)


def test_stopped_while_the_example_deploys_it_ends_quietly(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "hello"
    log = tmp_path / "server.log"
    running = start_server(tmp_path / "data", log, example=str(example))
    running.process.send_signal(signal.SIGTERM)  # as soon as it is ready: the example runs
    assert running.process.wait(timeout=30) == 0
    stop_server(running.process)
    assert "Traceback" not in log.read_text()


def test_up_deploys_the_example_app(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "hello"
    running = start_server(tmp_path / "data", tmp_path / "server.log", example=str(example))
    try:
        assert running.process.stdout is not None
        result = running.process.stdout.readline()
        assert '"body": "Hello, Portico!"' in result
        # Deployed in the server's default region, us-east-1.
        client = running.client("lambda", region="us-east-1")
        names = [f["FunctionName"] for f in client.list_functions()["Functions"]]
        assert names == ["hello"]
        payload = client.invoke(FunctionName="hello", Payload=b'{"name": "you"}')["Payload"]
        assert json.loads(payload.read())["body"] == "Hello, you!"
    finally:
        stop_server(running.process)
