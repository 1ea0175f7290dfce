"""Custom domain names and their API mappings.

    CreateDomainName api.example.com        (a REGIONAL, TLS 1.2 configuration, AVAILABLE at
                                            once: no certificate is needed to serve it here)
    CreateApiMapping api.example.com  ApiMappingKey "orders/v1"  ->  (api, stage)

The gateway serves `http://{domain}/{mapping key}/...` by the Host header; every change to a
mapping republishes the whole set (`Effects.domains`). A domain name has at most 200
multi-level mappings (keys with a '/'; a quota AWS does not raise), single-level ones aside.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from portico.aws.handler import Operation, RequestContext
from portico.services.apigatewayv2 import paging, validation
from portico.services.apigatewayv2.deployments import Effects
from portico.services.apigatewayv2.errors import (
    STAGE_NOT_FOUND,
    BadRequestException,
    ConflictException,
    limit_reached,
    mapping_not_found,
)
from portico.services.apigatewayv2.identifiers import MAPPING_ID_LENGTH, domain_arn
from portico.services.apigatewayv2.repository import (
    DOMAINS,
    GLOBAL_SCOPE,
    MAPPINGS,
    STAGES,
    Document,
    MappingRecord,
    Scope,
    api_scope,
    find_api,
    find_domain,
    mapping_prefix,
    mappings_of,
    wire,
)
from portico.services.apigatewayv2.service import Params, Result, Service, scope_of
from portico.store import RecordStore

ROUTING_MODES = ("API_MAPPING_ONLY", "ROUTING_RULE_ONLY", "ROUTING_RULE_THEN_API_MAPPING")
ENDPOINT_TYPES = ("REGIONAL", "EDGE")
SECURITY_POLICIES = ("TLS_1_0", "TLS_1_2")
IP_ADDRESS_TYPES = ("ipv4", "dualstack")
_DOMAIN = re.compile(
    r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
)
_MAPPING_KEY = re.compile(r"^[A-Za-z0-9$\-_.+!*'()]+(/[A-Za-z0-9$\-_.+!*'()]+)*$")
MAX_MAPPING_KEY = 300
MAX_MULTI_LEVEL_MAPPINGS = 200  # per domain name
DOMAIN_EXISTS = "The domain name you provided already exists."
MAPPING_KEY_EXISTS = "ApiMapping key already exists for this domain name"
INVALID_MAPPING_KEY = "An ApiMapping key may contain only letters, numbers and one of $-_.+!*'()"
ONE_CONFIGURATION = "Invalid input. Expected one domain name configuration"
REGIONAL_TLS_1_2 = (
    "Only REGIONAL domain names with a security policy of TLS 1.2 can be managed through the "
    "API Gateway V2 API. For TLS 1.0 domain names, please use the API Gateway V1 API to upgrade "
    "your security policy to TLS 1.2. Currently, only REST APIs can be attached to a domain "
    "name with a security policy of TLS 1.0."
)


def check_mapping_key(key: str) -> str:
    if key and (len(key) > MAX_MAPPING_KEY or not _MAPPING_KEY.match(key)):
        raise BadRequestException(INVALID_MAPPING_KEY)
    return key


def _hosted_zone(region: str) -> str:
    digest = hashlib.sha256(region.encode()).hexdigest().upper()
    return "Z" + "".join(c for c in digest if c.isalnum())[:13]


def delete_mappings_to(
    records: RecordStore, scope: Scope, api_id: str, stage: str | None = None
) -> bool:
    """Remove the mappings (of any domain in `scope`) to the API, or to one of its stages."""
    removed = False
    prefix = f"{scope.account_id}:{scope.region}:"
    for item in MAPPINGS.list(records, GLOBAL_SCOPE, prefix=prefix):
        document = item.value.document
        if document["ApiId"] == api_id and stage in (None, document["Stage"]):
            MAPPINGS.delete(records, GLOBAL_SCOPE, item.name)
            removed = True
    return removed


class DomainOperations:
    def __init__(self, service: Service) -> None:
        self._service = service

    def operations(self) -> Mapping[str, Operation]:
        return {
            "CreateDomainName": self.create_domain_name,
            "GetDomainName": self.get_domain_name,
            "GetDomainNames": self.get_domain_names,
            "UpdateDomainName": self.update_domain_name,
            "DeleteDomainName": self.delete_domain_name,
            "CreateApiMapping": self.create_api_mapping,
            "GetApiMapping": self.get_api_mapping,
            "GetApiMappings": self.get_api_mappings,
            "UpdateApiMapping": self.update_api_mapping,
            "DeleteApiMapping": self.delete_api_mapping,
        }

    # -- domain names ------------------------------------------------------------------------

    def _configuration(
        self, given: Mapping[str, Any], region: str, existing: Document | None = None
    ) -> Document:
        endpoint = validation.choice(given, "EndpointType", ENDPOINT_TYPES, "endpoint type")
        policy = validation.choice(given, "SecurityPolicy", SECURITY_POLICIES, "security policy")
        if endpoint == "EDGE" or policy == "TLS_1_0":
            raise BadRequestException(REGIONAL_TLS_1_2)
        address = validation.choice(given, "IpAddressType", IP_ADDRESS_TYPES, "IP address type")
        target = (existing or {}).get("ApiGatewayDomainName") or (
            f"d-{self._service.new_id(10)}.execute-api.{region}.amazonaws.com"
        )
        configuration: Document = {
            "ApiGatewayDomainName": target,
            "DomainNameStatus": "AVAILABLE",
            "EndpointType": "REGIONAL",
            "HostedZoneId": _hosted_zone(region),
            "IpAddressType": address or "ipv4",
            "SecurityPolicy": "TLS_1_2",
        }
        for member in ("CertificateArn", "CertificateName", "OwnershipVerificationCertificateArn"):
            value = validation.string(given, member, max_length=2048)
            if value:
                configuration[member] = value
        if "CertificateArn" in configuration:
            configuration["CertificateUploadDate"] = self._service.now()
        return configuration

    def _configurations(
        self, params: Params, region: str, existing: Document | None = None
    ) -> list[Document] | None:
        given = validation.objects(params, "DomainNameConfigurations")
        if given is None:
            return None
        if len(given) > 1:
            raise BadRequestException(ONE_CONFIGURATION)
        old = (existing or {}).get("DomainNameConfigurations") or [None]
        return [self._configuration(item, region, old[0]) for item in given or [{}]]

    async def create_domain_name(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        name = validation.required(params, "DomainName").lower()
        if len(name) > 512 or not _DOMAIN.match(name):
            raise BadRequestException(f"Invalid domain name specified: {name}")
        configurations = self._configurations(params, scope.region) or [
            self._configuration({}, scope.region)
        ]
        document: Document = {
            "ApiMappingSelectionExpression": "$request.basepath",
            "DomainName": name,
            "DomainNameArn": domain_arn(scope.region, name),
            "DomainNameConfigurations": configurations,
            "RoutingMode": validation.choice(params, "RoutingMode", ROUTING_MODES, "routing mode")
            or "API_MAPPING_ONLY",
            "Tags": validation.tags(params) or {},
        }
        mutual_tls = validation.structure(params, "MutualTlsAuthentication")
        if mutual_tls:
            document["MutualTlsAuthentication"] = _mutual_tls(mutual_tls)

        def work(records: RecordStore, effects: Effects) -> Document:
            if DOMAINS.get(records, scope.key, name) is not None:
                raise ConflictException(DOMAIN_EXISTS)
            DOMAINS.create(records, scope.key, name, document)
            return document

        return wire(await self._service.write(work))

    async def get_domain_name(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        name = validation.required(params, "DomainName")
        return wire(await self._service.read(lambda records: find_domain(records, scope, name)))

    async def get_domain_names(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)

        def work(records: RecordStore) -> list[Document]:
            return [item.value for item in DOMAINS.list(records, scope.key)]

        items, token = paging.page(
            await self._service.read(work), lambda item: str(item["DomainName"]), params
        )
        return {"Items": [wire(item) for item in items], "NextToken": token}

    async def update_domain_name(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        name = validation.required(params, "DomainName")
        mode = validation.choice(params, "RoutingMode", ROUTING_MODES, "routing mode")
        mutual_tls = validation.structure(params, "MutualTlsAuthentication")

        def work(records: RecordStore, effects: Effects) -> Document:
            existing = find_domain(records, scope, name)
            document = dict(existing)
            configurations = self._configurations(params, scope.region, existing)
            if configurations is not None:
                document["DomainNameConfigurations"] = configurations
            if mode is not None:
                document["RoutingMode"] = mode
            if mutual_tls is not None:
                document["MutualTlsAuthentication"] = _mutual_tls(mutual_tls)
            DOMAINS.put(records, scope.key, str(existing["DomainName"]), document)
            return document

        return wire(await self._service.write(work))

    async def delete_domain_name(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        name = validation.required(params, "DomainName")

        def work(records: RecordStore, effects: Effects) -> None:
            existing = find_domain(records, scope, name)
            domain = str(existing["DomainName"])
            for mapping in mappings_of(records, scope, domain):
                MAPPINGS.delete(records, GLOBAL_SCOPE, _mapping_name(scope, domain, mapping))
                effects.domains = True
            DOMAINS.delete(records, scope.key, domain)

        await self._service.write(work)
        return {}

    # -- API mappings ------------------------------------------------------------------------

    def _checked_mapping(
        self, records: RecordStore, scope: Scope, domain: str, document: Document
    ) -> None:
        api = find_api(records, scope, str(document["ApiId"]))
        if STAGES.get(records, api_scope(api.api_id), str(document["Stage"])) is None:
            raise BadRequestException(STAGE_NOT_FOUND)
        key = str(document.get("ApiMappingKey") or "")
        multi_level = 0
        for other in mappings_of(records, scope, domain):
            if other.mapping_id == document.get("ApiMappingId"):
                continue
            other_key = str(other.document.get("ApiMappingKey") or "")
            if other_key == key:
                raise ConflictException(MAPPING_KEY_EXISTS)
            multi_level += "/" in other_key
        if "/" in key and multi_level >= MAX_MULTI_LEVEL_MAPPINGS:
            raise limit_reached("multi-level API mappings", "domain name")

    async def create_api_mapping(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        name = validation.required(params, "DomainName")
        document: Document = {
            "ApiId": validation.required(params, "ApiId"),
            "Stage": validation.required(params, "Stage"),
            "ApiMappingKey": check_mapping_key(validation.string(params, "ApiMappingKey") or ""),
        }

        def work(records: RecordStore, effects: Effects) -> Document:
            domain = str(find_domain(records, scope, name)["DomainName"])
            self._checked_mapping(records, scope, domain, document)
            document["ApiMappingId"] = self._service.new_id(MAPPING_ID_LENGTH)
            record = MappingRecord(scope.account_id, scope.region, domain, document)
            MAPPINGS.create(records, GLOBAL_SCOPE, _mapping_name(scope, domain, record), record)
            effects.domains = True
            return document

        return _mapping_output(await self._service.write(work))

    async def get_api_mapping(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        name = validation.required(params, "DomainName")
        mapping_id = validation.required(params, "ApiMappingId")

        def work(records: RecordStore) -> Document:
            return self._find_mapping(records, scope, name, mapping_id).document

        return _mapping_output(await self._service.read(work))

    def _find_mapping(
        self, records: RecordStore, scope: Scope, name: str, mapping_id: str
    ) -> MappingRecord:
        domain = str(find_domain(records, scope, name)["DomainName"])
        found = MAPPINGS.get(records, GLOBAL_SCOPE, mapping_prefix(scope, domain) + mapping_id)
        if found is None:
            raise mapping_not_found()
        return found.value

    async def get_api_mappings(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        name = validation.required(params, "DomainName")

        def work(records: RecordStore) -> list[Document]:
            domain = str(find_domain(records, scope, name)["DomainName"])
            return [mapping.document for mapping in mappings_of(records, scope, domain)]

        items, token = paging.page(
            await self._service.read(work), lambda item: str(item["ApiMappingId"]), params
        )
        return {"Items": [_mapping_output(item) for item in items], "NextToken": token}

    async def update_api_mapping(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        name = validation.required(params, "DomainName")
        mapping_id = validation.required(params, "ApiMappingId")
        given: Document = {
            "ApiId": validation.required(params, "ApiId"),
            **({"Stage": params["Stage"]} if validation.bounded(params, "Stage", 128) else {}),
        }
        key = validation.string(params, "ApiMappingKey")
        if key is not None:
            given["ApiMappingKey"] = check_mapping_key(key)

        def work(records: RecordStore, effects: Effects) -> Document:
            existing = self._find_mapping(records, scope, name, mapping_id)
            document = {**existing.document, **given}
            self._checked_mapping(records, scope, existing.domain_name, document)
            record = MappingRecord(scope.account_id, scope.region, existing.domain_name, document)
            MAPPINGS.put(
                records, GLOBAL_SCOPE, _mapping_name(scope, existing.domain_name, record), record
            )
            effects.domains = True
            return document

        return _mapping_output(await self._service.write(work))

    async def delete_api_mapping(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        name = validation.required(params, "DomainName")
        mapping_id = validation.required(params, "ApiMappingId")

        def work(records: RecordStore, effects: Effects) -> None:
            mapping = self._find_mapping(records, scope, name, mapping_id)
            MAPPINGS.delete(
                records, GLOBAL_SCOPE, _mapping_name(scope, mapping.domain_name, mapping)
            )
            effects.domains = True

        await self._service.write(work)
        return {}


def _mapping_name(scope: Scope, domain: str, mapping: MappingRecord) -> str:
    return mapping_prefix(scope, domain) + mapping.mapping_id


def _mapping_output(document: Document) -> Result:
    output = dict(document)
    if not output.get("ApiMappingKey"):
        output.pop("ApiMappingKey", None)
    return output


def _mutual_tls(given: Mapping[str, Any]) -> Document:
    uri = validation.bounded(given, "TruststoreUri", 2048)
    if uri is None:
        raise BadRequestException("TruststoreUri is required for mutual TLS authentication.")
    document: Document = {"TruststoreUri": uri}
    version = validation.bounded(given, "TruststoreVersion", 64)
    if version:
        document["TruststoreVersion"] = version
    return document
