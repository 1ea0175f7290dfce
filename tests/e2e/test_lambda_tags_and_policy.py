"""Tags and resource-based policies through boto3 against the real server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import Server, error_of
from tests.e2e.lambda_config import (
    arn,
    metadata_status,
    unchecked_client,
    with_versions,
)
from tests.e2e.test_lambda_api import ECHO, create

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
