"""The real server for end-to-end tests: `portico up` on port 0, signed clients."""

from __future__ import annotations

import os
import re
import subprocess
import sys
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
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url

    def client(
        self, service: str, secret: str = SECRET_ACCESS_KEY, key: str = ACCESS_KEY_ID
    ) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="eu-west-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
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
            env={
                **os.environ,
                "PORTICO_ACCESS_KEY_ID": ACCESS_KEY_ID,
                "PORTICO_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            },
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
