"""The real server for end-to-end tests: `portico up` on port 0, signed clients."""

from __future__ import annotations

import http.server
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

READY = re.compile(r"Portico ready on (http://[\d.]+:\d+)")


ACCESS_KEY_ID = "AKIAPORTICOTESTKEY01"
SECRET_ACCESS_KEY = "portico-test-secret-access-key-000000000"


class Server:
    def __init__(
        self, process: subprocess.Popen[str], url: str, log_path: Path | None = None
    ) -> None:
        self.process = process
        self.url = url
        self.log_path = log_path  # where the server's own log (stderr) goes

    def client(
        self,
        service: str,
        secret: str = SECRET_ACCESS_KEY,
        key: str = ACCESS_KEY_ID,
        region: str = "eu-west-1",
    ) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            # No retries: a failure shows its own cause.
            config=Config(retries={"total_max_attempts": 1}),
        )


# Asynchronous invocations retry after 0.2 s, then 0.4 s (AWS: 1 and 2 minutes).
RETRY_BASE_SECONDS = "0.2"


def start_server(
    data_dir: Path,
    log_path: Path,
    example: str = "",
    open_files: int | None = None,
    environment: dict[str, str] | None = None,
) -> Server:
    """`portico up` on port 0 over `data_dir`; returns once it says it listens. With
    `open_files`, it starts with that soft limit on open files; `environment` adds to its
    variables."""

    def limit_open_files() -> None:
        if open_files is not None:
            _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, hard))

    with log_path.open("a") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "portico.cli.main", "up", "--port", "0"),
                *("--data-dir", str(data_dir), "--example", example),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={
                **os.environ,
                "PORTICO_ACCESS_KEY_ID": ACCESS_KEY_ID,
                "PORTICO_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
                "PORTICO_ASYNC_RETRY_BASE_SECONDS": RETRY_BASE_SECONDS,
                **(environment or {}),
            },
            preexec_fn=limit_open_files,
        )
    url = wait_until_ready(process)
    if url is None:
        stop_server(process)
        raise AssertionError(f"the server did not start: {log_path.read_text()}")
    return Server(process, url, log_path)


def stop_server(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=10)


def serving(base: Path) -> Iterator[Server]:
    """A server with its data and log under `base`, stopped when the generator is closed: for
    a fixture to `yield from`."""
    running = start_server(base / "data", base / "server.log")
    try:
        yield running
    finally:
        stop_server(running.process)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    yield from serving(tmp_path)


def wait_until_ready(process: subprocess.Popen[str]) -> str | None:
    """The server prints its address once it listens: wait for that line, not a sleep."""
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            return None
        found = READY.search(line)
        if found:
            return found.group(1)
    return None


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    response = raised.value.response
    error = response["Error"]
    return response["ResponseMetadata"]["HTTPStatusCode"], error["Code"], error["Message"]


def signed(server: Server, method: str, path: str, service: str, **kwargs: Any) -> httpx.Response:
    """A raw request, signed with the server's key the way botocore signs."""
    request = AWSRequest(method=method, url=f"{server.url}{path}", **kwargs)
    SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), service, "eu-west-1").add_auth(request)
    prepared = request.prepare()
    return httpx.request(
        method, prepared.url, headers=dict(prepared.headers), content=prepared.body
    )


class Marks:
    """Where test functions report what they ran: an HTTP endpoint on loopback that keeps
    each JSON body posted to `{url}/{bucket}`. (A function cannot leave a file for the
    test to find: its environment is confined to its own /tmp.)"""

    def __init__(self) -> None:
        received: dict[str, list[Any]] = {}
        self._received = received
        lock = self._lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    received.setdefault(self.path.strip("/"), []).append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def of(self, bucket: str) -> list[Any]:
        with self._lock:
            return list(self._received.get(bucket, []))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def marks() -> Iterator[Marks]:
    collector = Marks()
    try:
        yield collector
    finally:
        collector.close()
