"""Reads of an API's children (routes, integrations, authorizers): one by id, or a page.

Each first finds the API in the caller's account and Region (NotFoundException otherwise),
then answers in the wire shape.
"""

from __future__ import annotations

from collections.abc import Callable

from portico.aws.handler import RequestContext
from portico.services.apigatewayv2 import paging, validation
from portico.services.apigatewayv2.repository import Document, all_of, find_api, wire
from portico.services.apigatewayv2.service import Params, Result, Service, scope_of
from portico.store import RecordKind, RecordStore

Finder = Callable[[RecordStore, str, str], Document]
"""(records, api id, child id) -> the child; raises NotFoundException when there is none."""


async def get_child(
    service: Service, context: RequestContext, params: Params, id_member: str, find: Finder
) -> Result:
    scope = scope_of(context)
    api_id = validation.required(params, "ApiId")
    child_id = validation.required(params, id_member)

    def work(records: RecordStore) -> Document:
        find_api(records, scope, api_id)
        return find(records, api_id, child_id)

    return wire(await service.read(work))


async def get_children(
    service: Service,
    context: RequestContext,
    params: Params,
    kind: RecordKind[Document],
    id_member: str,
) -> Result:
    scope = scope_of(context)
    api_id = validation.required(params, "ApiId")

    def work(records: RecordStore) -> list[Document]:
        find_api(records, scope, api_id)
        return all_of(kind, records, api_id)

    items, token = paging.page(await service.read(work), lambda item: str(item[id_member]), params)
    return {"Items": [wire(item) for item in items], "NextToken": token}
