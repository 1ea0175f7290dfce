"""ExportApi, ImportApi and ReimportApi: HTTP APIs to and from OpenAPI 3.0 definitions.

    ExportApi    the API as it is (or as a stage's deployment froze it) --openapi_export-->
                 the definition, JSON or YAML
    ImportApi    a definition --openapi_import.plan_import--> a plan, carried out in one
                 transaction: the API, its authorizers, integrations and routes
    ReimportApi  the same plan replaces an API's authorizers, integrations and routes (its
                 stages and deployments stay; AutoDeploy stages are deployed anew)

Every planned resource goes through the same checks as its Create operation.
"""

from __future__ import annotations

from collections.abc import Mapping

from portico.aws.handler import Operation, RequestContext
from portico.services.apigatewayv2 import validation
from portico.services.apigatewayv2.apis import checked_api_members, create_api_record
from portico.services.apigatewayv2.authorizers import checked_authorizer
from portico.services.apigatewayv2.deployments import Effects, redeploy, snapshot
from portico.services.apigatewayv2.errors import BadRequestException
from portico.services.apigatewayv2.identifiers import (
    AUTHORIZER_ID_LENGTH,
    INTEGRATION_ID_LENGTH,
    ROUTE_ID_LENGTH,
)
from portico.services.apigatewayv2.integrations import (
    check_integration_count,
    checked_integration,
    target_of,
)
from portico.services.apigatewayv2.openapi_export import export_api, render_export
from portico.services.apigatewayv2.openapi_import import ImportPlan, plan_import
from portico.services.apigatewayv2.repository import (
    APIS,
    AUTHORIZERS,
    GLOBAL_SCOPE,
    INTEGRATIONS,
    ROUTE_RESPONSES,
    ROUTES,
    ApiRecord,
    Document,
    Snapshot,
    api_scope,
    find_api,
    find_deployment,
    find_stage,
    wire,
)
from portico.services.apigatewayv2.routes import check_route_key, checked_route
from portico.services.apigatewayv2.service import Params, Result, Service, scope_of
from portico.store import RecordStore

_REPLACED = (ROUTE_RESPONSES, ROUTES, INTEGRATIONS, AUTHORIZERS)


class OpenApiOperations:
    def __init__(self, service: Service) -> None:
        self._service = service

    def operations(self) -> Mapping[str, Operation]:
        return {
            "ExportApi": self.export_api,
            "ImportApi": self.import_api,
            "ReimportApi": self.reimport_api,
        }

    async def export_api(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        stage_name = validation.string(params, "StageName")

        def work(records: RecordStore) -> tuple[Snapshot, Document | None]:
            api = find_api(records, scope, api_id)
            if not api.is_http:
                raise BadRequestException("Only HTTP APIs can be exported.")
            if stage_name is None:
                return snapshot(records, api), None
            stage = find_stage(records, api_id, stage_name)
            deployment_id = stage.get("DeploymentId")
            if not deployment_id:
                raise BadRequestException(f"The stage {stage_name} has no deployment to export.")
            return find_deployment(records, api_id, deployment_id).snapshot, stage

        frozen, stage = await self._service.read(work)
        api = self._service.api_output(ApiRecord(scope.account_id, scope.region, frozen.api))
        document = export_api(
            api,
            [wire(route) for route in frozen.routes],
            [wire(item) for item in frozen.integrations],
            [wire(item) for item in frozen.authorizers],
            stage=None if stage is None else wire(stage),
            include_extensions=params.get("IncludeExtensions") is not False,
            specification=validation.required(params, "Specification"),
        )
        return {"body": render_export(document, validation.required(params, "OutputType"))}

    async def import_api(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        plan = self._plan(params)
        members = checked_api_members(plan.api, "HTTP")

        def work(records: RecordStore, effects: Effects) -> ApiRecord:
            api = create_api_record(
                records,
                scope,
                self._service.new_id,
                self._service.now(),
                {**members, **_reports(plan)},
            )
            self._build(records, api, plan)
            return api

        return self._service.api_output(await self._service.write(work))

    async def reimport_api(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        plan = self._plan(params)
        members = checked_api_members(plan.api, "HTTP")

        def work(records: RecordStore, effects: Effects) -> ApiRecord:
            api = find_api(records, scope, api_id)
            if not api.is_http:
                raise BadRequestException("Only HTTP APIs can be reimported.")
            kept = {
                key: value
                for key, value in api.document.items()
                if key not in ("CorsConfiguration", "Description", "Version", "Warnings")
                and key != "ImportInfo"
            }
            changed = api.changed({**kept, **members, **_reports(plan)})
            APIS.put(records, GLOBAL_SCOPE, api_id, changed)
            records.delete_scope(api_scope(api_id), kinds=[kind.kind for kind in _REPLACED])
            self._build(records, changed, plan)
            redeploy(records, changed, self._service.now(), self._service.new_id, effects)
            effects.apis.add(api_id)  # DisableExecuteApiEndpoint may have changed
            return changed

        return self._service.api_output(await self._service.write(work))

    def _plan(self, params: Params) -> ImportPlan:
        return plan_import(
            validation.required(params, "Body"),
            basepath=validation.string(params, "Basepath"),
            fail_on_warnings=bool(validation.boolean(params, "FailOnWarnings")),
        )

    def _build(self, records: RecordStore, api: ApiRecord, plan: ImportPlan) -> None:
        """The plan's authorizers, integrations and routes, each checked as if created."""
        scope = api_scope(api.api_id)
        authorizer_ids: dict[str, str] = {}
        for planned in plan.authorizers:
            authorizer = checked_authorizer(dict(planned.request), websocket=False)
            authorizer_id = self._service.new_id(AUTHORIZER_ID_LENGTH)
            AUTHORIZERS.create(
                records, scope, authorizer_id, {**authorizer, "AuthorizerId": authorizer_id}
            )
            authorizer_ids[planned.name] = authorizer_id
        integration_ids: list[str] = []
        check_integration_count(len(plan.integrations))
        for planned_integration in plan.integrations:
            integration = checked_integration(dict(planned_integration.request), websocket=False)
            integration_id = self._service.new_id(INTEGRATION_ID_LENGTH)
            INTEGRATIONS.create(
                records, scope, integration_id, {**integration, "IntegrationId": integration_id}
            )
            integration_ids.append(integration_id)
        for planned_route in plan.routes:
            request = dict(planned_route.request)
            if planned_route.integration is not None:
                request["Target"] = target_of(integration_ids[planned_route.integration])
            if planned_route.authorizer is not None:
                request["AuthorizerId"] = authorizer_ids[planned_route.authorizer]
            route_key = validation.required(request, "RouteKey")
            check_route_key(records, api, route_key, "")
            route = checked_route(records, api, request)
            route_id = self._service.new_id(ROUTE_ID_LENGTH)
            ROUTES.create(records, scope, route_id, {**route, "RouteId": route_id})


def _reports(plan: ImportPlan) -> Document:
    reports: Document = {}
    if plan.warnings:
        reports["Warnings"] = list(plan.warnings)
    if plan.import_info:
        reports["ImportInfo"] = list(plan.import_info)
    return reports
