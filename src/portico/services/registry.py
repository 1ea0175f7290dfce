"""The service providers the server builds, in one explicit list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from portico.aws.handler import ServiceProvider
from portico.services.apigatewayv2.provider import create_provider as create_apigatewayv2
from portico.services.context import ServiceContext
from portico.services.lambda_.provider import create_provider as create_lambda
from portico.services.logs.provider import create_provider as create_logs
from portico.services.secretsmanager.provider import create_provider as create_secretsmanager

ProviderFactory = Callable[[ServiceContext], ServiceProvider]


@runtime_checkable
class Background(Protocol):
    """A provider with work of its own (workers, sweepers): started and stopped with the
    server."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...


PROVIDERS: tuple[ProviderFactory, ...] = (
    create_apigatewayv2,
    create_lambda,
    create_logs,
    create_secretsmanager,
)
