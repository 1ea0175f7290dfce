"""TagResource / UntagResource / GetTags, by resource ARN.

    arn:aws:apigateway:{region}::/apis/{apiId}                      the API's Tags
    arn:aws:apigateway:{region}::/apis/{apiId}/stages/{stageName}   the stage's Tags
    arn:aws:apigateway:{region}::/domainnames/{domainName}          the domain name's Tags

Tags live in the resource's own document, so they go with it; tagging deploys nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from portico.aws.handler import Operation, RequestContext
from portico.services.apigatewayv2 import validation
from portico.services.apigatewayv2.deployments import Effects
from portico.services.apigatewayv2.errors import BadRequestException, NotFoundException
from portico.services.apigatewayv2.identifiers import ResourceRef, parse_resource_arn
from portico.services.apigatewayv2.repository import (
    APIS,
    DOMAINS,
    GLOBAL_SCOPE,
    STAGES,
    Document,
    Scope,
    api_scope,
    find_api,
    find_domain,
    find_stage,
)
from portico.services.apigatewayv2.service import Params, Result, Service, scope_of
from portico.store import RecordStore

Retag = Callable[[dict[str, str]], dict[str, str]]


def _resource(arn: str, scope: Scope) -> ResourceRef:
    ref = parse_resource_arn(arn)
    if ref is None:
        raise BadRequestException(f"Invalid resource ARN specified: {arn}")
    if ref.region != scope.region:
        raise NotFoundException(f"Invalid resource identifier specified: {arn}")
    return ref


def _read_tags(records: RecordStore, scope: Scope, ref: ResourceRef) -> dict[str, str]:
    if ref.domain_name is not None:
        return dict(find_domain(records, scope, ref.domain_name).get("Tags") or {})
    api = find_api(records, scope, ref.api_id or "")
    if ref.stage_name is not None:
        return dict(find_stage(records, api.api_id, ref.stage_name).get("Tags") or {})
    return dict(api.document.get("Tags") or {})


def _write_tags(records: RecordStore, scope: Scope, ref: ResourceRef, retag: Retag) -> None:
    if ref.domain_name is not None:
        domain = find_domain(records, scope, ref.domain_name)
        name = str(domain["DomainName"])
        DOMAINS.put(records, scope.key, name, _retagged(domain, retag))
        return
    api = find_api(records, scope, ref.api_id or "")
    if ref.stage_name is not None:
        stage = find_stage(records, api.api_id, ref.stage_name)
        STAGES.put(records, api_scope(api.api_id), ref.stage_name, _retagged(stage, retag))
        return
    APIS.put(records, GLOBAL_SCOPE, api.api_id, api.changed(_retagged(api.document, retag)))


def _retagged(document: Document, retag: Retag) -> Document:
    tags = retag(dict(document.get("Tags") or {}))
    validation.check_tags(tags)
    return {**document, "Tags": tags}


class TagOperations:
    def __init__(self, service: Service) -> None:
        self._service = service

    def operations(self) -> Mapping[str, Operation]:
        return {
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "GetTags": self.get_tags,
        }

    async def tag_resource(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        ref = _resource(validation.required(params, "ResourceArn"), scope)
        added = validation.tags(params) or {}

        def work(records: RecordStore, effects: Effects) -> None:
            _write_tags(records, scope, ref, lambda tags: {**tags, **added})

        await self._service.write(work)
        return {}

    async def untag_resource(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        ref = _resource(validation.required(params, "ResourceArn"), scope)
        keys = validation.strings(params, "TagKeys")
        if keys is None:
            raise BadRequestException("TagKeys is required.")

        def work(records: RecordStore, effects: Effects) -> None:
            _write_tags(
                records,
                scope,
                ref,
                lambda tags: {key: value for key, value in tags.items() if key not in keys},
            )

        await self._service.write(work)
        return {}

    async def get_tags(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        ref = _resource(validation.required(params, "ResourceArn"), scope)
        tags = await self._service.read(lambda records: _read_tags(records, scope, ref))
        return {"Tags": tags}
