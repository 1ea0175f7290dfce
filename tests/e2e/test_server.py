"""`portico up`: the real server on an ephemeral port, driven by real clients."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

READY = re.compile(r"Portico ready on (http://[\d.]+:\d+)")


class Server:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url

    def client(self, service: str) -> object:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "portico.cli.main",
                "up",
                "--port",
                "0",
                "--data-dir",
                str(tmp_path / "data"),
                "--example",
                "",
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        url = wait_until_ready(process)
        if url is None:
            raise AssertionError(f"the server did not start: {log_path.read_text()}")
        yield Server(process, url)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


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


def test_health_and_loopback_binding(server: Server) -> None:
    response = httpx.get(f"{server.url}/_portico/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert server.url.startswith("http://127.0.0.1:")


def test_aws_errors_come_back_as_aws_errors(server: Server) -> None:
    lambda_client = server.client("lambda")
    with pytest.raises(ClientError) as raised:
        lambda_client.list_functions()  # type: ignore[attr-defined]
    error = raised.value.response["Error"]
    assert error["Code"] in ("NotImplemented",)
    response = httpx.post(
        f"{server.url}/",
        headers={
            "X-Amz-Target": "AmazonSQS.NoSuchThing",
            "Content-Type": "application/x-amz-json-1.0",
        },
        content=b"{}",
    )
    assert response.status_code == 404
    assert response.json()["__type"] == "UnknownOperationException"


def test_sigterm_shuts_down_cleanly(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(15) == 0
    data_dir = Path(server.process.args[server.process.args.index("--data-dir") + 1])  # type: ignore[union-attr,index]
    assert (data_dir / "runtime").is_dir()
