"""The service providers the server builds, in one explicit list."""

from __future__ import annotations

from collections.abc import Callable

from portico.aws.handler import ServiceProvider
from portico.services.context import ServiceContext

ProviderFactory = Callable[[ServiceContext], ServiceProvider]

PROVIDERS: tuple[ProviderFactory, ...] = ()
