"""Reserved and provisioned concurrency and the account's settings over a real database, with a
recording stand-in for the runtime."""

from __future__ import annotations

from typing import Any

import pytest

from portico.aws.handler import RequestContext
from portico.services.lambda_.aliases import Aliases
from portico.services.lambda_.attachments import (
    PROVISIONED,
    PROVISIONED_FUNCTIONS,
    PROVISIONED_INDEX_SCOPE,
)
from portico.services.lambda_.concurrency import Concurrency
from portico.services.lambda_.models import FunctionRecord, FunctionVersion
from portico.services.lambda_.references import version_key
from portico.services.lambda_.repository import VERSIONS
from portico.store import Database, ManualClock
from tests.functional.services.lambda_.conftest import (
    SCOPE,
    FunctionMaker,
    arn,
    described,
    failure,
)

pytestmark = pytest.mark.asyncio

BELOW_MINIMUM = (
    "Specified ReservedConcurrentExecutions for function decreases account's "
    "UnreservedConcurrentExecution below its minimum value of [100]."
)


class RecordingRuntime:
    """Answers as the runtime would: every requested environment comes up, unless told to
    fail a version (then none does) or to raise."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []
        self.failing: set[str] = set()
        self.raising = False

    async def __call__(
        self, context: RequestContext, version: FunctionVersion, record: FunctionRecord, count: int
    ) -> int:
        self.calls.append((version.name, version.version, count))
        if self.raising:
            raise OSError("no room for environments")
        return 0 if version.version in self.failing else count


@pytest.fixture
def runtime() -> RecordingRuntime:
    return RecordingRuntime()


@pytest.fixture
def concurrency(database: Database, clock: ManualClock, runtime: RecordingRuntime) -> Concurrency:
    return Concurrency(database, clock, runtime, account_concurrency=1000)


@pytest.fixture
def aliases(database: Database, concurrency: Concurrency) -> Aliases:
    return Aliases(database, on_change=concurrency.function_changed)


@pytest.fixture
def fn(make_function: FunctionMaker) -> str:
    make_function("fn", versions=2)
    return "fn"


def provision(qualifier: str, count: int, name: str = "fn") -> dict[str, Any]:
    return {"FunctionName": name, "Qualifier": qualifier, "ProvisionedConcurrentExecutions": count}


# -- reserved -----------------------------------------------------------------------------


async def test_reserved_lifecycle(
    concurrency: Concurrency, context: RequestContext, fn: str, make_function: FunctionMaker
) -> None:
    assert await concurrency.get_function_concurrency(context, {"FunctionName": "fn"}) == {}
    put = await concurrency.put_function_concurrency(
        context, {"FunctionName": arn("fn"), "ReservedConcurrentExecutions": 0}
    )
    assert put == {"ReservedConcurrentExecutions": 0}
    await concurrency.put_function_concurrency(
        context, {"FunctionName": "fn", "ReservedConcurrentExecutions": 7}
    )
    assert make_function.record("fn").reserved_concurrency == 7
    got = await concurrency.get_function_concurrency(context, {"FunctionName": "fn"})
    assert got == {"ReservedConcurrentExecutions": 7}
    assert await concurrency.delete_function_concurrency(context, {"FunctionName": "fn"}) == {}
    assert make_function.record("fn").reserved_concurrency is None


async def test_reserved_errors(concurrency: Concurrency, context: RequestContext, fn: str) -> None:
    missing = await failure(
        concurrency.put_function_concurrency(
            context, {"FunctionName": "nope", "ReservedConcurrentExecutions": 1}
        )
    )
    assert described(missing) == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {arn('nope', '$LATEST')}",
    )
    qualified = await failure(
        concurrency.put_function_concurrency(
            context, {"FunctionName": arn("fn", "$LATEST"), "ReservedConcurrentExecutions": 0}
        )
    )
    assert described(qualified) == (
        400,
        "InvalidParameterValueException",
        "This operation is permitted on Lambda functions only. Aliases and versions do not "
        "support this operation. Please specify either a function name or an unqualified "
        "function ARN.",
    )
    negative = await failure(
        concurrency.put_function_concurrency(
            context, {"FunctionName": "fn", "ReservedConcurrentExecutions": -1}
        )
    )
    assert described(negative) == (
        400,
        "ValidationException",
        "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to "
        "satisfy constraint: Member must have value greater than or equal to 0",
    )
    for call in (concurrency.get_function_concurrency, concurrency.delete_function_concurrency):
        error = await failure(call(context, {"FunctionName": "nope"}))
        assert described(error)[2] == f"Function not found: {arn('nope')}"


async def test_reserved_leaves_one_hundred_unreserved(
    concurrency: Concurrency, context: RequestContext, fn: str, make_function: FunctionMaker
) -> None:
    make_function("other")
    for too_many in (1001, 1000, 901):
        error = await failure(
            concurrency.put_function_concurrency(
                context, {"FunctionName": "fn", "ReservedConcurrentExecutions": too_many}
            )
        )
        assert described(error) == (400, "InvalidParameterValueException", BELOW_MINIMUM)
    await concurrency.put_function_concurrency(
        context, {"FunctionName": "fn", "ReservedConcurrentExecutions": 900}
    )
    # replacing a function's own reservation does not count it twice
    await concurrency.put_function_concurrency(
        context, {"FunctionName": "fn", "ReservedConcurrentExecutions": 850}
    )
    error = await failure(
        concurrency.put_function_concurrency(
            context, {"FunctionName": "other", "ReservedConcurrentExecutions": 51}
        )
    )
    assert described(error)[2] == BELOW_MINIMUM
    await concurrency.put_function_concurrency(
        context, {"FunctionName": "other", "ReservedConcurrentExecutions": 50}
    )
    settings = await concurrency.get_account_settings(context, {})
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 100


async def test_account_settings(
    concurrency: Concurrency, context: RequestContext, make_function: FunctionMaker
) -> None:
    empty = await concurrency.get_account_settings(context, {})
    assert empty == {
        "AccountLimit": {
            "TotalCodeSize": 80530636800,
            "CodeSizeUnzipped": 262144000,
            "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": 1000,
            "UnreservedConcurrentExecutions": 1000,
        },
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
    }
    make_function("a", versions=2, code_size=100)  # $LATEST + 2 versions
    make_function("b", code_size=40)
    await concurrency.put_function_concurrency(
        context, {"FunctionName": "b", "ReservedConcurrentExecutions": 25}
    )
    await concurrency.put_provisioned_concurrency_config(context, provision("1", 5, name="a"))
    settings = await concurrency.get_account_settings(context, {})
    assert settings["AccountUsage"] == {"TotalCodeSize": 340, "FunctionCount": 2}
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000 - 25 - 5


# -- provisioned ----------------------------------------------------------------------------


async def test_provisioned_on_a_version_becomes_ready(
    concurrency: Concurrency, context: RequestContext, fn: str, runtime: RecordingRuntime
) -> None:
    put = await concurrency.put_provisioned_concurrency_config(context, provision("1", 2))
    assert put == {
        "RequestedProvisionedConcurrentExecutions": 2,
        "AvailableProvisionedConcurrentExecutions": 0,
        "AllocatedProvisionedConcurrentExecutions": 0,
        "Status": "IN_PROGRESS",
        "LastModified": "2023-11-14T22:13:20+0000",
    }
    await concurrency.settle()
    assert runtime.calls == [("fn", "1", 2)]
    got = await concurrency.get_provisioned_concurrency_config(
        context, {"FunctionName": "fn", "Qualifier": "1"}
    )
    assert got == {**put, "Status": "READY"} | {
        "AvailableProvisionedConcurrentExecutions": 2,
        "AllocatedProvisionedConcurrentExecutions": 2,
    }

    await concurrency.delete_provisioned_concurrency_config(
        context, {"FunctionName": "fn", "Qualifier": "1"}
    )
    await concurrency.settle()
    assert runtime.calls[-1] == ("fn", "1", 0)
    gone = await failure(
        concurrency.get_provisioned_concurrency_config(
            context, {"FunctionName": "fn", "Qualifier": "1"}
        )
    )
    assert described(gone) == (
        404,
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
    )


async def test_provisioned_fails_when_environments_do_not_come_up(
    concurrency: Concurrency, context: RequestContext, fn: str, runtime: RecordingRuntime
) -> None:
    runtime.failing.add("1")
    await concurrency.put_provisioned_concurrency_config(context, provision("1", 3))
    await concurrency.settle()
    got = await concurrency.get_provisioned_concurrency_config(
        context, {"FunctionName": "fn", "Qualifier": "1"}
    )
    assert got["Status"] == "FAILED"
    assert got["StatusReason"] == "FUNCTION_ERROR_INIT_FAILURE"
    assert got["AvailableProvisionedConcurrentExecutions"] == 0

    runtime.raising = True
    await concurrency.put_provisioned_concurrency_config(context, provision("2", 1))
    await concurrency.settle()
    listed = await concurrency.list_provisioned_concurrency_configs(context, {"FunctionName": "fn"})
    assert [item["Status"] for item in listed["ProvisionedConcurrencyConfigs"]] == [
        "FAILED",
        "FAILED",
    ]


async def test_provisioned_on_an_alias_follows_the_alias(
    concurrency: Concurrency,
    aliases: Aliases,
    context: RequestContext,
    fn: str,
    runtime: RecordingRuntime,
) -> None:
    await aliases.create_alias(
        context, {"FunctionName": "fn", "Name": "live", "FunctionVersion": "1"}
    )
    await concurrency.put_provisioned_concurrency_config(context, provision("live", 2))
    await concurrency.settle()
    assert runtime.calls == [("fn", "1", 2)]

    await aliases.update_alias(
        context, {"FunctionName": "fn", "Name": "live", "FunctionVersion": "2"}
    )
    await concurrency.settle()
    assert runtime.calls[1:] == [("fn", "1", 0), ("fn", "2", 2)]

    await aliases.delete_alias(context, {"FunctionName": "fn", "Name": "live"})
    await concurrency.settle()
    assert runtime.calls[-1] == ("fn", "2", 0)
    listed = await concurrency.list_provisioned_concurrency_configs(context, {"FunctionName": "fn"})
    assert listed == {"ProvisionedConcurrencyConfigs": []}
    gone = await failure(
        concurrency.get_provisioned_concurrency_config(
            context, {"FunctionName": "fn", "Qualifier": "live"}
        )
    )
    assert described(gone)[2] == f"Cannot find alias arn: {arn('fn', 'live')}"


async def test_provisioned_conflicts_between_an_alias_and_its_version(
    concurrency: Concurrency, aliases: Aliases, context: RequestContext, fn: str
) -> None:
    await aliases.create_alias(
        context, {"FunctionName": "fn", "Name": "live", "FunctionVersion": "1"}
    )
    await aliases.create_alias(
        context, {"FunctionName": "fn", "Name": "edge", "FunctionVersion": "$LATEST"}
    )
    await concurrency.put_provisioned_concurrency_config(context, provision("1", 1))
    on_alias = await failure(
        concurrency.put_provisioned_concurrency_config(context, provision("live", 1))
    )
    assert described(on_alias) == (
        409,
        "ResourceConflictException",
        "Alias can't be used for Provisioned Concurrency configuration on an already "
        "Provisioned version",
    )
    await concurrency.delete_provisioned_concurrency_config(
        context, {"FunctionName": "fn", "Qualifier": "1"}
    )
    await concurrency.put_provisioned_concurrency_config(context, provision("live", 1))
    on_version = await failure(
        concurrency.put_provisioned_concurrency_config(context, provision("1", 1))
    )
    assert described(on_version) == (
        409,
        "ResourceConflictException",
        "Version is pointed by a Provisioned Concurrency alias",
    )
    on_latest_alias = await failure(
        concurrency.put_provisioned_concurrency_config(context, provision("edge", 1))
    )
    assert described(on_latest_alias)[2] == (
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
    )
    await concurrency.settle()


@pytest.mark.parametrize(
    ("call", "params", "expected"),
    [
        (
            "put",
            provision("$LATEST", 1),
            (
                400,
                "InvalidParameterValueException",
                "Provisioned Concurrency Configs cannot be applied to unpublished function "
                "versions.",
            ),
        ),
        (
            "get",
            {"FunctionName": "fn", "Qualifier": "$LATEST"},
            (
                400,
                "InvalidParameterValueException",
                "The function resource provided must be an alias or a published version.",
            ),
        ),
        (
            "delete",
            {"FunctionName": "fn", "Qualifier": "$LATEST"},
            (
                400,
                "InvalidParameterValueException",
                "The function resource provided must be an alias or a published version.",
            ),
        ),
        (
            "put",
            provision("1", 0),
            (
                400,
                "ValidationException",
                "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' "
                "failed to satisfy constraint: Member must have value greater than or equal to 1",
            ),
        ),
        (
            "put",
            provision("noalias", 1, name="doesnotexist"),
            (
                404,
                "ResourceNotFoundException",
                f"Cannot find alias arn: {arn('doesnotexist', 'noalias')}",
            ),
        ),
        (
            "put",
            provision("1", 1, name="doesnotexist"),
            (404, "ResourceNotFoundException", f"Function not found: {arn('doesnotexist', '1')}"),
        ),
        (
            "get",
            {"FunctionName": "fn", "Qualifier": "noalias"},
            (404, "ResourceNotFoundException", f"Cannot find alias arn: {arn('fn', 'noalias')}"),
        ),
        (
            "get",
            {"FunctionName": "fn", "Qualifier": "10"},
            (404, "ResourceNotFoundException", f"Function not found: {arn('fn', '10')}"),
        ),
        (
            "delete",
            {"FunctionName": "doesnotexist", "Qualifier": "1"},
            (404, "ResourceNotFoundException", f"Function not found: {arn('doesnotexist', '1')}"),
        ),
        (
            "get",
            {"FunctionName": "fn", "Qualifier": "1"},
            (
                404,
                "ProvisionedConcurrencyConfigNotFoundException",
                "No Provisioned Concurrency Config found for this function",
            ),
        ),
        (
            "put",
            {"FunctionName": "fn:1", "Qualifier": "2", "ProvisionedConcurrentExecutions": 1},
            (
                400,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified "
                "qualifier.",
            ),
        ),
        (
            "put",
            provision("1", 1001),
            (
                400,
                "InvalidParameterValueException",
                "Specified ConcurrentExecutions for function is greater than account's "
                "unreserved concurrency [1000].",
            ),
        ),
        (
            "put",
            provision("1", 1000),
            (
                400,
                "InvalidParameterValueException",
                "Specified ConcurrentExecutions for function decreases account's "
                "UnreservedConcurrentExecution below its minimum value of [100].",
            ),
        ),
    ],
)
async def test_provisioned_errors(
    concurrency: Concurrency,
    context: RequestContext,
    fn: str,
    call: str,
    params: dict[str, Any],
    expected: tuple[int, str, str],
) -> None:
    operation = {
        "put": concurrency.put_provisioned_concurrency_config,
        "get": concurrency.get_provisioned_concurrency_config,
        "delete": concurrency.delete_provisioned_concurrency_config,
    }[call]
    assert described(await failure(operation(context, params))) == expected


async def test_delete_of_a_missing_config_succeeds(
    concurrency: Concurrency, context: RequestContext, fn: str
) -> None:
    params = {"FunctionName": "fn", "Qualifier": "1"}
    assert await concurrency.delete_provisioned_concurrency_config(context, params) == {}
    await concurrency.settle()


async def test_provisioned_and_reserved_bound_each_other(
    concurrency: Concurrency, context: RequestContext, fn: str
) -> None:
    await concurrency.put_function_concurrency(
        context, {"FunctionName": "fn", "ReservedConcurrentExecutions": 3}
    )
    await concurrency.put_provisioned_concurrency_config(context, provision("1", 2))
    over = await failure(concurrency.put_provisioned_concurrency_config(context, provision("2", 2)))
    assert described(over)[2] == (
        "Requested Provisioned Concurrency should not be greater than the "
        "reservedConcurrentExecution for function"
    )
    lower = await failure(
        concurrency.put_function_concurrency(
            context, {"FunctionName": "fn", "ReservedConcurrentExecutions": 1}
        )
    )
    assert described(lower) == (
        400,
        "InvalidParameterValueException",
        " ReservedConcurrentExecutions  1 should not be lower than function's total "
        "provisioned concurrency [2].",
    )
    await concurrency.settle()


async def test_list_pages_and_names_each_config(
    concurrency: Concurrency,
    aliases: Aliases,
    context: RequestContext,
    make_function: FunctionMaker,
) -> None:
    make_function("fn", versions=3)
    await aliases.create_alias(
        context, {"FunctionName": "fn", "Name": "live", "FunctionVersion": "3"}
    )
    for qualifier in ("1", "2", "live"):
        await concurrency.put_provisioned_concurrency_config(context, provision(qualifier, 1))
    await concurrency.settle()
    arns: list[str] = []
    marker = None
    while True:
        params = {"FunctionName": "fn", "MaxItems": 2, **({"Marker": marker} if marker else {})}
        result = await concurrency.list_provisioned_concurrency_configs(context, params)
        arns += [item["FunctionArn"] for item in result["ProvisionedConcurrencyConfigs"]]
        assert all(item["Status"] == "READY" for item in result["ProvisionedConcurrencyConfigs"])
        marker = result.get("NextMarker")
        if marker is None:
            break
    assert arns == [arn("fn", "1"), arn("fn", "2"), arn("fn", "live")]
    no_function = await failure(
        concurrency.list_provisioned_concurrency_configs(context, {"FunctionName": "nope"})
    )
    assert described(no_function)[2] == f"Function not found: {arn('nope')}"
    too_many = await failure(
        concurrency.list_provisioned_concurrency_configs(
            context, {"FunctionName": "fn", "MaxItems": 51}
        )
    )
    assert described(too_many)[1] == "ValidationException"


async def test_function_changed_releases_what_a_deleted_function_held(
    concurrency: Concurrency,
    context: RequestContext,
    fn: str,
    runtime: RecordingRuntime,
    make_function: FunctionMaker,
) -> None:
    await concurrency.put_provisioned_concurrency_config(context, provision("2", 4))
    await concurrency.settle()
    make_function.functions.delete(SCOPE, "fn")
    await concurrency.function_changed(context, "fn")
    await concurrency.settle()
    assert runtime.calls == [("fn", "2", 4), ("fn", "2", 0)]


async def test_version_keys_match_the_repository(
    database: Database, make_function: FunctionMaker
) -> None:
    make_function("fn", versions=12)
    with database.snapshot() as tx:
        found = VERSIONS.get(tx.records, SCOPE, version_key("fn", "12"))
    assert found is not None and found.value == make_function.version("fn", 12)


async def test_restore_applies_every_stored_config_again(
    database: Database,
    clock: ManualClock,
    context: RequestContext,
    fn: str,
    make_function: FunctionMaker,
    runtime: RecordingRuntime,
) -> None:
    make_function("gone", versions=1)
    before = Concurrency(database, clock, runtime)
    await before.put_provisioned_concurrency_config(context, provision("1", 2))
    await before.put_provisioned_concurrency_config(context, provision("1", 1, name="gone"))
    await before.settle()
    make_function.functions.delete(SCOPE, "gone")

    # A new server over the same data: its runtime has no environments yet.
    restarted = RecordingRuntime()
    after = Concurrency(database, clock, restarted)
    await after.restore()
    assert stored(database, "fn", "1") == ("IN_PROGRESS", 0)  # before the runtime is asked
    await after.settle()
    assert restarted.calls == [("fn", "1", 2)]
    assert stored(database, "fn", "1") == ("READY", 2)

    # The deleted function's index entry was dropped: nothing left to restore for it.
    again = RecordingRuntime()
    third = Concurrency(database, clock, again)
    await third.restore()
    await third.settle()
    assert again.calls == [("fn", "1", 2)]
    with database.snapshot() as tx:
        indexed = [
            item.value.function_name
            for item in PROVISIONED_FUNCTIONS.list(tx.records, PROVISIONED_INDEX_SCOPE)
        ]
    assert indexed == ["fn"]


def stored(database: Database, name: str, qualifier: str) -> tuple[str, int]:
    """A config's status and available count, read straight from the store."""
    with database.snapshot() as tx:
        found = PROVISIONED.get(tx.records, SCOPE, f"{name}:{qualifier}")
    assert found is not None
    return found.value.status, found.value.available
