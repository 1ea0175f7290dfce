"""Reserved and provisioned concurrency, account settings, through boto3."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, error_of, start_server, stop_server
from tests.e2e.lambda_config import (
    arn,
    metadata_status,
    unchecked_client,
    with_versions,
)
from tests.e2e.test_lambda_api import create, invoke

# -- concurrency -------------------------------------------------------------------------------


def test_reserved_concurrency(server: Server) -> None:
    client = server.client("lambda")
    create(client)
    create(client, name="other")
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(
        FunctionName="echo"
    )
    put = client.put_function_concurrency(FunctionName="echo", ReservedConcurrentExecutions=5)
    assert put["ReservedConcurrentExecutions"] == 5
    got = client.get_function_concurrency(FunctionName=arn("echo"))
    assert got["ReservedConcurrentExecutions"] == 5
    assert client.get_function(FunctionName="echo")["Concurrency"] == {
        "ReservedConcurrentExecutions": 5
    }
    settings = client.get_account_settings()
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 995
    assert settings["AccountUsage"]["FunctionCount"] == 2

    assert error_of(
        client.put_function_concurrency, FunctionName="other", ReservedConcurrentExecutions=896
    ) == (
        400,
        "InvalidParameterValueException",
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].",
    )
    assert error_of(
        client.put_function_concurrency,
        FunctionName=arn("echo", "$LATEST"),
        ReservedConcurrentExecutions=1,
    ) == (
        400,
        "InvalidParameterValueException",
        "This operation is permitted on Lambda functions only. Aliases and versions do not "
        "support this operation. Please specify either a function name or an unqualified "
        "function ARN.",
    )
    assert error_of(
        client.put_function_concurrency, FunctionName="missing", ReservedConcurrentExecutions=1
    ) == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {arn('missing', '$LATEST')}",
    )

    assert metadata_status(client.delete_function_concurrency(FunctionName="echo")) == 204
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(
        FunctionName="echo"
    )
    assert error_of(client.get_function_concurrency, FunctionName="missing") == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {arn('missing')}",
    )


def test_throttled_at_zero_reserved_concurrency(server: Server) -> None:
    client = server.client("lambda")
    create(client)
    client.put_function_concurrency(FunctionName="echo", ReservedConcurrentExecutions=0)
    status, code, _ = error_of(client.invoke, FunctionName="echo", Payload=b"{}")
    assert (status, code) == (429, "TooManyRequestsException")


def test_account_settings(server: Server) -> None:
    client = server.client("lambda")
    empty = client.get_account_settings()
    assert empty["AccountLimit"] == {
        "TotalCodeSize": 80530636800,
        "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": 1000,
        "UnreservedConcurrentExecutions": 1000,
    }
    assert empty["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}
    size = create(client)["CodeSize"]
    assert client.get_account_settings()["AccountUsage"]["TotalCodeSize"] == size
    client.publish_version(FunctionName="echo")
    usage = client.get_account_settings()["AccountUsage"]
    assert usage == {"TotalCodeSize": 2 * size, "FunctionCount": 1}


def wait_for_provisioning(client: Any, name: str, qualifier: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        config: dict[str, Any] = client.get_provisioned_concurrency_config(
            FunctionName=name, Qualifier=qualifier
        )
        if config["Status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return config
        time.sleep(0.1)


def test_provisioned_concurrency(server: Server) -> None:
    client = server.client("lambda")
    with_versions(client)
    client.create_alias(FunctionName="echo", Name="live", FunctionVersion="2")

    put = client.put_provisioned_concurrency_config(
        FunctionName="echo", Qualifier="1", ProvisionedConcurrentExecutions=2
    )
    assert metadata_status(put) == 202
    assert put["Status"] == "IN_PROGRESS" and put["RequestedProvisionedConcurrentExecutions"] == 2
    ready = wait_for_provisioning(client, "echo", "1")
    assert ready["Status"] == "READY"
    assert ready["AllocatedProvisionedConcurrentExecutions"] == 2
    assert ready["AvailableProvisionedConcurrentExecutions"] == 2
    response, payload = invoke(client, "echo", Qualifier="1")
    assert response["ExecutedVersion"] == "1" and payload["greeting"] == "v1"

    client.put_provisioned_concurrency_config(
        FunctionName="echo", Qualifier="live", ProvisionedConcurrentExecutions=1
    )
    assert wait_for_provisioning(client, "echo", "live")["Status"] == "READY"
    listed = client.list_provisioned_concurrency_configs(FunctionName="echo", MaxItems=1)
    assert [c["FunctionArn"] for c in listed["ProvisionedConcurrencyConfigs"]] == [arn("echo", "1")]
    everything = client.get_paginator("list_provisioned_concurrency_configs").paginate(
        FunctionName="echo", PaginationConfig={"PageSize": 1}
    )
    arns = [c["FunctionArn"] for page in everything for c in page["ProvisionedConcurrencyConfigs"]]
    assert arns == [arn("echo", "1"), arn("echo", "live")]
    settings = client.get_account_settings()
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 997

    assert error_of(
        client.put_provisioned_concurrency_config,
        FunctionName="echo",
        Qualifier="2",
        ProvisionedConcurrentExecutions=1,
    ) == (409, "ResourceConflictException", "Version is pointed by a Provisioned Concurrency alias")

    deleted = client.delete_provisioned_concurrency_config(FunctionName="echo", Qualifier="1")
    assert metadata_status(deleted) == 204
    assert error_of(
        client.get_provisioned_concurrency_config, FunctionName="echo", Qualifier="1"
    ) == (
        404,
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
    )
    client.delete_alias(FunctionName="echo", Name="live")
    assert (
        client.list_provisioned_concurrency_configs(FunctionName="echo")[
            "ProvisionedConcurrencyConfigs"
        ]
        == []
    )


@pytest.mark.parametrize(
    ("operation", "arguments", "expected"),
    [
        (
            "put_provisioned_concurrency_config",
            {"Qualifier": "$LATEST", "ProvisionedConcurrentExecutions": 1},
            (
                400,
                "InvalidParameterValueException",
                "Provisioned Concurrency Configs cannot be applied to unpublished function "
                "versions.",
            ),
        ),
        (
            "get_provisioned_concurrency_config",
            {"Qualifier": "$LATEST"},
            (
                400,
                "InvalidParameterValueException",
                "The function resource provided must be an alias or a published version.",
            ),
        ),
        (
            "delete_provisioned_concurrency_config",
            {"Qualifier": "$LATEST"},
            (
                400,
                "InvalidParameterValueException",
                "The function resource provided must be an alias or a published version.",
            ),
        ),
        (
            "put_provisioned_concurrency_config",
            {"Qualifier": "1", "ProvisionedConcurrentExecutions": 0},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' "
                "failed to satisfy constraint: Member must have value greater than or equal to 1",
            ),
        ),
        (
            "get_provisioned_concurrency_config",
            {"Qualifier": "noalias"},
            (
                404,
                "ResourceNotFoundException",
                f"Cannot find alias arn: {arn('echo', 'noalias')}",
            ),
        ),
        (
            "delete_provisioned_concurrency_config",
            {"Qualifier": "10"},
            (404, "ResourceNotFoundException", f"Function not found: {arn('echo', '10')}"),
        ),
        (
            "get_provisioned_concurrency_config",
            {"Qualifier": "1"},
            (
                404,
                "ProvisionedConcurrencyConfigNotFoundException",
                "No Provisioned Concurrency Config found for this function",
            ),
        ),
        (
            "put_provisioned_concurrency_config",
            {"Qualifier": "1", "ProvisionedConcurrentExecutions": 1001},
            (
                400,
                "InvalidParameterValueException",
                "Specified ConcurrentExecutions for function is greater than account's "
                "unreserved concurrency [1000].",
            ),
        ),
        (
            "put_provisioned_concurrency_config",
            {"Qualifier": "1", "ProvisionedConcurrentExecutions": 1000},
            (
                400,
                "InvalidParameterValueException",
                "Specified ConcurrentExecutions for function decreases account's "
                "UnreservedConcurrentExecution below its minimum value of [100].",
            ),
        ),
        (
            "list_provisioned_concurrency_configs",
            {"FunctionName": "missing"},
            (404, "ResourceNotFoundException", f"Function not found: {arn('missing')}"),
        ),
    ],
    ids=[
        "put-latest",
        "get-latest",
        "delete-latest",
        "zero",
        "no-alias",
        "no-version",
        "no-config",
        "above-account",
        "below-minimum",
        "list-no-function",
    ],
)
def test_provisioned_concurrency_errors(
    server: Server, operation: str, arguments: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    client = unchecked_client(server)
    with_versions(client, count=1)
    call = getattr(client, operation)
    assert error_of(call, **{"FunctionName": "echo", **arguments}) == expected


def test_delete_of_a_missing_provisioned_config_succeeds(server: Server) -> None:
    client = server.client("lambda")
    with_versions(client, count=1)
    deleted = client.delete_provisioned_concurrency_config(FunctionName="echo", Qualifier="1")
    assert metadata_status(deleted) == 204


INITIALIZATION = """
import os
def handler(event, context):
    return {"init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], "pid": os.getpid()}
"""


def test_provisioned_concurrency_is_restored_after_a_restart(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "server.log"
    first = start_server(data, log)
    try:
        client = first.client("lambda")
        create(client, name="warm", source=INITIALIZATION, Publish=True)
        client.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=2
        )
        assert wait_for_provisioning(client, "warm", "1")["Status"] == "READY"
        _, before = invoke(client, "warm", Qualifier="1")
        assert before["init"] == "provisioned-concurrency"
        first.process.terminate()
        assert first.process.wait(20) == 0
    finally:
        stop_server(first.process)

    second = start_server(data, log)
    try:
        client = second.client("lambda")
        restored = wait_for_provisioning(client, "warm", "1")
        assert restored["Status"] == "READY"
        assert restored["AvailableProvisionedConcurrentExecutions"] == 2
        _, after = invoke(client, "warm", Qualifier="1")
        assert after["init"] == "provisioned-concurrency"
        assert after["pid"] != before["pid"]
    finally:
        stop_server(second.process)
