"""APIs: CreateApi (with quick create), GetApi, GetApis, UpdateApi, DeleteApi,
DeleteCorsConfiguration.

Quick create, as AWS documents it: CreateApi with a `Target` (a function ARN or an http(s)
URL) also makes, all managed by API Gateway,

    an integration   AWS_PROXY (payload 2.0) for a function, HTTP_PROXY (ANY) for a URL
    a route          RouteKey (default `$default`) targeting it
    a stage          `$default`, AutoDeploy, deployed at once

and UpdateApi's Target / RouteKey / CredentialsArn change that integration and route.
DeleteApi takes the API's resources and the custom-domain mappings to it along.
"""

from __future__ import annotations

from collections.abc import Mapping

from portico.aws.handler import Operation, RequestContext
from portico.services.apigatewayv2 import paging, validation
from portico.services.apigatewayv2.cors import check_cors
from portico.services.apigatewayv2.deployments import Effects, auto_deploy_stage, redeploy
from portico.services.apigatewayv2.domains import delete_mappings_to
from portico.services.apigatewayv2.errors import BadRequestException
from portico.services.apigatewayv2.identifiers import (
    API_ID_LENGTH,
    INTEGRATION_ID_LENGTH,
    ROUTE_ID_LENGTH,
    NewId,
)
from portico.services.apigatewayv2.integrations import (
    check_credentials,
    integration_id_of,
    quick_integration,
)
from portico.services.apigatewayv2.repository import (
    APIS,
    GLOBAL_SCOPE,
    INTEGRATIONS,
    ROUTES,
    STAGES,
    ApiRecord,
    Document,
    Scope,
    all_of,
    api_scope,
    find_api,
)
from portico.services.apigatewayv2.route_keys import DEFAULT_ROUTE
from portico.services.apigatewayv2.routes import check_route_key, quick_route
from portico.services.apigatewayv2.service import Params, Result, Service, scope_of
from portico.services.apigatewayv2.stage_settings import DEFAULT_STAGE
from portico.store import RecordStore

PROTOCOLS = ("HTTP", "WEBSOCKET")
HTTP_ROUTE_SELECTION = "$request.method $request.path"
HTTP_ROUTE_SELECTIONS = (HTTP_ROUTE_SELECTION, "${request.method} ${request.path}")
API_KEY_SELECTIONS = ("$request.header.x-api-key", "$context.authorizer.usageIdentifierKey")
IP_ADDRESS_TYPES = ("ipv4", "dualstack")
QUICK_CREATE = ("Target", "RouteKey", "CredentialsArn")
NOT_QUICK_CREATED = (
    "Target, RouteKey and CredentialsArn update the resources quick create made, and this "
    "API was not quick created."
)


def checked_api_members(params: Params, protocol: str) -> Document:
    """The API document members a Create or Update request gives, checked."""
    http = protocol == "HTTP"
    members: Document = {
        "Name": validation.bounded(params, "Name", 128),
        "Description": validation.string(params, "Description", max_length=1024),
        "Version": validation.bounded(params, "Version", 64),
        "DisableExecuteApiEndpoint": validation.boolean(params, "DisableExecuteApiEndpoint"),
        "DisableSchemaValidation": validation.boolean(params, "DisableSchemaValidation"),
        "RouteSelectionExpression": _route_selection(params, http),
        "ApiKeySelectionExpression": validation.choice(
            params, "ApiKeySelectionExpression", API_KEY_SELECTIONS, "API key selection expression"
        ),
        "IpAddressType": validation.choice(
            params, "IpAddressType", IP_ADDRESS_TYPES, "IP address type"
        ),
    }
    cors = validation.structure(params, "CorsConfiguration")
    if cors is not None:
        if not http:
            raise BadRequestException("CorsConfiguration is supported only for HTTP APIs.")
        members["CorsConfiguration"] = check_cors(cors)
    if not http and any(params.get(member) is not None for member in QUICK_CREATE):
        raise BadRequestException("Quick create is supported only for HTTP APIs.")
    return {member: value for member, value in members.items() if value is not None}


def _route_selection(params: Params, http: bool) -> str | None:
    selection = validation.string(params, "RouteSelectionExpression", max_length=1024)
    if selection is not None and http and selection not in HTTP_ROUTE_SELECTIONS:
        raise BadRequestException(
            f"Unsupported route selection expression for HTTP APIs: {selection}. It must "
            f"be {HTTP_ROUTE_SELECTION}."
        )
    return selection


def _quick_target(params: Params) -> tuple[str | None, str | None, str | None]:
    target = validation.bounded(params, "Target", 2048)
    route_key = validation.bounded(params, "RouteKey", 1024)
    credentials = validation.string(params, "CredentialsArn", max_length=2048)
    check_credentials(credentials)
    return target, route_key, credentials


def create_api_record(
    records: RecordStore, scope: Scope, new_id: NewId, now: float, members: Document
) -> ApiRecord:
    """Store a new API under an unused id: AWS's defaults, then `members` over them."""
    api_id = new_id(API_ID_LENGTH)
    while APIS.get(records, GLOBAL_SCOPE, api_id) is not None:
        api_id = new_id(API_ID_LENGTH)
    document: Document = {
        "ApiId": api_id,
        "ApiKeySelectionExpression": API_KEY_SELECTIONS[0],
        "CreatedDate": now,
        "DisableExecuteApiEndpoint": False,
        "IpAddressType": "ipv4",
        "ProtocolType": "HTTP",
        "RouteSelectionExpression": HTTP_ROUTE_SELECTION,
        "Tags": {},
        **members,
    }
    api = ApiRecord(scope.account_id, scope.region, document)
    APIS.create(records, GLOBAL_SCOPE, api_id, api)
    return api


class ApiOperations:
    def __init__(self, service: Service) -> None:
        self._service = service

    def operations(self) -> Mapping[str, Operation]:
        return {
            "CreateApi": self.create_api,
            "GetApi": self.get_api,
            "GetApis": self.get_apis,
            "UpdateApi": self.update_api,
            "DeleteApi": self.delete_api,
            "DeleteCorsConfiguration": self.delete_cors_configuration,
        }

    async def create_api(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        validation.required(params, "Name")
        protocol = validation.choice(params, "ProtocolType", PROTOCOLS, "protocol")
        if protocol is None:
            raise BadRequestException("ProtocolType is required.")
        members = checked_api_members(params, protocol)
        if protocol == "WEBSOCKET" and "RouteSelectionExpression" not in members:
            raise BadRequestException("RouteSelectionExpression is required for WebSocket APIs.")
        tags = validation.tags(params) or {}
        target, route_key, credentials = _quick_target(params)
        if target is None and (route_key is not None or credentials is not None):
            raise BadRequestException("RouteKey and CredentialsArn need a Target (quick create).")
        integration = None if target is None else quick_integration(target, credentials)
        route = None if target is None else quick_route(route_key or DEFAULT_ROUTE, "")

        def work(records: RecordStore, effects: Effects) -> ApiRecord:
            now = self._service.now()
            given = {"ProtocolType": protocol, "Tags": tags, **members}
            api = create_api_record(records, scope, self._service.new_id, now, given)
            if integration is not None and route is not None:
                self._quick_create(records, api, integration, route, now)
                effects.apis.add(api.api_id)
            return api

        return self._service.api_output(await self._service.write(work))

    def _quick_create(
        self,
        records: RecordStore,
        api: ApiRecord,
        integration: Document,
        route: Document,
        now: float,
    ) -> None:
        scope = api_scope(api.api_id)
        integration_id = self._service.new_id(INTEGRATION_ID_LENGTH)
        INTEGRATIONS.create(
            records, scope, integration_id, {**integration, "IntegrationId": integration_id}
        )
        route_id = self._service.new_id(ROUTE_ID_LENGTH)
        target = f"integrations/{integration_id}"
        ROUTES.create(records, scope, route_id, {**route, "RouteId": route_id, "Target": target})
        stage: Document = {
            "ApiGatewayManaged": True,
            "AutoDeploy": True,
            "CreatedDate": now,
            "DefaultRouteSettings": {"DetailedMetricsEnabled": False},
            "LastUpdatedDate": now,
            "RouteSettings": {},
            "StageName": DEFAULT_STAGE,
            "StageVariables": {},
            "Tags": {},
        }
        stage = auto_deploy_stage(records, api, stage, now, self._service.new_id)
        STAGES.create(records, scope, DEFAULT_STAGE, stage)

    async def get_api(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        api = await self._service.read(lambda records: find_api(records, scope, api_id))
        return self._service.api_output(api)

    async def get_apis(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)

        def work(records: RecordStore) -> list[ApiRecord]:
            found = (item.value for item in APIS.list(records, GLOBAL_SCOPE))
            return [api for api in found if (api.account_id, api.region) == _key(scope)]

        items, token = paging.page(await self._service.read(work), lambda api: api.api_id, params)
        return {"Items": [self._service.api_output(api) for api in items], "NextToken": token}

    async def update_api(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        target, route_key, credentials = _quick_target(params)

        def work(records: RecordStore, effects: Effects) -> ApiRecord:
            api = find_api(records, scope, api_id)
            members = checked_api_members(params, api.protocol)
            changed = api.changed({**api.document, **members})
            APIS.put(records, GLOBAL_SCOPE, api_id, changed)
            if target is not None or route_key is not None or credentials is not None:
                self._update_quick_created(records, changed, target, route_key, credentials)
            redeploy(records, changed, self._service.now(), self._service.new_id, effects)
            if changed.document.get("DisableExecuteApiEndpoint") != api.document.get(
                "DisableExecuteApiEndpoint"
            ):
                effects.apis.add(api_id)
            return changed

        return self._service.api_output(await self._service.write(work))

    def _update_quick_created(
        self,
        records: RecordStore,
        api: ApiRecord,
        target: str | None,
        route_key: str | None,
        credentials: str | None,
    ) -> None:
        scope = api_scope(api.api_id)
        managed = [
            route for route in all_of(ROUTES, records, api.api_id) if route.get("ApiGatewayManaged")
        ]
        if not managed:
            raise BadRequestException(NOT_QUICK_CREATED)
        route = managed[0]
        integration_id = integration_id_of(route.get("Target")) or ""
        found = INTEGRATIONS.get(records, scope, integration_id)
        if found is None:
            raise BadRequestException(NOT_QUICK_CREATED)
        if target is not None or credentials is not None:
            current = found.value
            replaced = quick_integration(
                target or str(current["IntegrationUri"]),
                credentials if credentials is not None else current.get("CredentialsArn"),
            )
            INTEGRATIONS.put(
                records, scope, integration_id, {**replaced, "IntegrationId": integration_id}
            )
        if route_key is not None and route_key != route["RouteKey"]:
            check_route_key(records, api, route_key, str(route["RouteId"]))
            ROUTES.put(records, scope, str(route["RouteId"]), {**route, "RouteKey": route_key})

    async def delete_api(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")

        def work(records: RecordStore, effects: Effects) -> None:
            api = find_api(records, scope, api_id)
            records.delete_scope(api_scope(api_id))
            APIS.delete(records, GLOBAL_SCOPE, api_id)
            if api.is_http:
                effects.withdrawn.add(api_id)
            if delete_mappings_to(records, scope, api_id):
                effects.domains = True

        await self._service.write(work)
        return {}

    async def delete_cors_configuration(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")

        def work(records: RecordStore, effects: Effects) -> None:
            api = find_api(records, scope, api_id)
            document = {k: v for k, v in api.document.items() if k != "CorsConfiguration"}
            changed = api.changed(document)
            APIS.put(records, GLOBAL_SCOPE, api_id, changed)
            redeploy(records, changed, self._service.now(), self._service.new_id, effects)

        await self._service.write(work)
        return {}


def _key(scope: Scope) -> tuple[str, str]:
    return scope.account_id, scope.region
