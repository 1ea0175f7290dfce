"""What the gateway serves right now: compiled APIs by id and custom-domain mappings by host.

The control plane publishes here (it is the `Publisher`); requests read here. Every publish
compiles first and then swaps a whole dict in, so a request sees one deployment or the next,
never half of one, and reading needs no lock.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from portico.gateway.http_api.compiled import CompiledApi, Compiler
from portico.services.apigatewayv2.published import ApiMapping, DeployedApi

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DomainRoute:
    """One API mapping of a custom domain, with its key split into path segments."""

    key: tuple[str, ...]
    api_id: str
    stage: str


class HttpApiRegistry:
    def __init__(self, compiler: Compiler) -> None:
        self._compiler = compiler
        self._apis: dict[str, CompiledApi] = {}
        self._domains: dict[str, tuple[DomainRoute, ...]] = {}
        self.generation = 0  # counts the changes: what was read of an older one is stale

    # -- the control plane's side (Publisher) -------------------------------------------------

    def publish_api(self, api: DeployedApi) -> None:
        compiled = self._compiler.api(api)
        self._apis = {**self._apis, api.api_id: compiled}
        self.generation += 1

    def withdraw_api(self, api_id: str) -> None:
        if api_id in self._apis:
            self._apis = {key: value for key, value in self._apis.items() if key != api_id}
            self.generation += 1

    def publish_domains(self, mappings: Sequence[ApiMapping]) -> None:
        domains: dict[str, list[DomainRoute]] = {}
        for mapping in mappings:
            key = tuple(part for part in mapping.mapping_key.split("/") if part)
            route = DomainRoute(key, mapping.api_id, mapping.stage)
            domains.setdefault(mapping.domain_name.lower(), []).append(route)
        # Longest keys first: the most specific mapping wins.
        self._domains = {
            name: tuple(sorted(routes, key=lambda route: -len(route.key)))
            for name, routes in domains.items()
        }
        self.generation += 1

    # -- the data plane's side ----------------------------------------------------------------

    def api(self, api_id: str) -> CompiledApi | None:
        return self._apis.get(api_id)

    def domain(self, host: str) -> tuple[DomainRoute, ...] | None:
        return self._domains.get(host) if self._domains else None
