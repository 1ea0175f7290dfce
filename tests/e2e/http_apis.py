"""Helpers for the HTTP API tests: functions behind routes, a module-scoped server."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.test_lambda_api import ROLE, zipped

ACCOUNT = "000000000000"
REGION = "eu-west-1"

# Answers with what it was sent, so tests can read the event the gateway built.
ECHO_EVENT = """
import json, os, time

def handler(event, context):
    path = event.get("rawPath") or event.get("path") or ""
    if path.endswith("/sleep"):
        time.sleep(float(os.environ.get("SLEEP", "2")))
    if path.endswith("/fail"):
        raise ValueError("failed on purpose")
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-version": os.environ.get("V", "")},
        "body": json.dumps(event),
    }
"""


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("server")
    running = start_server(directory / "data", directory / "server.log")
    try:
        yield running
    finally:
        stop_server(running.process)


def function(server: Server, name: str, source: str = ECHO_EVENT, **extra: Any) -> str:
    """Create a Python function; its ARN."""
    created = server.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zipped({"app.py": source})},
        **extra,
    )
    arn: str = created["FunctionArn"]
    return arn


def quick_api(server: Server, target: str, *, permit: bool = True, **extra: Any) -> dict[str, Any]:
    """A quick-created API on `target`; with `permit`, the function lets the API invoke it."""
    created: dict[str, Any] = server.client("apigatewayv2").create_api(
        Name="quick", ProtocolType="HTTP", Target=target, **extra
    )
    if permit:
        allow_api(server, target, created["ApiId"])
    return created


def allow_api(server: Server, function: str, api_id: str, resource: str = "*") -> str:
    """What a user adds so that API Gateway may invoke `function` (a name or ARN, qualified
    or not) for `api_id`'s routes matching `resource`; the statement's id."""
    statement_id = f"apigateway-{uuid.uuid4().hex}"
    server.client("lambda").add_permission(
        FunctionName=function,
        StatementId=statement_id,
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/{resource}",
    )
    return statement_id


def bundle(files: dict[str, str], packages: list[ModuleType]) -> bytes:
    """A deployment package: `files`, and the given libraries' sources beside them, as a
    user zips an app with its dependencies."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, source in files.items():
            archive.writestr(name, source)
        for package in packages:
            origin = Path(str(package.__file__))
            if origin.name != "__init__.py":  # a single module
                archive.write(origin, origin.name)
                continue
            for path in origin.parent.rglob("*"):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, str(path.relative_to(origin.parent.parent)))
    return buffer.getvalue()
