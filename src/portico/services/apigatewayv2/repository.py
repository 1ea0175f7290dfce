"""HTTP APIs in the store: each resource kept as the document its Get operation answers with.

    scope                          kind                           name
    apigatewayv2                   apigatewayv2.api               <api id>     ApiRecord
    apigatewayv2:api:<api id>      apigatewayv2.route             <route id>   GetRoute
                                   apigatewayv2.route-response    <route id>:<id>
                                   apigatewayv2.integration       <id>         GetIntegration
                                   apigatewayv2.authorizer        <id>         GetAuthorizer
                                   apigatewayv2.stage             <name>       GetStage
                                   apigatewayv2.deployment        <id>         DeploymentRecord
    apigatewayv2:<account>:<region>  apigatewayv2.domain          <domain>     GetDomainName
    apigatewayv2                   apigatewayv2.mapping           <account>:<region>:<domain>:<id>

API ids are unique across accounts and regions, so APIs share one scope (start-up finds them
all there); an API's own resources share its scope and go with it. Mappings share one scope
too: the gateway is handed every domain's mappings at once. Times are kept as epoch seconds
and become timestamps on the way out (`wire`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portico.services.apigatewayv2.errors import (
    api_not_found,
    authorizer_not_found,
    deployment_not_found,
    domain_not_found,
    integration_not_found,
    route_not_found,
    stage_not_found,
)
from portico.services.apigatewayv2.identifiers import timestamp
from portico.store import JsonObject, RecordKind, RecordStore

Document = dict[str, Any]

GLOBAL_SCOPE = "apigatewayv2"
_TIMES = ("CreatedDate", "LastUpdatedDate", "CertificateUploadDate")


@dataclass(frozen=True, slots=True)
class Scope:
    """The account and region a request acts in."""

    account_id: str
    region: str

    @property
    def key(self) -> str:
        return f"apigatewayv2:{self.account_id}:{self.region}"


@dataclass(frozen=True, slots=True)
class ApiRecord:
    account_id: str
    region: str
    document: Document  # GetApi's members, but ApiEndpoint (it follows the server's address)

    @property
    def api_id(self) -> str:
        return str(self.document["ApiId"])

    @property
    def protocol(self) -> str:
        return str(self.document["ProtocolType"])

    @property
    def is_http(self) -> bool:
        return self.protocol == "HTTP"

    def changed(self, document: Document) -> ApiRecord:
        return ApiRecord(self.account_id, self.region, document)

    def to_json(self) -> JsonObject:
        return {"account_id": self.account_id, "region": self.region, "document": self.document}

    @classmethod
    def from_json(cls, value: JsonObject) -> ApiRecord:
        return cls(value["account_id"], value["region"], value["document"])


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a deployment froze: the API document and its routes, integrations, authorizers."""

    api: Document
    routes: tuple[Document, ...] = ()
    integrations: tuple[Document, ...] = ()
    authorizers: tuple[Document, ...] = ()

    def to_json(self) -> JsonObject:
        return {
            "api": self.api,
            "routes": list(self.routes),
            "integrations": list(self.integrations),
            "authorizers": list(self.authorizers),
        }

    @classmethod
    def from_json(cls, value: JsonObject) -> Snapshot:
        return cls(
            value["api"],
            tuple(value["routes"]),
            tuple(value["integrations"]),
            tuple(value["authorizers"]),
        )


@dataclass(frozen=True, slots=True)
class DeploymentRecord:
    document: Document  # GetDeployment's members
    snapshot: Snapshot = field(default_factory=lambda: Snapshot({}))

    def to_json(self) -> JsonObject:
        return {"document": self.document, "snapshot": self.snapshot.to_json()}

    @classmethod
    def from_json(cls, value: JsonObject) -> DeploymentRecord:
        return cls(value["document"], Snapshot.from_json(value["snapshot"]))


@dataclass(frozen=True, slots=True)
class MappingRecord:
    account_id: str
    region: str
    domain_name: str
    document: Document  # GetApiMapping's members

    @property
    def mapping_id(self) -> str:
        return str(self.document["ApiMappingId"])

    def to_json(self) -> JsonObject:
        return {
            "account_id": self.account_id,
            "region": self.region,
            "domain_name": self.domain_name,
            "document": self.document,
        }

    @classmethod
    def from_json(cls, value: JsonObject) -> MappingRecord:
        return cls(value["account_id"], value["region"], value["domain_name"], value["document"])


def _document(value: Document) -> Mapping[str, Any]:
    return value


def _load(value: JsonObject) -> Document:
    return dict(value)


APIS = RecordKind("apigatewayv2.api", ApiRecord.to_json, ApiRecord.from_json)
ROUTES: RecordKind[Document] = RecordKind("apigatewayv2.route", _document, _load)
ROUTE_RESPONSES: RecordKind[Document] = RecordKind("apigatewayv2.route-response", _document, _load)
INTEGRATIONS: RecordKind[Document] = RecordKind("apigatewayv2.integration", _document, _load)
AUTHORIZERS: RecordKind[Document] = RecordKind("apigatewayv2.authorizer", _document, _load)
STAGES: RecordKind[Document] = RecordKind("apigatewayv2.stage", _document, _load)
DEPLOYMENTS = RecordKind(
    "apigatewayv2.deployment", DeploymentRecord.to_json, DeploymentRecord.from_json
)
DOMAINS: RecordKind[Document] = RecordKind("apigatewayv2.domain", _document, _load)
MAPPINGS = RecordKind("apigatewayv2.mapping", MappingRecord.to_json, MappingRecord.from_json)


def api_scope(api_id: str) -> str:
    return f"apigatewayv2:api:{api_id}"


def mapping_prefix(scope: Scope, domain_name: str) -> str:
    return f"{scope.account_id}:{scope.region}:{domain_name}:"


def wire(document: Mapping[str, Any]) -> Document:
    """A stored document as the operations answer it: epoch seconds become timestamps."""
    out: Document = {}
    for key, value in document.items():
        if key in _TIMES and isinstance(value, int | float):
            out[key] = timestamp(value)
        elif key == "DomainNameConfigurations" and isinstance(value, list):
            out[key] = [wire(item) for item in value]
        else:
            out[key] = value
    return out


# -- reads inside a transaction, raising AWS's NotFoundException --------------------------------


def find_api(records: RecordStore, scope: Scope, api_id: str) -> ApiRecord:
    found = APIS.get(records, GLOBAL_SCOPE, api_id)
    if found is None or (found.value.account_id, found.value.region) != (
        scope.account_id,
        scope.region,
    ):
        raise api_not_found(scope.account_id, api_id)
    return found.value


def find_route(records: RecordStore, api_id: str, route_id: str) -> Document:
    found = ROUTES.get(records, api_scope(api_id), route_id)
    if found is None:
        raise route_not_found(route_id)
    return found.value


def find_integration(records: RecordStore, api_id: str, integration_id: str) -> Document:
    found = INTEGRATIONS.get(records, api_scope(api_id), integration_id)
    if found is None:
        raise integration_not_found(integration_id)
    return found.value


def find_authorizer(records: RecordStore, api_id: str, authorizer_id: str) -> Document:
    found = AUTHORIZERS.get(records, api_scope(api_id), authorizer_id)
    if found is None:
        raise authorizer_not_found(authorizer_id)
    return found.value


def find_stage(records: RecordStore, api_id: str, stage_name: str) -> Document:
    found = STAGES.get(records, api_scope(api_id), stage_name)
    if found is None:
        raise stage_not_found()
    return found.value


def find_deployment(records: RecordStore, api_id: str, deployment_id: str) -> DeploymentRecord:
    found = DEPLOYMENTS.get(records, api_scope(api_id), deployment_id)
    if found is None:
        raise deployment_not_found(deployment_id)
    return found.value


def find_domain(records: RecordStore, scope: Scope, domain_name: str) -> Document:
    found = DOMAINS.get(records, scope.key, domain_name.lower())
    if found is None:
        raise domain_not_found()
    return found.value


def all_of(kind: RecordKind[Document], records: RecordStore, api_id: str) -> list[Document]:
    return [item.value for item in kind.list(records, api_scope(api_id))]


def stages_of(records: RecordStore, api_id: str) -> list[Document]:
    return all_of(STAGES, records, api_id)


def mappings_of(records: RecordStore, scope: Scope, domain_name: str) -> list[MappingRecord]:
    prefix = mapping_prefix(scope, domain_name)
    return [item.value for item in MAPPINGS.list(records, GLOBAL_SCOPE, prefix=prefix)]
