"""What every group of operations shares: the store, the clock, ids, and publication.

An operation does its reads in `read` and its writes in `write`: one transaction, run off the
event loop; a write's `Effects` are published once it has committed (and not at all if it
raised).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from portico.aws.handler import RequestContext
from portico.services.apigatewayv2.deployments import Effects
from portico.services.apigatewayv2.identifiers import NewId, api_endpoint
from portico.services.apigatewayv2.publishing import Publication
from portico.services.apigatewayv2.repository import ApiRecord, Document, Scope, wire
from portico.store import Clock, Database, RecordStore

T = TypeVar("T")
Params = dict[str, Any]
Result = dict[str, Any]


def scope_of(context: RequestContext) -> Scope:
    return Scope(context.account_id, context.region)


@dataclass
class Service:
    database: Database
    clock: Clock
    new_id: NewId
    publication: Publication
    endpoint_url: Callable[[], str]

    async def read(self, work: Callable[[RecordStore], T]) -> T:
        def run() -> T:
            with self.database.snapshot() as tx:
                return work(tx.records)

        return await asyncio.to_thread(run)

    async def write(self, work: Callable[[RecordStore, Effects], T]) -> T:
        effects = Effects()

        def run() -> T:
            with self.database.transaction() as tx:
                return work(tx.records, effects)

        result = await asyncio.to_thread(run)
        await self.publication.apply(effects)
        return result

    def now(self) -> float:
        return self.clock.now()

    def api_output(self, api: ApiRecord) -> Result:
        """GetApi's answer: the stored document, with the endpoint this server serves it at."""
        document: Document = wire(api.document)
        document["ApiEndpoint"] = api_endpoint(self.endpoint_url(), api.api_id, api.protocol)
        return document
