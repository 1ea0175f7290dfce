"""Aliases through boto3 against the real server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Server, error_of
from tests.e2e.lambda_config import (
    arn,
    metadata_status,
    unchecked_client,
    with_versions,
)
from tests.e2e.test_lambda_api import create, invoke

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


def test_a_connection_stays_usable_after_no_content_answers(server: Server) -> None:
    """Deletes answer 204 with no body, so the next request on the same keep-alive connection
    reads its own answer (a stray '{}' once made it a bad status line)."""
    client = server.client("lambda")
    create(client, name="kept")
    version = client.publish_version(FunctionName="kept")["Version"]
    for _ in range(3):
        client.create_alias(FunctionName="kept", Name="live", FunctionVersion=version)
        client.delete_alias(FunctionName="kept", Name="live")
    assert client.list_aliases(FunctionName="kept")["Aliases"] == []
