"""Aliases, concurrency, tags and resource policies through boto3 against the real server."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.e2e.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Server, error_of
from tests.e2e.test_lambda_api import ECHO, create, invoke

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
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
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


# -- aliases ---------------------------------------------------------------------------------


def test_alias_lifecycle(server: Server) -> None:
    client = server.client("lambda")
    with_versions(client)
    created = client.create_alias(
        FunctionName="echo",
        Name="live",
        FunctionVersion="1",
        Description="blue",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}},
    )
    assert metadata_status(created) == 201
    assert created["AliasArn"] == arn("echo", "live")
    assert created["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    fetched = client.get_alias(FunctionName=arn("echo"), Name="live")
    assert {key: fetched[key] for key in created if key != "ResponseMetadata"} == {
        key: value for key, value in created.items() if key != "ResponseMetadata"
    }

    updated = client.update_alias(
        FunctionName="echo", Name="live", RoutingConfig={"AdditionalVersionWeights": {}}
    )
    assert "RoutingConfig" not in updated and updated["RevisionId"] != created["RevisionId"]
    stale = error_of(
        client.update_alias, FunctionName="echo", Name="live", RevisionId=created["RevisionId"]
    )
    assert stale == (
        412,
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
    moved = client.update_alias(
        FunctionName="echo", Name="live", FunctionVersion="2", RevisionId=updated["RevisionId"]
    )
    assert moved["FunctionVersion"] == "2"

    deleted = client.delete_alias(FunctionName="echo", Name="live")
    assert metadata_status(deleted) == 204
    assert error_of(client.get_alias, FunctionName="echo", Name="live") == (
        404,
        "ResourceNotFoundException",
        f"Cannot find alias arn: {arn('echo', 'live')}",
    )
    assert metadata_status(client.delete_alias(FunctionName="echo", Name="live")) == 204
    assert error_of(client.update_alias, FunctionName="echo", Name="live") == (
        404,
        "ResourceNotFoundException",
        f"Alias not found: {arn('echo', 'live')}",
    )


def test_list_aliases_pages_and_filters(server: Server) -> None:
    client = server.client("lambda")
    with_versions(client)
    for name, version in [("a", "1"), ("b", "2"), ("c", "1"), ("d", "$LATEST"), ("e", "1")]:
        client.create_alias(FunctionName="echo", Name=name, FunctionVersion=version)
    pages = list(
        client.get_paginator("list_aliases").paginate(
            FunctionName="echo", PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(page["Aliases"]) for page in pages] == [2, 2, 1]
    assert [alias["Name"] for page in pages for alias in page["Aliases"]] == list("abcde")
    ones = client.list_aliases(FunctionName="echo", FunctionVersion="1")["Aliases"]
    assert [alias["Name"] for alias in ones] == ["a", "c", "e"]
    assert error_of(client.list_aliases, FunctionName="missing") == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {arn('missing')}",
    )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"RoutingConfig": {"AdditionalVersionWeights": {"1": 0.8, "2": 0.2}}},
            (
                400,
                "InvalidParameterValueException",
                "Number of items in AdditionalVersionWeights cannot be greater than 1",
            ),
        ),
        (
            {"RoutingConfig": {"AdditionalVersionWeights": {"2": 2}}},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value '{2=2.0}' at "
                "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value "
                "must satisfy constraint: [Member must have value less than or equal to 1.0, "
                "Member must have value greater than or equal to 0.0, Member must not be null]",
            ),
        ),
        (
            {"RoutingConfig": {"AdditionalVersionWeights": {"2": -1}}},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value '{2=-1.0}' at "
                "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value "
                "must satisfy constraint: [Member must have value less than or equal to 1.0, "
                "Member must have value greater than or equal to 0.0, Member must not be null]",
            ),
        ),
        (
            {"RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}}},
            (
                400,
                "InvalidParameterValueException",
                "Invalid function version 1. Function version 1 is already included in routing "
                "configuration.",
            ),
        ),
        (
            {"FunctionVersion": "10"},
            (404, "ResourceNotFoundException", f"Function not found: {arn('echo', '10')}"),
        ),
        (
            {"RoutingConfig": {"AdditionalVersionWeights": {"10": 0.5}}},
            (404, "ResourceNotFoundException", f"Function not found: {arn('echo', '10')}"),
        ),
        (
            {
                "FunctionVersion": "$LATEST",
                "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}},
            },
            (
                400,
                "InvalidParameterValueException",
                "$LATEST is not supported for an alias pointing to more than 1 version",
            ),
        ),
        (
            {"RoutingConfig": {"AdditionalVersionWeights": {"$LATEST": 0.5}}},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value '{$LATEST=0.5}' at "
                "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys "
                "must satisfy constraint: [Member must have length less than or equal to 1024, "
                "Member must have length greater than or equal to 1, Member must satisfy regular "
                "expression pattern: [0-9]+]",
            ),
        ),
        (
            {"Name": "2024"},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value '2024' at 'name' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "(?!^[0-9]+$)([a-zA-Z0-9-_]+)",
            ),
        ),
        (
            {"FunctionName": "echo-unknown"},
            (404, "ResourceNotFoundException", f"Function not found: {arn('echo-unknown', '1')}"),
        ),
        (
            {"Name": "taken"},
            (409, "ResourceConflictException", f"Alias already exists: {arn('echo', 'taken')}"),
        ),
    ],
    ids=[
        "too-many",
        "too-high",
        "below-zero",
        "same-version",
        "no-version",
        "no-routed-version",
        "latest-primary",
        "latest-routed",
        "numeric-name",
        "no-function",
        "conflict",
    ],
)
def test_create_alias_errors(
    server: Server, arguments: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    client = unchecked_client(server)
    with_versions(client)
    client.create_alias(FunctionName="echo", Name="taken", FunctionVersion="1")
    call = {"FunctionName": "echo", "Name": "custom", "FunctionVersion": "1", **arguments}
    assert error_of(client.create_alias, **call) == expected


def test_invoke_and_get_function_through_an_alias(server: Server) -> None:
    client = server.client("lambda")
    with_versions(client)
    client.create_alias(
        FunctionName="echo",
        Name="canary",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}},
    )
    client.create_alias(FunctionName="echo", Name="stable", FunctionVersion="1")
    for _ in range(3):
        response, payload = invoke(client, "echo", Qualifier="canary")
        assert response["ExecutedVersion"] == "2" and payload["greeting"] == "v2"
    response, payload = invoke(client, "echo:stable")
    assert response["ExecutedVersion"] == "1" and payload["greeting"] == "v1"

    configuration = client.get_function(FunctionName="echo", Qualifier="stable")["Configuration"]
    assert configuration["FunctionArn"] == arn("echo", "stable")
    assert configuration["Version"] == "1"
    assert error_of(client.get_function, FunctionName="echo", Qualifier="nope") == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {arn('echo', 'nope')}",
    )


def test_deleting_the_function_takes_its_aliases_and_policies(server: Server) -> None:
    client = server.client("lambda")
    with_versions(client, count=1)
    client.create_alias(FunctionName="echo", Name="live", FunctionVersion="1")
    client.add_permission(
        FunctionName="echo",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
    )
    client.delete_function(FunctionName="echo")
    create(client)
    assert client.list_aliases(FunctionName="echo")["Aliases"] == []
    assert error_of(client.get_policy, FunctionName="echo")[1] == "ResourceNotFoundException"


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


# -- tags ------------------------------------------------------------------------------------


def test_tags(server: Server) -> None:
    client = server.client("lambda")
    create(client, Tags={"team": "core"})
    revision = client.get_function(FunctionName="echo")["Configuration"]["RevisionId"]
    assert client.list_tags(Resource=arn("echo"))["Tags"] == {"team": "core"}
    tagged = client.tag_resource(Resource=arn("echo"), Tags={"stage": "dev", "team": "edge"})
    assert metadata_status(tagged) == 204
    assert client.list_tags(Resource=arn("echo"))["Tags"] == {"team": "edge", "stage": "dev"}
    fetched = client.get_function(FunctionName="echo")
    assert fetched["Tags"] == {"team": "edge", "stage": "dev"}
    assert fetched["Configuration"]["RevisionId"] != revision
    untagged = client.untag_resource(Resource=arn("echo"), TagKeys=["team", "absent"])
    assert metadata_status(untagged) == 204
    assert client.list_tags(Resource=arn("echo"))["Tags"] == {"stage": "dev"}

    many = {f"{index}_key": "value" for index in range(50)}
    assert error_of(client.tag_resource, Resource=arn("echo"), Tags=many) == (
        400,
        "InvalidParameterValueException",
        "Number of tags exceeds resource tag limit.",
    )


@pytest.mark.parametrize(
    ("operation", "arguments", "expected"),
    [
        (
            "list_tags",
            {"Resource": "arn:aws:lambda:eu-west-1:000000000000:foobar:echo"},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value 'arn:aws:lambda:eu-west-1:000000000000:"
                "foobar:echo' at 'resource' failed to satisfy constraint: Member must satisfy "
                "regular expression pattern: ",
            ),
        ),
        (
            "tag_resource",
            {"Resource": arn("missing"), "Tags": {"a": "b"}},
            (404, "ResourceNotFoundException", f"Function not found: {arn('missing')}"),
        ),
        (
            "untag_resource",
            {"Resource": arn("missing"), "TagKeys": ["a"]},
            (404, "ResourceNotFoundException", f"Function not found: {arn('missing')}"),
        ),
        (
            "list_tags",
            {"Resource": arn("echo", "$LATEST")},
            (
                400,
                "InvalidParameterValueException",
                "Tags on function aliases and versions are not supported. Please specify a "
                "function ARN.",
            ),
        ),
        (
            "tag_resource",
            {"Resource": arn("echo"), "Tags": {}},
            (
                400,
                "InvalidParameterValueException",
                "An error occurred and the request cannot be processed.",
            ),
        ),
        (
            "untag_resource",
            {"Resource": arn("echo"), "TagKeys": []},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                "constraint: Member must not be null",
            ),
        ),
    ],
    ids=["bad-arn", "tag-missing", "untag-missing", "qualified", "no-tags", "no-keys"],
)
def test_tag_errors(
    server: Server, operation: str, arguments: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    client = unchecked_client(server)
    create(client)
    status, code, message = error_of(getattr(client, operation), **arguments)
    assert (status, code) == expected[:2]
    assert message.startswith(expected[2])


# -- resource-based policies -------------------------------------------------------------------


def test_permissions(server: Server) -> None:
    client = server.client("lambda")
    with_versions(client, count=1)
    added = client.add_permission(
        FunctionName="echo",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bucket",
        SourceAccount="111111111111",
    )
    assert metadata_status(added) == 201
    statement = json.loads(added["Statement"])
    assert statement == {
        "Sid": "s3",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": arn("echo"),
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "111111111111"},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"},
        },
    }
    policy = client.get_policy(FunctionName="echo")
    assert json.loads(policy["Policy"]) == {
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": [statement],
    }
    latest = client.get_function(FunctionName="echo")["Configuration"]["RevisionId"]
    assert policy["RevisionId"] == latest

    assert error_of(
        client.add_permission,
        FunctionName="echo",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
    ) == (
        409,
        "ResourceConflictException",
        "The statement id (s3) provided already exists. Please provide a new statement id, or "
        "remove the existing statement.",
    )
    on_version = client.add_permission(
        FunctionName="echo",
        Qualifier="1",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="111111111111",
    )
    assert json.loads(on_version["Statement"])["Principal"] == {
        "AWS": "arn:aws:iam::111111111111:root"
    }
    assert json.loads(on_version["Statement"])["Resource"] == arn("echo", "1")

    removed = client.remove_permission(FunctionName="echo", StatementId="s3", RevisionId=latest)
    assert metadata_status(removed) == 204
    assert error_of(client.get_policy, FunctionName="echo") == (
        404,
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
    )
    assert client.get_policy(FunctionName="echo", Qualifier="1")["Policy"]


@pytest.mark.parametrize(
    ("operation", "arguments", "expected"),
    [
        (
            "add_permission",
            {"StatementId": "example.com"},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value 'example.com' at 'statementId' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "([a-zA-Z0-9-_]+)",
            ),
        ),
        (
            "add_permission",
            {"FunctionName": "echo:1", "Qualifier": "2"},
            (
                400,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified "
                "qualifier.",
            ),
        ),
        (
            "add_permission",
            {"Qualifier": "$LATEST"},
            (
                400,
                "InvalidParameterValueException",
                "We currently do not support adding policies for $LATEST.",
            ),
        ),
        (
            "add_permission",
            {"Principal": "invalid-principal"},
            (
                400,
                "InvalidParameterValueException",
                "The provided principal was invalid. Please check the principal and try again.",
            ),
        ),
        (
            "add_permission",
            {"FunctionName": "missing"},
            (404, "ResourceNotFoundException", f"Function not found: {arn('missing')}"),
        ),
        (
            "add_permission",
            {"Qualifier": "alias-missing"},
            (
                404,
                "ResourceNotFoundException",
                f"Cannot find alias arn: {arn('echo', 'alias-missing')}",
            ),
        ),
        (
            "add_permission",
            {"RevisionId": "wrong"},
            (
                412,
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetPolicy API to retrieve the latest Revision Id",
            ),
        ),
        (
            "remove_permission",
            {"FunctionName": "missing"},
            (404, "ResourceNotFoundException", f"No policy found for: {arn('missing')}"),
        ),
        (
            "remove_permission",
            {},
            (404, "ResourceNotFoundException", "No policy is associated with the given resource."),
        ),
        (
            "get_policy",
            {"FunctionName": "missing"},
            (404, "ResourceNotFoundException", "The resource you requested does not exist."),
        ),
        (
            "get_policy",
            {"Qualifier": "42"},
            (404, "ResourceNotFoundException", "The resource you requested does not exist."),
        ),
    ],
    ids=[
        "statement-id",
        "qualifier-mismatch",
        "latest",
        "principal",
        "no-function",
        "no-alias",
        "revision",
        "remove-no-function",
        "remove-no-policy",
        "get-no-function",
        "get-no-version",
    ],
)
def test_permission_errors(
    server: Server, operation: str, arguments: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    client = unchecked_client(server)
    create(client, source=ECHO)
    base: dict[str, Any] = {
        "add_permission": {
            "FunctionName": "echo",
            "StatementId": "s3",
            "Action": "lambda:InvokeFunction",
            "Principal": "s3.amazonaws.com",
        },
        "remove_permission": {"FunctionName": "echo", "StatementId": "s3"},
        "get_policy": {"FunctionName": "echo"},
    }[operation]
    assert error_of(getattr(client, operation), **{**base, **arguments}) == expected


def test_remove_permission_of_an_unknown_statement(server: Server) -> None:
    client = server.client("lambda")
    create(client)
    client.add_permission(
        FunctionName="echo",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
    )
    assert error_of(client.remove_permission, FunctionName="echo", StatementId="non-existent") == (
        404,
        "ResourceNotFoundException",
        "Statement non-existent is not found in resource policy.",
    )
