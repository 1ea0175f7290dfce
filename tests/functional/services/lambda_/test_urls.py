"""Function URL configurations over a real database: operations, errors, routing lookups."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from portico.aws.handler import RequestContext
from portico.services.lambda_.aliases import Aliases
from portico.services.lambda_.urls import (
    INDEX_SCOPE,
    URL_IDS,
    URLS,
    FunctionUrls,
    UrlTarget,
    delete_function_urls,
)
from portico.store import Database, ManualClock
from tests.functional.services.lambda_.conftest import (
    SCOPE,
    FunctionMaker,
    arn,
    described,
    failure,
)

pytestmark = pytest.mark.asyncio

NO_RESOURCE = "The resource you requested does not exist."


@pytest.fixture
def urls(database: Database, clock: ManualClock) -> FunctionUrls:
    ids = (f"{n:032x}" for n in itertools.count(1))
    return FunctionUrls(
        database, lambda: "http://127.0.0.1:4566", clock.now, new_id=lambda: next(ids)
    )


@pytest.fixture
def fn(make_function: FunctionMaker) -> str:
    make_function("fn", versions=1)
    return "fn"


async def create(urls: FunctionUrls, context: RequestContext, **params: Any) -> dict[str, Any]:
    return await urls.create_url_config(
        context, {"FunctionName": "fn", "AuthType": "NONE", **params}
    )


async def test_create_get_update(
    urls: FunctionUrls, context: RequestContext, fn: str, clock: ManualClock
) -> None:
    cors = {"AllowOrigins": ["*"], "AllowMethods": ["GET"], "MaxAge": 60}
    created = await create(urls, context, Cors=cors)
    url_id = f"{1:032x}"
    assert created == {
        "FunctionUrl": f"http://{url_id}.lambda-url.eu-west-1.localhost:4566/",
        "FunctionArn": arn("fn"),
        "AuthType": "NONE",
        "Cors": cors,
        "CreationTime": "2023-11-14T22:13:20.000000Z",
        "InvokeMode": "BUFFERED",
    }
    fetched = await urls.get_url_config(context, {"FunctionName": arn("fn")})
    assert fetched == {**created, "LastModifiedTime": created["CreationTime"]}
    clock.advance(1.5)
    updated = await urls.update_url_config(context, {"FunctionName": "fn", "AuthType": "AWS_IAM"})
    assert updated["AuthType"] == "AWS_IAM" and updated["Cors"] == cors
    assert updated["CreationTime"] == created["CreationTime"]
    assert updated["LastModifiedTime"] == "2023-11-14T22:13:21.500000Z"
    assert await urls.resolve(url_id.upper()) == UrlTarget(
        url_id, "000000000000", "eu-west-1", "fn", "$LATEST", "AWS_IAM", cors
    )


async def test_one_url_per_qualifier(
    urls: FunctionUrls, context: RequestContext, fn: str, database: Database
) -> None:
    await create(urls, context)
    error = await failure(create(urls, context))
    assert described(error) == (
        409,
        "ResourceConflictException",
        f"Failed to create function url config for [functionArn = {arn('fn')}]. Error message:  "
        "FunctionUrlConfig exists for this Lambda function",
    )
    await Aliases(database).create_alias(
        context, {"FunctionName": "fn", "Name": "live", "FunctionVersion": "1"}
    )
    aliased = await create(urls, context, Qualifier="live")
    assert aliased["FunctionArn"] == arn("fn", "live")
    listed = await urls.list_url_configs(context, {"FunctionName": "fn"})
    assert [c["FunctionArn"] for c in listed["FunctionUrlConfigs"]] == [
        arn("fn"),
        arn("fn", "live"),
    ]
    page = await urls.list_url_configs(context, {"FunctionName": "fn", "MaxItems": 1})
    assert len(page["FunctionUrlConfigs"]) == 1 and page["NextMarker"]
    rest = await urls.list_url_configs(
        context, {"FunctionName": "fn", "Marker": page["NextMarker"]}
    )
    assert [c["FunctionArn"] for c in rest["FunctionUrlConfigs"]] == [arn("fn", "live")]


async def test_qualifier_rules(urls: FunctionUrls, context: RequestContext, fn: str) -> None:
    version = await failure(create(urls, context, Qualifier="1"))
    assert described(version)[:2] == (400, "ValidationException")
    assert "Value '1' at 'qualifier'" in version.message
    latest = await failure(create(urls, context, Qualifier="$LATEST"))
    assert described(latest)[:2] == (400, "ValidationException")
    missing_alias = await failure(create(urls, context, Qualifier="nope"))
    assert described(missing_alias) == (404, "ResourceNotFoundException", "Function does not exist")
    mismatch = await failure(create(urls, context, FunctionName="fn:a", Qualifier="b"))
    assert described(mismatch)[1] == "InvalidParameterValueException"


async def test_missing_things(urls: FunctionUrls, context: RequestContext, fn: str) -> None:
    ghost = {"FunctionName": "ghost"}
    assert described(await failure(create(urls, context, **ghost)))[2] == "Function does not exist"
    for call in (urls.get_url_config, urls.delete_url_config):
        assert described(await failure(call(context, ghost))) == (
            404, "ResourceNotFoundException", NO_RESOURCE,
        )  # fmt: skip
        assert described(await failure(call(context, {"FunctionName": "fn"})))[2] == NO_RESOURCE
    update = await failure(urls.update_url_config(context, {"FunctionName": "fn"}))
    assert described(update)[2] == NO_RESOURCE
    listing = await failure(urls.list_url_configs(context, ghost))
    assert described(listing)[2] == "Function does not exist"
    assert await urls.list_url_configs(context, {"FunctionName": "fn"}) == {
        "FunctionUrlConfigs": []
    }
    bad_auth = await failure(create(urls, context, AuthType="OPEN"))
    assert described(bad_auth)[:2] == (400, "ValidationException")


async def test_delete_forgets_the_route(
    urls: FunctionUrls, context: RequestContext, fn: str
) -> None:
    created = await create(urls, context)
    url_id = created["FunctionUrl"].split("//")[1].split(".")[0]
    assert await urls.resolve(url_id) is not None
    assert await urls.delete_url_config(context, {"FunctionName": "fn"}) == {}
    assert await urls.resolve(url_id) is None
    assert await urls.resolve("f" * 32) is None
    await create(urls, context)  # the slot is free again


async def test_urls_of_a_deleted_function_or_alias_do_not_route(
    urls: FunctionUrls, context: RequestContext, fn: str, database: Database
) -> None:
    aliases = Aliases(database)
    await aliases.create_alias(
        context, {"FunctionName": "fn", "Name": "live", "FunctionVersion": "1"}
    )
    live = await create(urls, context, Qualifier="live")
    live_id = live["FunctionUrl"].split("//")[1].split(".")[0]
    await aliases.delete_alias(context, {"FunctionName": "fn", "Name": "live"})
    assert await urls.resolve(live_id) is None
    latest = await create(urls, context)
    latest_id = latest["FunctionUrl"].split("//")[1].split(".")[0]
    with database.transaction() as tx:
        delete_function_urls(tx.records, SCOPE, "fn")
    with database.snapshot() as tx:
        assert URLS.list(tx.records, SCOPE) == []
        assert URL_IDS.get(tx.records, "lambda-url", latest_id) is None


async def test_resolved_urls_are_kept_until_a_write(
    urls: FunctionUrls, context: RequestContext, fn: str, database: Database
) -> None:
    await create(urls, context)
    url_id = f"{1:032x}"
    first = await urls.resolve(url_id)
    assert first is not None and first.auth_type == "NONE"
    # Served from memory: a change made behind the service's back is not seen...
    with database.transaction() as tx:
        tx.records.delete_scope(INDEX_SCOPE)
    assert await urls.resolve(url_id) == first
    # ...until the service writes (any write of the Lambda API clears the cache).
    urls.clear_cache()
    assert await urls.resolve(url_id) is None


async def test_an_update_is_seen_at_once(
    urls: FunctionUrls, context: RequestContext, fn: str
) -> None:
    await create(urls, context)
    url_id = f"{1:032x}"
    assert (await urls.resolve(url_id) or pytest.fail("no url")).auth_type == "NONE"
    await urls.update_url_config(context, {"FunctionName": "fn", "AuthType": "AWS_IAM"})
    assert (await urls.resolve(url_id) or pytest.fail("no url")).auth_type == "AWS_IAM"
