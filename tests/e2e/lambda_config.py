"""Helpers shared by the Lambda configuration API tests."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from tests.e2e.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Server
from tests.e2e.test_lambda_api import create

ACCOUNT = "000000000000"
REGION = "eu-west-1"


def arn(name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def unchecked_client(server: Server) -> Any:
    """A client that sends what it is given, so the server's own checks answer."""
    return boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(retries={"total_max_attempts": 1}, parameter_validation=False),
    )


def with_versions(client: Any, name: str = "echo", count: int = 2) -> None:
    """A function with `count` published versions, each with its own GREETING."""
    create(client, name=name)
    for number in range(1, count + 1):
        client.update_function_configuration(
            FunctionName=name, Environment={"Variables": {"GREETING": f"v{number}"}}
        )
        assert client.publish_version(FunctionName=name)["Version"] == str(number)


def metadata_status(response: dict[str, Any]) -> int:
    status: int = response["ResponseMetadata"]["HTTPStatusCode"]
    return status
