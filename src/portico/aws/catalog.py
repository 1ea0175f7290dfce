"""The services Portico speaks, described by botocore's shipped models.

A request names its service three ways, as at AWS's own front end: the SigV4 credential
scope (the signing name), `X-Amz-Target` (json protocol), and the path (rest protocols).
Two services may share a signing name (`apigateway` signs for both API Gateway APIs), so
the catalog gives every candidate and routing picks the one whose operations match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import botocore.session
from botocore.model import OperationModel, ServiceModel

from portico.aws.routing import RestRouter


@dataclass(frozen=True)
class Service:
    """One AWS service: its model and how requests for it are recognized."""

    name: str
    model: ServiceModel = field(repr=False)

    @property
    def protocol(self) -> str:
        return str(self.model.metadata["protocol"])

    @property
    def signing_name(self) -> str:
        metadata = self.model.metadata
        return str(metadata.get("signingName") or metadata["endpointPrefix"])

    @property
    def target_prefix(self) -> str | None:
        prefix = self.model.metadata.get("targetPrefix")
        return str(prefix) if prefix else None

    @cached_property
    def router(self) -> RestRouter:
        return RestRouter(self.model)

    def enum(self, shape_name: str) -> list[str]:
        """The allowed values of an enum shape (e.g. Lambda's `Runtime`)."""
        return list(self.model.shape_for(shape_name).enum)

    def operation(self, name: str) -> OperationModel:
        return self.model.operation_model(name)

    @cached_property
    def operations_by_target(self) -> dict[str, str]:
        return {f"{self.target_prefix}.{name}": name for name in self.model.operation_names}


class ServiceCatalog:
    """Loads the models of the given services once, at start-up."""

    def __init__(self, names: Iterable[str]) -> None:
        session = botocore.session.get_session()
        self.services = {name: Service(name, session.get_service_model(name)) for name in names}
        self._by_signing_name: dict[str, list[Service]] = {}
        self._by_target_prefix: dict[str, Service] = {}
        for service in self.services.values():
            self._by_signing_name.setdefault(service.signing_name, []).append(service)
            if service.target_prefix:
                self._by_target_prefix[service.target_prefix] = service

    def by_signing_name(self, signing_name: str) -> list[Service]:
        return self._by_signing_name.get(signing_name, [])

    def by_target(self, target: str) -> Service | None:
        return self._by_target_prefix.get(target.partition(".")[0])

    def __getitem__(self, name: str) -> Service:
        return self.services[name]
