"""Routes: Create/Get/GetRoutes/Update/DeleteRoute, DeleteRouteRequestParameter, and the route
responses of WebSocket APIs.

A route of an HTTP API has a route key (`route_keys`), an optional `integrations/{id}` target
and an authorization: NONE, AWS_IAM, JWT (a JWT authorizer, with at most 10 scopes) or CUSTOM (a
REQUEST authorizer). Route keys are unique in an API. Request parameters, models and route
responses belong to WebSocket APIs; an HTTP API answers them with BadRequestException.
"""

from __future__ import annotations

from collections.abc import Mapping

from portico.aws.handler import Operation, RequestContext
from portico.services.apigatewayv2 import paging, validation
from portico.services.apigatewayv2.children import get_child, get_children
from portico.services.apigatewayv2.deployments import Effects, redeploy
from portico.services.apigatewayv2.errors import (
    BadRequestException,
    ConflictException,
    route_response_not_found,
)
from portico.services.apigatewayv2.identifiers import ROUTE_ID_LENGTH, ROUTE_RESPONSE_ID_LENGTH
from portico.services.apigatewayv2.integrations import integration_id_of
from portico.services.apigatewayv2.repository import (
    ROUTE_RESPONSES,
    ROUTES,
    ApiRecord,
    Document,
    all_of,
    api_scope,
    find_api,
    find_authorizer,
    find_integration,
    find_route,
    wire,
)
from portico.services.apigatewayv2.route_keys import (
    check_conflicts,
    check_websocket_route_key,
    parse_route_key,
)
from portico.services.apigatewayv2.service import Params, Result, Service, scope_of
from portico.store import RecordStore

AUTHORIZATION_TYPES = ("NONE", "AWS_IAM", "CUSTOM", "JWT")
WEBSOCKET_AUTHORIZATION_TYPES = ("NONE", "AWS_IAM", "CUSTOM")
NEEDS_AUTHORIZER = {"JWT": "JWT", "CUSTOM": "REQUEST"}  # authorization type -> authorizer type
MAX_SCOPES = 10  # per route: an HTTP API quota AWS does not raise
INVALID_AUTHORIZER = (
    "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
    "COGNITO_USER_POOLS requires a valid authorizer."
)
WEBSOCKET_ONLY = (
    "ModelSelectionExpression",
    "RequestModels",
    "RequestParameters",
    "RouteResponseSelectionExpression",
)
ROUTE_RESPONSES_HTTP = "Route responses are supported only for WebSocket APIs."
REQUEST_PARAMETERS_HTTP = "Route request parameters are supported only for WebSocket APIs."
_MEMBERS = (
    "RouteKey",
    "Target",
    "AuthorizationType",
    "AuthorizerId",
    "AuthorizationScopes",
    "OperationName",
    "ApiKeyRequired",
    *WEBSOCKET_ONLY,
)


def _given(params: Params) -> Document:
    return {member: params[member] for member in _MEMBERS if params.get(member) is not None}


def quick_route(route_key: str, integration_id: str) -> Document:
    parse_route_key(route_key)
    return {
        "ApiGatewayManaged": True,
        "ApiKeyRequired": False,
        "AuthorizationType": "NONE",
        "RouteKey": route_key,
        "Target": f"integrations/{integration_id}",
    }


def check_route_key(records: RecordStore, api: ApiRecord, key: str, route_id: str) -> None:
    """The key is well formed, and no other route of the API has it or conflicts with it."""
    if api.is_http:
        parse_route_key(key)
    else:
        check_websocket_route_key(key)
    others = [
        str(route["RouteKey"])
        for route in all_of(ROUTES, records, api.api_id)
        if route["RouteId"] != route_id
    ]
    if key in others:
        raise ConflictException(f"Route with key {key} already exists for this API")
    if api.is_http:
        check_conflicts(key, others)


def checked_route(records: RecordStore, api: ApiRecord, document: Document) -> Document:
    """A route's members, merged and complete, checked against the API's resources."""
    checked = dict(document)
    validation.bounded(checked, "OperationName", 64)
    _check_target(records, api, validation.bounded(checked, "Target", 128))
    allowed = AUTHORIZATION_TYPES if api.is_http else WEBSOCKET_AUTHORIZATION_TYPES
    authorization = (
        validation.choice(checked, "AuthorizationType", allowed, "authorization type") or "NONE"
    )
    checked["AuthorizationType"] = authorization
    authorizer_id = validation.string(checked, "AuthorizerId")
    scopes = validation.strings(checked, "AuthorizationScopes")
    if authorization in NEEDS_AUTHORIZER:
        if not authorizer_id:
            raise BadRequestException(INVALID_AUTHORIZER)
        authorizer = find_authorizer(records, api.api_id, authorizer_id)
        wanted = NEEDS_AUTHORIZER[authorization]
        if authorizer["AuthorizerType"] != wanted:
            raise BadRequestException(
                f"Authorization type {authorization} requires an authorizer of type {wanted}, "
                f"but authorizer {authorizer_id} is of type {authorizer['AuthorizerType']}."
            )
    elif authorizer_id:
        raise BadRequestException(
            f"AuthorizerId can be set only for the authorization types "
            f"[{', '.join(NEEDS_AUTHORIZER)}], not {authorization}."
        )
    if scopes and authorization != "JWT":
        raise BadRequestException("AuthorizationScopes are supported only for JWT authorizers.")
    if scopes and len(scopes) > MAX_SCOPES:
        raise BadRequestException(
            f"A route may have at most {MAX_SCOPES} authorization scopes, not {len(scopes)}."
        )
    if api.is_http:
        for member in WEBSOCKET_ONLY:
            if checked.get(member):
                raise BadRequestException(f"{member} is supported only for WebSocket APIs.")
        if checked.get("ApiKeyRequired"):
            raise BadRequestException("ApiKeyRequired is supported only for WebSocket APIs.")
    checked["ApiKeyRequired"] = bool(validation.boolean(checked, "ApiKeyRequired"))
    return {key: value for key, value in checked.items() if value not in (None, [], {})}


def _check_target(records: RecordStore, api: ApiRecord, target: str | None) -> None:
    if target is None:
        return
    integration_id = integration_id_of(target)
    if not integration_id:
        raise BadRequestException(
            f"Invalid target specified: {target}. A route's target has the form "
            "integrations/{integrationId}."
        )
    find_integration(records, api.api_id, integration_id)


def _merge_update(existing: Document, given: Document) -> Document:
    merged = {**existing, **given}
    if given.get("Target") == "":
        merged.pop("Target")
    if given.get("AuthorizationType") in ("NONE", "AWS_IAM") and "AuthorizerId" not in given:
        merged.pop("AuthorizerId", None)
        merged.pop("AuthorizationScopes", None)
    return merged


class RouteOperations:
    def __init__(self, service: Service) -> None:
        self._service = service

    def operations(self) -> Mapping[str, Operation]:
        return {
            "CreateRoute": self.create_route,
            "GetRoute": self.get_route,
            "GetRoutes": self.get_routes,
            "UpdateRoute": self.update_route,
            "DeleteRoute": self.delete_route,
            "DeleteRouteRequestParameter": self.delete_route_request_parameter,
            "CreateRouteResponse": self.create_route_response,
            "GetRouteResponse": self.get_route_response,
            "GetRouteResponses": self.get_route_responses,
            "UpdateRouteResponse": self.update_route_response,
            "DeleteRouteResponse": self.delete_route_response,
        }

    def _redeploy(self, records: RecordStore, api: ApiRecord, effects: Effects) -> None:
        redeploy(records, api, self._service.now(), self._service.new_id, effects)

    async def create_route(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        route_key = validation.required(params, "RouteKey")
        given = _given(params)

        def work(records: RecordStore, effects: Effects) -> Document:
            api = find_api(records, scope, api_id)
            return self.add(records, api, route_key, given, effects)

        return wire(await self._service.write(work))

    def add(
        self,
        records: RecordStore,
        api: ApiRecord,
        route_key: str,
        given: Document,
        effects: Effects,
    ) -> Document:
        """Check and store a new route, then redeploy."""
        check_route_key(records, api, route_key, "")
        document = checked_route(records, api, {**given, "RouteKey": route_key})
        route_id = self._service.new_id(ROUTE_ID_LENGTH)
        document["RouteId"] = route_id
        ROUTES.create(records, api_scope(api.api_id), route_id, document)
        self._redeploy(records, api, effects)
        return document

    async def get_route(self, context: RequestContext, params: Params) -> Result:
        return await get_child(self._service, context, params, "RouteId", find_route)

    async def get_routes(self, context: RequestContext, params: Params) -> Result:
        return await get_children(self._service, context, params, ROUTES, "RouteId")

    async def update_route(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        route_id = validation.required(params, "RouteId")
        given = _given(params)

        def work(records: RecordStore, effects: Effects) -> Document:
            api = find_api(records, scope, api_id)
            existing = find_route(records, api_id, route_id)
            if "RouteKey" in given and given["RouteKey"] != existing["RouteKey"]:
                check_route_key(records, api, validation.required(given, "RouteKey"), route_id)
            document = checked_route(records, api, _merge_update(existing, given))
            ROUTES.put(records, api_scope(api_id), route_id, document)
            self._redeploy(records, api, effects)
            return document

        return wire(await self._service.write(work))

    async def delete_route(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        route_id = validation.required(params, "RouteId")

        def work(records: RecordStore, effects: Effects) -> None:
            api = find_api(records, scope, api_id)
            find_route(records, api_id, route_id)
            ROUTES.delete(records, api_scope(api_id), route_id)
            for response in ROUTE_RESPONSES.list(records, api_scope(api_id), prefix=f"{route_id}:"):
                ROUTE_RESPONSES.delete(records, api_scope(api_id), response.name)
            self._redeploy(records, api, effects)

        await self._service.write(work)
        return {}

    async def delete_route_request_parameter(
        self, context: RequestContext, params: Params
    ) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        route_id = validation.required(params, "RouteId")
        key = validation.required(params, "RequestParameterKey")

        def work(records: RecordStore, effects: Effects) -> None:
            api = find_api(records, scope, api_id)
            route = find_route(records, api_id, route_id)
            if api.is_http:
                raise BadRequestException(REQUEST_PARAMETERS_HTTP)
            parameters = dict(route.get("RequestParameters") or {})
            parameters.pop(key, None)
            changed = {**route, "RequestParameters": parameters}
            if not parameters:
                changed.pop("RequestParameters")
            ROUTES.put(records, api_scope(api_id), route_id, changed)
            self._redeploy(records, api, effects)

        await self._service.write(work)
        return {}

    # -- route responses (WebSocket APIs) ----------------------------------------------------

    def _websocket_route(
        self, records: RecordStore, context: RequestContext, params: Params
    ) -> tuple[ApiRecord, Document]:
        api = find_api(records, scope_of(context), validation.required(params, "ApiId"))
        route = find_route(records, api.api_id, validation.required(params, "RouteId"))
        if api.is_http:
            raise BadRequestException(ROUTE_RESPONSES_HTTP)
        return api, route

    async def create_route_response(self, context: RequestContext, params: Params) -> Result:
        key = validation.required(params, "RouteResponseKey")
        given = _route_response(params)

        def work(records: RecordStore, effects: Effects) -> Document:
            api, route = self._websocket_route(records, context, params)
            response_id = self._service.new_id(ROUTE_RESPONSE_ID_LENGTH)
            document = {**given, "RouteResponseKey": key, "RouteResponseId": response_id}
            name = f"{route['RouteId']}:{response_id}"
            ROUTE_RESPONSES.create(records, api_scope(api.api_id), name, document)
            return document

        return wire(await self._service.write(work))

    async def get_route_response(self, context: RequestContext, params: Params) -> Result:
        response_id = validation.required(params, "RouteResponseId")

        def work(records: RecordStore) -> Document:
            api, route = self._websocket_route(records, context, params)
            return _find_response(records, api, route, response_id)

        return wire(await self._service.read(work))

    async def get_route_responses(self, context: RequestContext, params: Params) -> Result:
        def work(records: RecordStore) -> list[Document]:
            api, route = self._websocket_route(records, context, params)
            prefix = f"{route['RouteId']}:"
            found = ROUTE_RESPONSES.list(records, api_scope(api.api_id), prefix=prefix)
            return [item.value for item in found]

        items, token = paging.page(
            await self._service.read(work), lambda item: str(item["RouteResponseId"]), params
        )
        return {"Items": [wire(item) for item in items], "NextToken": token}

    async def update_route_response(self, context: RequestContext, params: Params) -> Result:
        response_id = validation.required(params, "RouteResponseId")
        given = _route_response(params)
        key = validation.bounded(params, "RouteResponseKey", 128)

        def work(records: RecordStore, effects: Effects) -> Document:
            api, route = self._websocket_route(records, context, params)
            existing = _find_response(records, api, route, response_id)
            document = {**existing, **given, **({"RouteResponseKey": key} if key else {})}
            name = f"{route['RouteId']}:{response_id}"
            ROUTE_RESPONSES.put(records, api_scope(api.api_id), name, document)
            return document

        return wire(await self._service.write(work))

    async def delete_route_response(self, context: RequestContext, params: Params) -> Result:
        response_id = validation.required(params, "RouteResponseId")

        def work(records: RecordStore, effects: Effects) -> None:
            api, route = self._websocket_route(records, context, params)
            _find_response(records, api, route, response_id)
            name = f"{route['RouteId']}:{response_id}"
            ROUTE_RESPONSES.delete(records, api_scope(api.api_id), name)

        await self._service.write(work)
        return {}


def _route_response(params: Params) -> Document:
    members = ("ModelSelectionExpression", "ResponseModels", "ResponseParameters")
    return {member: params[member] for member in members if params.get(member) is not None}


def _find_response(
    records: RecordStore, api: ApiRecord, route: Document, response_id: str
) -> Document:
    name = f"{route['RouteId']}:{response_id}"
    found = ROUTE_RESPONSES.get(records, api_scope(api.api_id), name)
    if found is None:
        raise route_response_not_found(response_id)
    return found.value
