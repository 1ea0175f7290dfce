"""The API Gateway v2 (HTTP APIs) control plane: its operations, by role, and what it hands
the data plane.

    composition root ──serve_at(lambda: base URL)──► ApiEndpoint = {base}/_aws/execute-api/{id}
                     ──publish_to(publisher)──────► every served change, once it commits
                     ──start()────────────────────► every deployed API and domain mapping
                                                    in the store (a restart serves them again)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar, Protocol

from portico.aws.handler import Operation
from portico.services.apigatewayv2.apis import ApiOperations
from portico.services.apigatewayv2.authorizers import AuthorizerOperations
from portico.services.apigatewayv2.domains import DomainOperations
from portico.services.apigatewayv2.identifiers import NewId, random_id
from portico.services.apigatewayv2.integrations import IntegrationOperations
from portico.services.apigatewayv2.openapi_operations import OpenApiOperations
from portico.services.apigatewayv2.published import Publisher
from portico.services.apigatewayv2.publishing import Publication
from portico.services.apigatewayv2.routes import RouteOperations
from portico.services.apigatewayv2.service import Service
from portico.services.apigatewayv2.stages import StageOperations
from portico.services.apigatewayv2.tags import TagOperations
from portico.services.context import ServiceContext
from portico.store import Clock, Database


class OperationGroup(Protocol):
    def operations(self) -> Mapping[str, Operation]: ...


class ApiGatewayV2Provider:
    service_name: ClassVar[str] = "apigatewayv2"

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        default_endpoint: str = "http://127.0.0.1:4566",
        new_id: NewId = random_id,
    ) -> None:
        self._endpoint_url: Callable[[], str] = lambda: default_endpoint
        self._publication = Publication(database, lambda: self._endpoint_url())
        self._service = Service(
            database=database,
            clock=clock,
            new_id=new_id,
            publication=self._publication,
            endpoint_url=lambda: self._endpoint_url(),
        )
        self._groups: tuple[OperationGroup, ...] = (
            ApiOperations(self._service),
            RouteOperations(self._service),
            IntegrationOperations(self._service),
            AuthorizerOperations(self._service),
            StageOperations(self._service),
            DomainOperations(self._service),
            TagOperations(self._service),
            OpenApiOperations(self._service),
        )

    def operations(self) -> Mapping[str, Operation]:
        operations: dict[str, Operation] = {}
        for group in self._groups:
            operations.update(group.operations())
        return operations

    def serve_at(self, endpoint_url: Callable[[], str]) -> None:
        """The server's base URL (`http://127.0.0.1:4566`), known once it listens."""
        self._endpoint_url = endpoint_url

    def publish_to(self, publisher: Publisher) -> None:
        """Hand every served change to `publisher` from now on (call before `start`)."""
        self._publication.attach(publisher)

    async def start(self) -> None:
        await self._publication.everything()

    async def close(self) -> None:
        return None


def create_provider(context: ServiceContext) -> ApiGatewayV2Provider:
    return ApiGatewayV2Provider(
        context.database,
        context.clock,
        default_endpoint=f"http://127.0.0.1:{context.settings.port}",
    )
