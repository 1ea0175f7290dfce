"""The service providers the server builds, in one explicit list."""

from __future__ import annotations

from collections.abc import Callable

from portico.aws.handler import ServiceProvider
from portico.services.context import ServiceContext
from portico.services.lambda_.provider import create_provider as create_lambda

ProviderFactory = Callable[[ServiceContext], ServiceProvider]

PROVIDERS: tuple[ProviderFactory, ...] = (
    create_lambda,
)
