"""Tags on function ARNs over a real database."""

from __future__ import annotations

from typing import Any

import pytest

from portico.aws.handler import RequestContext
from portico.services.lambda_.tags import Tags
from portico.store import Database
from tests.functional.services.lambda_.conftest import FunctionMaker, arn, described, failure

pytestmark = pytest.mark.asyncio

PATTERN = (
    r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)"
    r"|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}"
    r"-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)"
)


@pytest.fixture
def tags(database: Database) -> Tags:
    return Tags(database)


async def test_lifecycle_changes_the_revision(
    tags: Tags, context: RequestContext, make_function: FunctionMaker
) -> None:
    make_function("fn")
    revisions = [make_function.record().latest.revision_id]
    assert await tags.list_tags(context, {"Resource": arn("fn")}) == {"Tags": {}}

    await tags.tag_resource(context, {"Resource": arn("fn"), "Tags": {"a": "1", "b": "2"}})
    revisions.append(make_function.record().latest.revision_id)
    await tags.tag_resource(context, {"Resource": arn("fn"), "Tags": {"b": "3", "c": "4"}})
    revisions.append(make_function.record().latest.revision_id)
    listed = await tags.list_tags(context, {"Resource": arn("fn")})
    assert listed == {"Tags": {"a": "1", "b": "3", "c": "4"}}

    await tags.untag_resource(context, {"Resource": arn("fn"), "TagKeys": ["a", "nope"]})
    revisions.append(make_function.record().latest.revision_id)
    assert make_function.record().tags == {"b": "3", "c": "4"}
    assert len(set(revisions)) == len(revisions)


async def test_at_most_fifty_tags(
    tags: Tags, context: RequestContext, make_function: FunctionMaker
) -> None:
    make_function("fn")
    fifty = {f"{index}_key": f"{index}_value" for index in range(50)}
    await tags.tag_resource(context, {"Resource": arn("fn"), "Tags": fifty})
    error = await failure(
        tags.tag_resource(context, {"Resource": arn("fn"), "Tags": {"one": "more"}})
    )
    assert described(error) == (
        400,
        "InvalidParameterValueException",
        "Number of tags exceeds resource tag limit.",
    )
    await tags.tag_resource(context, {"Resource": arn("fn"), "Tags": {"0_key": "overwritten"}})


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        (
            "tag",
            {"Resource": "arn:aws:something", "Tags": {"a": "b"}},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value 'arn:aws:something' at 'resource' failed to "
                f"satisfy constraint: Member must satisfy regular expression pattern: {PATTERN}",
            ),
        ),
        (
            "list",
            {"Resource": "arn:aws:lambda:eu-west-1:000000000000:foobar:fn"},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value 'arn:aws:lambda:eu-west-1:000000000000:"
                "foobar:fn' at 'resource' failed to satisfy constraint: Member must satisfy "
                f"regular expression pattern: {PATTERN}",
            ),
        ),
        (
            "tag",
            {"Resource": arn("doesnotexist"), "Tags": {"a": "b"}},
            (404, "ResourceNotFoundException", f"Function not found: {arn('doesnotexist')}"),
        ),
        (
            "untag",
            {"Resource": arn("doesnotexist"), "TagKeys": ["a"]},
            (404, "ResourceNotFoundException", f"Function not found: {arn('doesnotexist')}"),
        ),
        (
            "list",
            {"Resource": arn("doesnotexist")},
            (404, "ResourceNotFoundException", f"Function not found: {arn('doesnotexist')}"),
        ),
        (
            "tag",
            {"Resource": arn("fn", "$LATEST"), "Tags": {"a": "b"}},
            (
                400,
                "InvalidParameterValueException",
                "Tags on function aliases and versions are not supported. Please specify a "
                "function ARN.",
            ),
        ),
        (
            "list",
            {"Resource": arn("fn", "live")},
            (
                400,
                "InvalidParameterValueException",
                "Tags on function aliases and versions are not supported. Please specify a "
                "function ARN.",
            ),
        ),
        (
            "tag",
            {"Resource": arn("fn"), "Tags": {}},
            (
                400,
                "InvalidParameterValueException",
                "An error occurred and the request cannot be processed.",
            ),
        ),
        (
            "untag",
            {"Resource": arn("fn")},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                "constraint: Member must not be null",
            ),
        ),
        (
            "list",
            {
                "Resource": "arn:aws:lambda:eu-west-1:000000000000:event-source-mapping:"
                "a1b2c3d4-0000-1111-2222-333344445555"
            },
            (
                404,
                "ResourceNotFoundException",
                "Event source mapping not found: arn:aws:lambda:eu-west-1:000000000000:"
                "event-source-mapping:a1b2c3d4-0000-1111-2222-333344445555",
            ),
        ),
    ],
    ids=[
        "not-an-arn",
        "not-taggable",
        "tag-missing",
        "untag-missing",
        "list-missing",
        "tag-version",
        "list-alias",
        "no-tags",
        "no-keys",
        "event-source-mapping",
    ],
)
async def test_errors(
    tags: Tags,
    context: RequestContext,
    make_function: FunctionMaker,
    operation: str,
    params: dict[str, Any],
    expected: tuple[int, str, str],
) -> None:
    make_function("fn")
    call = {"tag": tags.tag_resource, "untag": tags.untag_resource, "list": tags.list_tags}
    assert described(await failure(call[operation](context, params))) == expected
