"""The HTTP API control plane in-process over a real SQLite database, no server: operations are
called with a RequestContext as the handler calls them, and what the provider hands the data
plane is recorded by a fake Publisher."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from portico.aws.handler import RequestContext
from portico.services.apigatewayv2.provider import ApiGatewayV2Provider
from portico.services.apigatewayv2.published import ApiMapping, DeployedApi
from portico.store import Database, ManualClock
from portico.store.sqlite import open_database

REGION = "eu-west-1"
ACCOUNT = "000000000000"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn"
ENDPOINT = "http://127.0.0.1:4566"


@dataclass
class RecordingPublisher:
    """Every call the provider makes, in order."""

    calls: list[tuple[str, Any]] = field(default_factory=list)

    def publish_api(self, api: DeployedApi) -> None:
        self.calls.append(("publish_api", api))

    def withdraw_api(self, api_id: str) -> None:
        self.calls.append(("withdraw_api", api_id))

    def publish_domains(self, mappings: Sequence[ApiMapping]) -> None:
        self.calls.append(("publish_domains", list(mappings)))

    def take(self) -> list[tuple[str, Any]]:
        taken, self.calls = self.calls, []
        return taken

    def published(self) -> list[DeployedApi]:
        return [argument for name, argument in self.take() if name == "publish_api"]


class Client:
    """Calls operations the way the AWS handler does."""

    def __init__(self, provider: ApiGatewayV2Provider) -> None:
        self.provider = provider
        self._operations = provider.operations()
        self.context = RequestContext(
            request_id="request-1",
            service="apigatewayv2",
            operation="Test",
            region=REGION,
            account_id=ACCOUNT,
            caller=None,
        )

    async def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        return await self._operations[operation](self.context, params)


def sequential_ids() -> Any:
    counter = itertools.count(1)
    return lambda length: f"{next(counter):0{length}d}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000.0)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def database(data_dir: Path, clock: ManualClock) -> Iterator[Database]:
    opened = open_database(data_dir, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


def make_provider(database: Database, clock: ManualClock) -> ApiGatewayV2Provider:
    provider = ApiGatewayV2Provider(database, clock, new_id=sequential_ids())
    provider.serve_at(lambda: ENDPOINT)
    return provider


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def provider(database: Database, clock: ManualClock) -> ApiGatewayV2Provider:
    return make_provider(database, clock)


@pytest.fixture
def client(provider: ApiGatewayV2Provider, publisher: RecordingPublisher) -> Client:
    provider.publish_to(publisher)
    return Client(provider)
