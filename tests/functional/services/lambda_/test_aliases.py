"""Aliases over a real database: the operations, their errors, and what they leave behind."""

from __future__ import annotations

from typing import Any

import pytest

from portico.aws.handler import RequestContext
from portico.services.lambda_.aliases import Aliases
from portico.services.lambda_.attachments import ALIASES, delete_attachments
from portico.store import Database
from tests.functional.services.lambda_.conftest import (
    SCOPE,
    FunctionMaker,
    arn,
    described,
    failure,
)

pytestmark = pytest.mark.asyncio

WEIGHTS_VALUES = (
    "failed to satisfy constraint: Map value must satisfy constraint: [Member must have value "
    "less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member "
    "must not be null]"
)


class ChangeLog:
    def __init__(self) -> None:
        self.changed: list[str] = []

    async def __call__(self, context: RequestContext, function_name: str) -> None:
        self.changed.append(function_name)


@pytest.fixture
def changes() -> ChangeLog:
    return ChangeLog()


@pytest.fixture
def aliases(database: Database, changes: ChangeLog) -> Aliases:
    return Aliases(database, on_change=changes)


@pytest.fixture
def fn(make_function: FunctionMaker) -> str:
    make_function("fn", versions=2)
    return "fn"


async def create(
    aliases: Aliases, context: RequestContext, name: str = "live", version: str = "1", **extra: Any
) -> dict[str, Any]:
    params = {"FunctionName": "fn", "Name": name, "FunctionVersion": version, **extra}
    return await aliases.create_alias(context, params)


async def test_lifecycle(aliases: Aliases, context: RequestContext, fn: str) -> None:
    created = await create(
        aliases,
        context,
        Description="blue",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}},
    )
    assert created == {
        "AliasArn": arn("fn", "live"),
        "Name": "live",
        "FunctionVersion": "1",
        "Description": "blue",
        "RevisionId": created["RevisionId"],
        "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.2}},
    }
    by_arn = await aliases.get_alias(context, {"FunctionName": arn("fn"), "Name": "live"})
    assert by_arn == created

    updated = await aliases.update_alias(
        context,
        {"FunctionName": "fn", "Name": "live", "RoutingConfig": {"AdditionalVersionWeights": {}}},
    )
    assert "RoutingConfig" not in updated
    assert updated["Description"] == "blue" and updated["FunctionVersion"] == "1"
    assert updated["RevisionId"] != created["RevisionId"]

    unchanged = await aliases.update_alias(context, {"FunctionName": "fn", "Name": "live"})
    assert unchanged["RevisionId"] != updated["RevisionId"]  # a new revision all the same

    moved = await aliases.update_alias(
        context,
        {"FunctionName": "fn", "Name": "live", "FunctionVersion": "2", "Description": ""},
    )
    assert (moved["FunctionVersion"], moved["Description"]) == ("2", "")

    assert await aliases.delete_alias(context, {"FunctionName": "fn", "Name": "live"}) == {}
    error = await failure(aliases.get_alias(context, {"FunctionName": "fn", "Name": "live"}))
    assert described(error) == (
        404,
        "ResourceNotFoundException",
        f"Cannot find alias arn: {arn('fn', 'live')}",
    )


async def test_aliases_may_point_at_latest_and_empty_routing_is_none(
    aliases: Aliases, context: RequestContext, fn: str
) -> None:
    latest = await create(aliases, context, "edge", "$LATEST")
    assert latest["FunctionVersion"] == "$LATEST" and latest["Description"] == ""
    empty = await create(aliases, context, "plain", RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in empty
    dated = await create(aliases, context, "2024-01-02")
    assert dated["AliasArn"] == arn("fn", "2024-01-02")


async def test_update_and_delete_tell_the_listener(
    aliases: Aliases, context: RequestContext, fn: str, changes: ChangeLog
) -> None:
    await create(aliases, context)
    assert changes.changed == []
    await aliases.update_alias(context, {"FunctionName": "fn", "Name": "live"})
    await aliases.delete_alias(context, {"FunctionName": "fn", "Name": "live"})
    assert changes.changed == ["fn", "fn"]


@pytest.mark.parametrize(
    ("extra", "expected"),
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
                f"'routingConfig.additionalVersionWeights' {WEIGHTS_VALUES}",
            ),
        ),
        (
            {"RoutingConfig": {"AdditionalVersionWeights": {"2": -1}}},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value '{2=-1.0}' at "
                f"'routingConfig.additionalVersionWeights' {WEIGHTS_VALUES}",
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
            {"FunctionVersion": "10", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5}}},
            (404, "ResourceNotFoundException", f"Function not found: {arn('fn', '10')}"),
        ),
        (
            {"RoutingConfig": {"AdditionalVersionWeights": {"10": 0.5}}},
            (404, "ResourceNotFoundException", f"Function not found: {arn('fn', '10')}"),
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
            {"FunctionName": "unknown"},
            (404, "ResourceNotFoundException", f"Function not found: {arn('unknown', '1')}"),
        ),
        (
            {"Description": "x" * 257},
            (
                400,
                "ValidationException",
                f"1 validation error detected: Value '{'x' * 257}' at 'description' failed to "
                "satisfy constraint: Member must have length less than or equal to 256",
            ),
        ),
    ],
    ids=[
        "too-many",
        "too-high",
        "below-zero",
        "same-version",
        "target-missing",
        "routed-missing",
        "latest-primary",
        "latest-routed",
        "numeric-name",
        "no-function",
        "long-description",
    ],
)
async def test_create_errors(
    aliases: Aliases,
    context: RequestContext,
    fn: str,
    extra: dict[str, Any],
    expected: tuple[int, str, str],
) -> None:
    params = {"FunctionName": "fn", "Name": "custom", "FunctionVersion": "1", **extra}
    assert described(await failure(aliases.create_alias(context, params))) == expected


async def test_create_conflict(aliases: Aliases, context: RequestContext, fn: str) -> None:
    await create(aliases, context)
    error = await failure(create(aliases, context))
    assert described(error) == (
        409,
        "ResourceConflictException",
        f"Alias already exists: {arn('fn', 'live')}",
    )


async def test_update_errors(aliases: Aliases, context: RequestContext, fn: str) -> None:
    created = await create(aliases, context, RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    missing = await failure(aliases.update_alias(context, {"FunctionName": "fn", "Name": "nope"}))
    assert described(missing) == (
        404,
        "ResourceNotFoundException",
        f"Alias not found: {arn('fn', 'nope')}",
    )
    stale = await failure(
        aliases.update_alias(context, {"FunctionName": "fn", "Name": "live", "RevisionId": "x"})
    )
    assert described(stale) == (
        412,
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
    onto_routed = await failure(
        aliases.update_alias(
            context, {"FunctionName": "fn", "Name": "live", "FunctionVersion": "2"}
        )
    )
    assert described(onto_routed)[2] == (
        "Invalid function version 2. Function version 2 is already included in routing "
        "configuration."
    )
    gone = await failure(
        aliases.update_alias(
            context, {"FunctionName": "fn", "Name": "live", "FunctionVersion": "9"}
        )
    )
    assert described(gone)[2] == f"Function not found: {arn('fn', '9')}"
    fresh = await aliases.update_alias(
        context, {"FunctionName": "fn", "Name": "live", "RevisionId": created["RevisionId"]}
    )
    assert fresh["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}


async def test_delete_is_idempotent_but_needs_the_function(
    aliases: Aliases, context: RequestContext, fn: str
) -> None:
    assert await aliases.delete_alias(context, {"FunctionName": "fn", "Name": "never"}) == {}
    error = await failure(aliases.delete_alias(context, {"FunctionName": "nope", "Name": "a"}))
    assert described(error) == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {arn('nope')}",
    )


async def test_list_filters_and_pages(
    aliases: Aliases, context: RequestContext, fn: str, make_function: FunctionMaker
) -> None:
    for name, version in [("a", "1"), ("b", "2"), ("c", "1"), ("d", "1"), ("e", "$LATEST")]:
        await create(aliases, context, name, version)
    make_function("other", versions=1)
    await aliases.create_alias(
        context, {"FunctionName": "other", "Name": "a", "FunctionVersion": "1"}
    )

    names: list[str] = []
    marker = None
    while True:
        params = {"FunctionName": "fn", "MaxItems": 2, **({"Marker": marker} if marker else {})}
        result = await aliases.list_aliases(context, params)
        assert len(result["Aliases"]) <= 2
        names += [alias["Name"] for alias in result["Aliases"]]
        marker = result.get("NextMarker")
        if marker is None:
            break
    assert names == ["a", "b", "c", "d", "e"]

    ones = await aliases.list_aliases(context, {"FunctionName": "fn", "FunctionVersion": "1"})
    assert [alias["Name"] for alias in ones["Aliases"]] == ["a", "c", "d"]
    assert "NextMarker" not in ones

    too_many = await failure(
        aliases.list_aliases(context, {"FunctionName": "fn", "MaxItems": 10_001})
    )
    assert described(too_many)[1] == "ValidationException"
    bad_marker = await failure(
        aliases.list_aliases(context, {"FunctionName": "fn", "Marker": "%%%"})
    )
    assert described(bad_marker) == (400, "InvalidParameterValueException", "Invalid marker: %%%")
    no_function = await failure(aliases.list_aliases(context, {"FunctionName": "nope"}))
    assert described(no_function)[2] == f"Function not found: {arn('nope')}"


async def test_find_and_deleting_the_function_takes_its_aliases(
    aliases: Aliases, context: RequestContext, fn: str, database: Database
) -> None:
    await create(aliases, context, RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    found = await aliases.find(context, "fn", "live")
    assert found is not None and found.routing == {"2": 0.1}
    assert await aliases.find(context, "fn", "other") is None

    with database.transaction() as tx:
        delete_attachments(tx.records, SCOPE, "fn")
    with database.snapshot() as tx:
        assert ALIASES.list(tx.records, SCOPE) == []


async def test_route_draws_for_each_invocation(
    database: Database, context: RequestContext, fn: str
) -> None:
    draws = iter([0.05, 0.5, 0.0999, 0.1])
    routed = Aliases(database, draw=lambda: next(draws))
    await create(routed, context, RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    alias = await routed.find(context, "fn", "live")
    assert alias is not None
    assert [routed.route(alias) for _ in range(4)] == ["2", "1", "2", "1"]
