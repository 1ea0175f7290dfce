"""Handing the gateway what it serves, after each change commits and once at start-up.

    write commits ──► Effects ──► Publication.apply ──► Publisher.publish_api / withdraw_api
                                                    └─► Publisher.publish_domains

Each publication reads the store afresh, under one lock, so the last one handed over is always
the newest state, whatever order concurrent writers finish in. Only HTTP APIs are published
(WebSocket APIs are kept but not served), and only their stages that have a deployment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from portico.services.apigatewayv2.deployments import Effects
from portico.services.apigatewayv2.identifiers import api_endpoint
from portico.services.apigatewayv2.published import (
    ApiMapping,
    DeployedApi,
    DeployedStage,
    Publisher,
)
from portico.services.apigatewayv2.repository import (
    APIS,
    DEPLOYMENTS,
    GLOBAL_SCOPE,
    MAPPINGS,
    ApiRecord,
    Document,
    api_scope,
    stages_of,
    wire,
)
from portico.store import Database, RecordStore

logger = logging.getLogger(__name__)


@contextmanager
def _reported(what: str) -> Iterator[None]:
    """A publisher that fails is logged: the change it was handed has committed, and the
    next publication of the same API hands it over again."""
    try:
        yield
    except Exception:
        logger.exception("publishing %s failed", what)


class Publication:
    def __init__(self, database: Database, endpoint_url: Callable[[], str]) -> None:
        self._database = database
        self._endpoint_url = endpoint_url
        self._publisher: Publisher | None = None
        self._lock = asyncio.Lock()

    def attach(self, publisher: Publisher) -> None:
        self._publisher = publisher

    async def apply(self, effects: Effects) -> None:
        if self._publisher is None:
            return
        for api_id in sorted(effects.withdrawn):
            await self._withdraw(api_id)
        for api_id in sorted(effects.apis - effects.withdrawn):
            await self.api(api_id)
        if effects.domains:
            await self.domains()

    async def api(self, api_id: str) -> None:
        publisher = self._publisher
        if publisher is None:
            return
        async with self._lock:
            deployed = await asyncio.to_thread(self._read_api, api_id)
            if deployed is not None:
                with _reported(f"API {api_id}"):
                    publisher.publish_api(deployed)

    async def domains(self) -> None:
        publisher = self._publisher
        if publisher is None:
            return
        async with self._lock:
            mappings = await asyncio.to_thread(self._read_mappings)
            with _reported("the domain mappings"):
                publisher.publish_domains(mappings)

    async def everything(self) -> None:
        """Every deployed HTTP API and every mapping, as the store has them (start-up)."""
        publisher = self._publisher
        if publisher is None:
            return
        async with self._lock:
            deployed, mappings = await asyncio.to_thread(self._read_everything)
            for api in deployed:
                with _reported(f"API {api.api_id}"):
                    publisher.publish_api(api)
            with _reported("the domain mappings"):
                publisher.publish_domains(mappings)

    async def _withdraw(self, api_id: str) -> None:
        publisher = self._publisher
        if publisher is None:
            return
        async with self._lock:
            with _reported(f"the withdrawal of API {api_id}"):
                publisher.withdraw_api(api_id)

    # -- reads -------------------------------------------------------------------------------

    def _read_api(self, api_id: str) -> DeployedApi | None:
        with self._database.snapshot() as tx:
            found = APIS.get(tx.records, GLOBAL_SCOPE, api_id)
            if found is None or not found.value.is_http:
                return None
            return self._deployed(tx.records, found.value)

    def _read_mappings(self) -> list[ApiMapping]:
        with self._database.snapshot() as tx:
            return _mappings(tx.records)

    def _read_everything(self) -> tuple[list[DeployedApi], list[ApiMapping]]:
        with self._database.snapshot() as tx:
            apis = [item.value for item in APIS.list(tx.records, GLOBAL_SCOPE)]
            deployed = [self._deployed(tx.records, api) for api in apis if api.is_http]
            return [api for api in deployed if api.stages], _mappings(tx.records)

    def _deployed(self, records: RecordStore, api: ApiRecord) -> DeployedApi:
        stages: list[DeployedStage] = []
        for stage in stages_of(records, api.api_id):
            deployment_id = stage.get("DeploymentId")
            found = (
                None
                if deployment_id is None
                else DEPLOYMENTS.get(records, api_scope(api.api_id), deployment_id)
            )
            if found is None:
                continue
            frozen = found.value.snapshot
            stages.append(
                DeployedStage(
                    stage=wire(stage),
                    api=self._api_document(frozen.api),
                    routes=tuple(wire(route) for route in frozen.routes),
                    integrations=tuple(wire(item) for item in frozen.integrations),
                    authorizers=tuple(wire(item) for item in frozen.authorizers),
                )
            )
        return DeployedApi(
            account_id=api.account_id,
            region=api.region,
            api_id=api.api_id,
            disable_execute_api_endpoint=bool(api.document.get("DisableExecuteApiEndpoint")),
            stages=tuple(stages),
        )

    def _api_document(self, document: Document) -> Document:
        endpoint = api_endpoint(
            self._endpoint_url(), str(document["ApiId"]), str(document["ProtocolType"])
        )
        return {**wire(document), "ApiEndpoint": endpoint}


def _mappings(records: RecordStore) -> list[ApiMapping]:
    return [
        ApiMapping(
            domain_name=record.domain_name,
            api_id=str(record.document["ApiId"]),
            stage=str(record.document["Stage"]),
            mapping_key=str(record.document.get("ApiMappingKey") or ""),
        )
        for record in (item.value for item in MAPPINGS.list(records, GLOBAL_SCOPE))
    ]
