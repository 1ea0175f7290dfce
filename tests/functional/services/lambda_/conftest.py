"""Lambda's configuration operations against a real SQLite database, no server: functions are
made through the repository, operations are called with a RequestContext as the handler would."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import pytest

from portico.aws.handler import RequestContext
from portico.errors import AwsError
from portico.services.lambda_.models import Code, FunctionRecord, FunctionVersion
from portico.services.lambda_.repository import Functions, scope_of
from portico.store import Database, ManualClock
from portico.store.sqlite import open_database

REGION = "eu-west-1"
ACCOUNT = "000000000000"
SCOPE = scope_of(ACCOUNT, REGION)
ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def arn(name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000.0)


@pytest.fixture
def database(tmp_path: Path, clock: ManualClock) -> Iterator[Database]:
    opened = open_database(tmp_path / "data", clock=clock)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def context() -> RequestContext:
    return RequestContext(
        request_id="request-1",
        service="lambda",
        operation="Test",
        region=REGION,
        account_id=ACCOUNT,
        caller=None,
    )


class FunctionMaker:
    """Functions as CreateFunction and PublishVersion leave them, through the repository."""

    def __init__(self, database: Database) -> None:
        self.functions = Functions(database)

    def __call__(self, name: str = "fn", versions: int = 0, code_size: int = 100) -> None:
        latest = FunctionVersion(
            name=name,
            runtime="python3.12",
            handler="app.handler",
            role=ROLE,
            code=Code(digest="0" * 64, sha256="c2hhMjU2", size=code_size),
        )
        self.functions.create(SCOPE, FunctionRecord(latest=latest), publish=False)
        for number in range(1, versions + 1):
            self.publish(name, f"v{number}")

    def publish(self, name: str, marker: str) -> str:
        """A new version whose configuration differs from the last one's."""

        def change(record: FunctionRecord) -> FunctionRecord:
            latest = record.latest.changed(environment={"MARK": marker})
            return dataclasses.replace(record, latest=latest)

        self.functions.update(SCOPE, name, change)
        version = self.functions.publish(SCOPE, name, None, lambda _record: None)
        assert version is not None
        return version.version

    def record(self, name: str = "fn") -> FunctionRecord:
        found = self.functions.get(SCOPE, name)
        assert found is not None
        return found

    def version(self, name: str, number: int) -> FunctionVersion:
        found = self.functions.version(SCOPE, name, number)
        assert found is not None
        return found


@pytest.fixture
def make_function(database: Database) -> FunctionMaker:
    return FunctionMaker(database)


async def failure(call: Awaitable[Any]) -> AwsError:
    """The AWS error an operation raised (the test fails if it succeeded)."""
    with pytest.raises(AwsError) as raised:
        await call
    return raised.value


def described(error: AwsError) -> tuple[int, str, str]:
    return error.status_code, error.code, error.message
