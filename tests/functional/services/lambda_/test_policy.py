"""Resource-based policies over a real database: statements, revisions, errors."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from portico.aws.handler import RequestContext
from portico.services.lambda_.aliases import Aliases
from portico.services.lambda_.attachments import POLICIES, delete_attachments
from portico.services.lambda_.policy import Policies, PolicyLengthExceededException
from portico.store import Database
from tests.functional.services.lambda_.conftest import (
    SCOPE,
    FunctionMaker,
    arn,
    described,
    failure,
)

pytestmark = pytest.mark.asyncio

NO_RESOURCE = (404, "ResourceNotFoundException", "The resource you requested does not exist.")


@pytest.fixture
def policies(database: Database) -> Policies:
    return Policies(database)


@pytest.fixture
def fn(make_function: FunctionMaker) -> str:
    make_function("fn", versions=1)
    return "fn"


def permission(sid: str = "s3", **extra: Any) -> dict[str, Any]:
    return {
        "FunctionName": "fn",
        "StatementId": sid,
        "Action": "lambda:InvokeFunction",
        "Principal": "s3.amazonaws.com",
        **extra,
    }


async def test_add_get_remove(
    policies: Policies, context: RequestContext, fn: str, make_function: FunctionMaker
) -> None:
    before = make_function.record().latest.revision_id
    added = await policies.add_permission(context, permission(SourceArn="arn:aws:s3:::bucket"))
    statement = {
        "Sid": "s3",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": arn("fn"),
        "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}},
    }
    assert json.loads(added["Statement"]) == statement
    got = await policies.get_policy(context, {"FunctionName": "fn"})
    assert json.loads(got["Policy"]) == {
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": [statement],
    }
    assert got["Policy"].startswith('{"Version":"2012-10-17","Id":"default","Statement":[{')
    revision = make_function.record().latest.revision_id
    assert got["RevisionId"] == revision != before

    await policies.add_permission(context, permission("sqs", Principal="sqs.amazonaws.com"))
    two = json.loads((await policies.get_policy(context, {"FunctionName": "fn"}))["Policy"])
    assert [item["Sid"] for item in two["Statement"]] == ["s3", "sqs"]

    await policies.remove_permission(context, {"FunctionName": "fn", "StatementId": "s3"})
    one = await policies.get_policy(context, {"FunctionName": arn("fn")})
    assert [item["Sid"] for item in json.loads(one["Policy"])["Statement"]] == ["sqs"]
    assert one["RevisionId"] == make_function.record().latest.revision_id != revision

    await policies.remove_permission(context, {"FunctionName": "fn", "StatementId": "sqs"})
    assert described(await failure(policies.get_policy(context, {"FunctionName": "fn"}))) == (
        NO_RESOURCE
    )


@pytest.mark.parametrize(
    ("extra", "principal", "condition"),
    [
        (
            {"Principal": "*", "SourceAccount": "111111111111"},
            "*",
            {"StringEquals": {"AWS:SourceAccount": "111111111111"}},
        ),
        ({"Principal": "111111111111"}, {"AWS": "arn:aws:iam::111111111111:root"}, None),
        (
            {
                "Principal": "arn:aws:iam::111111111111:user/someone",
                "SourceAccount": "111111111111",
            },
            {"AWS": "arn:aws:iam::111111111111:user/someone"},
            {"StringEquals": {"AWS:SourceAccount": "111111111111"}},
        ),
        (
            {
                "Principal": "*",
                "Action": "lambda:InvokeFunctionUrl",
                "FunctionUrlAuthType": "NONE",
                "PrincipalOrgID": "o-1234567890",
                "SourceAccount": "111111111111",
                "SourceArn": "arn:aws:s3:::bucket",
            },
            "*",
            {
                "StringEquals": {
                    "AWS:SourceAccount": "111111111111",
                    "lambda:FunctionUrlAuthType": "NONE",
                    "aws:PrincipalOrgID": "o-1234567890",
                },
                "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"},
            },
        ),
        (
            {"Principal": "*", "EventSourceToken": "amzn1.ask.skill.xxxxxxxx-xxxx"},
            "*",
            {"StringEquals": {"lambda:EventSourceToken": "amzn1.ask.skill.xxxxxxxx-xxxx"}},
        ),
    ],
    ids=["wildcard", "account", "user-arn", "url-fields", "event-source-token"],
)
async def test_statements_are_built_as_lambda_builds_them(
    policies: Policies,
    context: RequestContext,
    fn: str,
    extra: dict[str, Any],
    principal: Any,
    condition: dict[str, Any] | None,
) -> None:
    added = json.loads((await policies.add_permission(context, permission(**extra)))["Statement"])
    assert added["Principal"] == principal
    assert added.get("Condition") == condition
    assert list(added)[:5] == ["Sid", "Effect", "Principal", "Action", "Resource"]


async def test_each_version_and_alias_has_its_own_policy(
    policies: Policies,
    context: RequestContext,
    fn: str,
    database: Database,
    make_function: FunctionMaker,
) -> None:
    await Aliases(database).create_alias(
        context, {"FunctionName": "fn", "Name": "live", "FunctionVersion": "1"}
    )
    version_revision = make_function.version("fn", 1).revision_id
    await policies.add_permission(context, permission(Qualifier="1"))
    await policies.add_permission(context, permission(FunctionName=arn("fn", "live")))
    assert described(await failure(policies.get_policy(context, {"FunctionName": "fn"}))) == (
        NO_RESOURCE
    )

    on_version = await policies.get_policy(context, {"FunctionName": "fn", "Qualifier": "1"})
    statement = json.loads(on_version["Policy"])["Statement"][0]
    assert statement["Resource"] == arn("fn", "1")
    assert on_version["RevisionId"] == make_function.version("fn", 1).revision_id
    assert on_version["RevisionId"] != version_revision

    alias = await Aliases(database).get_alias(context, {"FunctionName": "fn", "Name": "live"})
    on_alias = await policies.get_policy(context, {"FunctionName": "fn:live"})
    assert json.loads(on_alias["Policy"])["Statement"][0]["Resource"] == arn("fn", "live")
    assert on_alias["RevisionId"] == alias["RevisionId"]

    stale = await failure(
        policies.add_permission(context, permission("again", Qualifier="live", RevisionId="x"))
    )
    assert described(stale) == (
        412,
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy "
        "API to retrieve the latest Revision Id",
    )
    fresh = permission("again", Qualifier="live", RevisionId=alias["RevisionId"])
    await policies.add_permission(context, fresh)

    with database.transaction() as tx:
        delete_attachments(tx.records, SCOPE, "fn")
    with database.snapshot() as tx:
        assert POLICIES.list(tx.records, SCOPE) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            permission("example.com"),
            (
                400,
                "ValidationException",
                "1 validation error detected: Value 'example.com' at 'statementId' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "([a-zA-Z0-9-_]+)",
            ),
        ),
        (
            permission(FunctionName="fn:1", Qualifier="2"),
            (
                400,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified "
                "qualifier.",
            ),
        ),
        (
            permission(Qualifier="$LATEST"),
            (
                400,
                "InvalidParameterValueException",
                "We currently do not support adding policies for $LATEST.",
            ),
        ),
        (
            permission(Principal="invalid principal!"),
            (
                400,
                "ValidationException",
                "1 validation error detected: Value 'invalid principal!' at 'principal' failed "
                "to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+",
            ),
        ),
        (
            permission(Principal="invalid-principal"),
            (
                400,
                "InvalidParameterValueException",
                "The provided principal was invalid. Please check the principal and try again.",
            ),
        ),
        (
            permission(FunctionName="doesnotexist"),
            (404, "ResourceNotFoundException", f"Function not found: {arn('doesnotexist')}"),
        ),
        (
            permission(Qualifier="alias-doesnotexist"),
            (
                404,
                "ResourceNotFoundException",
                f"Cannot find alias arn: {arn('fn', 'alias-doesnotexist')}",
            ),
        ),
        (
            permission(Qualifier="42"),
            (404, "ResourceNotFoundException", f"Function not found: {arn('fn', '42')}"),
        ),
        (
            permission(Qualifier="invalid-qualifier-with-?-char"),
            (
                400,
                "ValidationException",
                "1 validation error detected: Value 'invalid-qualifier-with-?-char' at "
                "'qualifier' failed to satisfy constraint: Member must satisfy regular "
                "expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
            ),
        ),
        (
            permission(Qualifier="valid-with-$-but-doesnotexist"),
            (
                404,
                "ResourceNotFoundException",
                f"Function not found: {arn('fn', 'valid-with-$-but-doesnotexist')}",
            ),
        ),
        (
            permission(RevisionId="wrong"),
            (
                412,
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetPolicy API to retrieve the latest Revision Id",
            ),
        ),
    ],
    ids=[
        "statement-id",
        "qualifier-mismatch",
        "latest",
        "principal-pattern",
        "principal",
        "no-function",
        "no-alias",
        "no-version",
        "qualifier-pattern",
        "qualifier-neither",
        "revision",
    ],
)
async def test_add_errors(
    policies: Policies,
    context: RequestContext,
    fn: str,
    params: dict[str, Any],
    expected: tuple[int, str, str],
) -> None:
    assert described(await failure(policies.add_permission(context, params))) == expected


async def test_statement_ids_are_unique_per_policy(
    policies: Policies, context: RequestContext, fn: str
) -> None:
    await policies.add_permission(context, permission())
    error = await failure(policies.add_permission(context, permission()))
    assert described(error) == (
        409,
        "ResourceConflictException",
        "The statement id (s3) provided already exists. Please provide a new statement id, or "
        "remove the existing statement.",
    )
    await policies.add_permission(context, permission(Qualifier="1"))  # another policy


async def test_remove_errors(
    policies: Policies, context: RequestContext, fn: str, make_function: FunctionMaker
) -> None:
    no_policy = await failure(
        policies.remove_permission(context, {"FunctionName": "fn", "StatementId": "s3"})
    )
    assert described(no_policy) == (
        404,
        "ResourceNotFoundException",
        "No policy is associated with the given resource.",
    )
    no_function = await failure(
        policies.remove_permission(context, {"FunctionName": "doesnotexist", "StatementId": "s3"})
    )
    assert described(no_function) == (
        404,
        "ResourceNotFoundException",
        f"No policy found for: {arn('doesnotexist')}",
    )
    no_alias = await failure(
        policies.remove_permission(
            context, {"FunctionName": "fn", "StatementId": "s3", "Qualifier": "alias-x"}
        )
    )
    assert described(no_alias)[2] == f"Cannot find alias arn: {arn('fn', 'alias-x')}"

    await policies.add_permission(context, permission())
    no_statement = await failure(
        policies.remove_permission(context, {"FunctionName": "fn", "StatementId": "non-existent"})
    )
    assert described(no_statement) == (
        404,
        "ResourceNotFoundException",
        "Statement non-existent is not found in resource policy.",
    )
    stale = await failure(
        policies.remove_permission(
            context, {"FunctionName": "fn", "StatementId": "s3", "RevisionId": "wrong"}
        )
    )
    assert described(stale) == (
        412,
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
    current = make_function.record().latest.revision_id
    await policies.remove_permission(
        context, {"FunctionName": "fn", "StatementId": "s3", "RevisionId": current}
    )


async def test_get_errors(policies: Policies, context: RequestContext, fn: str) -> None:
    for params in (
        {"FunctionName": "doesnotexist"},
        {"FunctionName": "fn", "Qualifier": "42"},
        {"FunctionName": "fn", "Qualifier": "nope"},
        {"FunctionName": "fn"},
    ):
        assert described(await failure(policies.get_policy(context, params))) == NO_RESOURCE


async def test_policy_size_is_limited(policies: Policies, context: RequestContext, fn: str) -> None:
    source = "arn:aws:s3:::" + "b" * 200
    added = 0
    while True:
        call = policies.add_permission(context, permission(f"s{added}", SourceArn=source))
        try:
            await call
        except PolicyLengthExceededException as exceeded:
            error = exceeded
            break
        added += 1
        assert added < 100, "the policy grew past its limit"
    status, code, message = described(error)
    assert (status, code) == (400, "PolicyLengthExceededException")
    assert re.fullmatch(
        r"The final policy size \(\d+\) is bigger than the limit \(20480\)\.", message
    )
    policy = await policies.get_policy(context, {"FunctionName": "fn"})
    assert len(json.loads(policy["Policy"])["Statement"]) == added
    assert 20480 - 500 < len(policy["Policy"]) <= 20480
