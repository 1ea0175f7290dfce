"""The AWS CLI against the real server, unchanged but for --endpoint-url."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Server, start_server, stop_server
from tests.e2e.test_lambda_api import ECHO, ROLE, zipped

AWS = shutil.which("aws", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(AWS is None, reason="the AWS CLI (a dev dependency) is missing")


def aws(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    assert AWS is not None
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    return subprocess.run(
        [AWS, "--endpoint-url", server.url, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_lambda_with_the_cli(server: Server, tmp_path: Path) -> None:
    archive = tmp_path / "code.zip"
    archive.write_bytes(zipped({"app.py": ECHO}))
    created = aws(
        server,
        "lambda",
        "create-function",
        "--function-name",
        "cli-fn",
        "--runtime",
        "python3.12",
        "--role",
        ROLE,
        "--handler",
        "app.handler",
        "--zip-file",
        f"fileb://{archive}",
        "--environment",
        "Variables={GREETING=from-cli}",
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["FunctionName"] == "cli-fn"
    out = tmp_path / "out.json"
    invoked = aws(
        server,
        "lambda",
        "invoke",
        "--function-name",
        "cli-fn",
        "--payload",
        '{"from": "cli"}',
        "--log-type",
        "Tail",
        str(out),
    )
    assert invoked.returncode == 0, invoked.stderr
    meta = json.loads(invoked.stdout)
    assert meta["StatusCode"] == 200 and meta["ExecutedVersion"] == "$LATEST"
    assert json.loads(out.read_text())["greeting"] == "from-cli"
    listed = aws(server, "lambda", "list-functions")
    assert [f["FunctionName"] for f in json.loads(listed.stdout)["Functions"]] == ["cli-fn"]
    missing = aws(server, "lambda", "get-function", "--function-name", "nope")
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
    assert (
        "Function not found: arn:aws:lambda:eu-west-1:000000000000:function:nope" in missing.stderr
    )


def test_functions_survive_a_restart(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "server.log"
    first = start_server(data, log)
    try:
        client = first.client("lambda")
        client.create_function(
            FunctionName="kept",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zipped({"app.py": ECHO})},
        )
        client.publish_version(FunctionName="kept")
        first.process.terminate()
        assert first.process.wait(20) == 0
    finally:
        stop_server(first.process)
    second = start_server(data, log)
    try:
        client = second.client("lambda")
        assert [f["FunctionName"] for f in client.list_functions()["Functions"]] == ["kept"]
        versions = client.list_versions_by_function(FunctionName="kept")["Versions"]
        assert [v["Version"] for v in versions] == ["$LATEST", "1"]
        response = client.invoke(FunctionName="kept", Qualifier="1", Payload=b'{"k": 1}')
        assert json.loads(response["Payload"].read())["event"] == {"k": 1}
    finally:
        stop_server(second.process)
