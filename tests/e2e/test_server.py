"""`portico up`: the real server on an ephemeral port, driven by real clients."""

from __future__ import annotations

import os
import re
import signal
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


def test_health_and_loopback_binding(server: Server) -> None:
    response = httpx.get(f"{server.url}/_portico/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert server.url.startswith("http://127.0.0.1:")


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    response = raised.value.response
    error = response["Error"]
    return response["ResponseMetadata"]["HTTPStatusCode"], error["Code"], error["Message"]


def test_signed_requests_reach_the_handler_chain(server: Server) -> None:
    status, code, message = error_of(server.client("lambda").list_functions)
    assert (status, code) == (501, "NotImplemented")
    assert message == "Portico does not implement lambda:ListFunctions yet."


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


def signed(server: Server, method: str, path: str, service: str, **kwargs: Any) -> httpx.Response:
    """A raw request, signed with the server's key the way botocore signs."""
    request = AWSRequest(method=method, url=f"{server.url}{path}", **kwargs)
    SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), service, "eu-west-1").add_auth(request)
    prepared = request.prepare()
    return httpx.request(
        method, prepared.url, headers=dict(prepared.headers), content=prepared.body
    )


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


def test_sigterm_shuts_down_cleanly(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(15) == 0
    data_dir = Path(server.process.args[server.process.args.index("--data-dir") + 1])  # type: ignore[union-attr,index]
    assert (data_dir / "runtime").is_dir()
