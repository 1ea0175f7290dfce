"""What every service provider is built from: the shared parts of one server."""

from __future__ import annotations

from dataclasses import dataclass

from portico.aws.catalog import ServiceCatalog
from portico.runtime import Runtime
from portico.settings import Settings
from portico.store import BlobStore, Clock, Database, DurableQueue


@dataclass(frozen=True)
class ServiceContext:
    settings: Settings
    database: Database
    blobs: BlobStore
    queue: DurableQueue
    runtime: Runtime
    clock: Clock
    catalog: ServiceCatalog  # the services' API models: enums, shapes
