"""Stages and deployments: Create/Get/GetStages/Update/DeleteStage, DeleteAccessLogSettings,
DeleteRouteSettings; Create/Get/GetDeployments/Update/DeleteDeployment.

A stage serves the deployment its DeploymentId names; an AutoDeploy stage is deployed when it
is created or switched to AutoDeploy, and again after every change to the API
(`deployments.redeploy`). Its own settings (variables, throttling, access logs) take effect
at once: each change republishes the API. Deleting a stage deletes the API mappings to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from portico.aws.handler import Operation, RequestContext
from portico.services.apigatewayv2 import paging, validation
from portico.services.apigatewayv2.deployments import (
    Effects,
    auto_deploy_stage,
    deploy,
    point_stage,
)
from portico.services.apigatewayv2.domains import delete_mappings_to
from portico.services.apigatewayv2.errors import (
    BadRequestException,
    ConflictException,
    NotFoundException,
)
from portico.services.apigatewayv2.repository import (
    DEPLOYMENTS,
    ROUTES,
    STAGES,
    ApiRecord,
    Document,
    all_of,
    api_scope,
    find_api,
    find_deployment,
    find_stage,
    stages_of,
    wire,
)
from portico.services.apigatewayv2.service import Params, Result, Service, scope_of
from portico.services.apigatewayv2.stage_settings import (
    check_access_log_settings,
    check_route_settings,
    check_stage_name,
    check_stage_variables,
)
from portico.store import RecordStore

STAGE_EXISTS = "Stage already exists"
DEPLOYMENT_IN_USE = "Active stages pointing to this deployment must be moved or deleted"
AUTO_DEPLOY_WITH_DEPLOYMENT = (
    "A DeploymentId cannot be given to a stage with AutoDeploy enabled: its deployments are "
    "made automatically."
)


def _route_not_in_settings(route_key: str) -> NotFoundException:
    return NotFoundException(
        f"Unable to find Route by key {route_key} within the provided RouteSettings"
    )


def _checked_route_settings(
    records: RecordStore, api: ApiRecord, given: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    keys = {str(route["RouteKey"]) for route in all_of(ROUTES, records, api.api_id)}
    checked: dict[str, dict[str, Any]] = {}
    for route_key, settings in given.items():
        if route_key not in keys:
            raise _route_not_in_settings(route_key)
        if not isinstance(settings, dict):
            raise BadRequestException("Invalid input: RouteSettings must map to objects.")
        checked[route_key] = check_route_settings(settings, http=api.is_http)
    return checked


def _variables(params: Params) -> dict[str, str] | None:
    variables = validation.string_map(params, "StageVariables")
    if variables:
        check_stage_variables({k: v for k, v in variables.items() if v != ""})
    return variables


def _settings(params: Params, api: ApiRecord) -> dict[str, Any] | None:
    settings = validation.structure(params, "DefaultRouteSettings")
    return None if settings is None else check_route_settings(settings, http=api.is_http)


def _access_logs(params: Params) -> dict[str, Any] | None:
    settings = validation.structure(params, "AccessLogSettings")
    return None if settings is None else check_access_log_settings(settings)


class StageOperations:
    def __init__(self, service: Service) -> None:
        self._service = service

    def operations(self) -> Mapping[str, Operation]:
        return {
            "CreateStage": self.create_stage,
            "GetStage": self.get_stage,
            "GetStages": self.get_stages,
            "UpdateStage": self.update_stage,
            "DeleteStage": self.delete_stage,
            "DeleteAccessLogSettings": self.delete_access_log_settings,
            "DeleteRouteSettings": self.delete_route_settings,
            "CreateDeployment": self.create_deployment,
            "GetDeployment": self.get_deployment,
            "GetDeployments": self.get_deployments,
            "UpdateDeployment": self.update_deployment,
            "DeleteDeployment": self.delete_deployment,
        }

    # -- stages ------------------------------------------------------------------------------

    async def create_stage(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        name = check_stage_name(validation.required(params, "StageName"))
        auto = bool(validation.boolean(params, "AutoDeploy"))
        deployment_id = validation.string(params, "DeploymentId")
        tags = validation.tags(params) or {}
        variables = _variables(params) or {}
        access_logs = _access_logs(params)
        description = validation.string(params, "Description", max_length=1024)
        if auto and deployment_id:
            raise BadRequestException(AUTO_DEPLOY_WITH_DEPLOYMENT)

        def work(records: RecordStore, effects: Effects) -> Document:
            api = find_api(records, scope, api_id)
            if STAGES.get(records, api_scope(api_id), name) is not None:
                raise ConflictException(STAGE_EXISTS)
            now = self._service.now()
            document: Document = {
                "StageName": name,
                "CreatedDate": now,
                "LastUpdatedDate": now,
                "AutoDeploy": auto,
                "DefaultRouteSettings": {
                    "DetailedMetricsEnabled": False,
                    **(_settings(params, api) or {}),
                },
                "RouteSettings": _checked_route_settings(
                    records, api, validation.structure(params, "RouteSettings") or {}
                ),
                "StageVariables": {k: v for k, v in variables.items() if v != ""},
                "Tags": tags,
            }
            if description is not None:
                document["Description"] = description
            if access_logs:
                document["AccessLogSettings"] = access_logs
            client_certificate = validation.string(params, "ClientCertificateId")
            if client_certificate and not api.is_http:
                document["ClientCertificateId"] = client_certificate
            if deployment_id:
                find_deployment(records, api_id, deployment_id)
                document["DeploymentId"] = deployment_id
            if auto:
                document = auto_deploy_stage(records, api, document, now, self._service.new_id)
            STAGES.create(records, api_scope(api_id), name, document)
            if document.get("DeploymentId"):
                effects.apis.add(api_id)
            return document

        return wire(await self._service.write(work))

    async def get_stage(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        name = validation.required(params, "StageName")

        def work(records: RecordStore) -> Document:
            find_api(records, scope, api_id)
            return find_stage(records, api_id, name)

        return wire(await self._service.read(work))

    async def get_stages(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")

        def work(records: RecordStore) -> list[Document]:
            find_api(records, scope, api_id)
            return stages_of(records, api_id)

        items, token = paging.page(
            await self._service.read(work), lambda item: str(item["StageName"]), params
        )
        return {"Items": [wire(item) for item in items], "NextToken": token}

    async def update_stage(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        name = validation.required(params, "StageName")
        auto = validation.boolean(params, "AutoDeploy")
        deployment_id = validation.string(params, "DeploymentId")
        _variables(params)
        access_logs = _access_logs(params)
        description = validation.string(params, "Description", max_length=1024)

        def work(records: RecordStore, effects: Effects) -> Document:
            api = find_api(records, scope, api_id)
            existing = find_stage(records, api_id, name)
            now = self._service.now()
            document = {**existing, "LastUpdatedDate": now}
            if description is not None:
                document["Description"] = description
            if auto is not None:
                document["AutoDeploy"] = auto
            if deployment_id:
                if document.get("AutoDeploy"):
                    raise BadRequestException(AUTO_DEPLOY_WITH_DEPLOYMENT)
                find_deployment(records, api_id, deployment_id)
                document["DeploymentId"] = deployment_id
            document.update(self._changed_settings(records, api, existing, params))
            if access_logs is not None:
                document.pop("AccessLogSettings", None)
                document.update({"AccessLogSettings": access_logs} if access_logs else {})
            if document.get("AutoDeploy") and not existing.get("AutoDeploy"):
                document = auto_deploy_stage(records, api, document, now, self._service.new_id)
            STAGES.put(records, api_scope(api_id), name, document)
            if document.get("DeploymentId") or existing.get("DeploymentId"):
                effects.apis.add(api_id)
            return document

        return wire(await self._service.write(work))

    def _changed_settings(
        self, records: RecordStore, api: ApiRecord, existing: Document, params: Params
    ) -> Document:
        """StageVariables ("" removes one), DefaultRouteSettings and RouteSettings (by route
        key) merged onto the stage's."""
        changed: Document = {}
        variables = _variables(params)
        if variables is not None:
            merged_variables = {**existing.get("StageVariables", {}), **variables}
            changed["StageVariables"] = {k: v for k, v in merged_variables.items() if v != ""}
            check_stage_variables(changed["StageVariables"])
        defaults = _settings(params, api)
        if defaults is not None:
            changed["DefaultRouteSettings"] = {
                **existing.get("DefaultRouteSettings", {}),
                **defaults,
            }
        given = validation.structure(params, "RouteSettings")
        if given is not None:
            merged = dict(existing.get("RouteSettings", {}))
            for route_key, settings in _checked_route_settings(records, api, given).items():
                merged[route_key] = {**merged.get(route_key, {}), **settings}
            changed["RouteSettings"] = merged
        return changed

    async def delete_stage(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        name = validation.required(params, "StageName")

        def work(records: RecordStore, effects: Effects) -> None:
            find_api(records, scope, api_id)
            stage = find_stage(records, api_id, name)
            STAGES.delete(records, api_scope(api_id), name)
            if stage.get("DeploymentId"):
                effects.apis.add(api_id)
            if delete_mappings_to(records, scope, api_id, name):
                effects.domains = True

        await self._service.write(work)
        return {}

    async def delete_access_log_settings(self, context: RequestContext, params: Params) -> Result:
        await self._change_stage(
            context, params, lambda stage: _without(stage, "AccessLogSettings")
        )
        return {}

    async def delete_route_settings(self, context: RequestContext, params: Params) -> Result:
        route_key = validation.required(params, "RouteKey")

        def change(stage: Document) -> Document:
            settings = dict(stage.get("RouteSettings", {}))
            if settings.pop(route_key, None) is None:
                raise _route_not_in_settings(route_key)
            return {**stage, "RouteSettings": settings}

        await self._change_stage(context, params, change)
        return {}

    async def _change_stage(
        self,
        context: RequestContext,
        params: Params,
        change: Callable[[Document], Document],
    ) -> None:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        name = validation.required(params, "StageName")

        def work(records: RecordStore, effects: Effects) -> None:
            find_api(records, scope, api_id)
            stage = find_stage(records, api_id, name)
            changed = {**change(stage), "LastUpdatedDate": self._service.now()}
            STAGES.put(records, api_scope(api_id), name, changed)
            if changed.get("DeploymentId"):
                effects.apis.add(api_id)

        await self._service.write(work)

    # -- deployments -------------------------------------------------------------------------

    async def create_deployment(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        stage_name = validation.bounded(params, "StageName", 128)
        description = validation.string(params, "Description", max_length=1024)

        def work(records: RecordStore, effects: Effects) -> Document:
            api = find_api(records, scope, api_id)
            stage = None if stage_name is None else find_stage(records, api_id, stage_name)
            now = self._service.now()
            deployment = deploy(records, api, now, self._service.new_id, description=description)
            if stage is not None:
                deployment_id = deployment.document["DeploymentId"]
                STAGES.put(
                    records,
                    api_scope(api_id),
                    stage_name or "",
                    point_stage(stage, deployment_id, now),
                )
                effects.apis.add(api_id)
            return deployment.document

        return wire(await self._service.write(work))

    async def get_deployment(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        deployment_id = validation.required(params, "DeploymentId")

        def work(records: RecordStore) -> Document:
            find_api(records, scope, api_id)
            return find_deployment(records, api_id, deployment_id).document

        return wire(await self._service.read(work))

    async def get_deployments(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")

        def work(records: RecordStore) -> list[Document]:
            find_api(records, scope, api_id)
            return [item.value.document for item in DEPLOYMENTS.list(records, api_scope(api_id))]

        items, token = paging.page(
            await self._service.read(work), lambda item: str(item["DeploymentId"]), params
        )
        return {"Items": [wire(item) for item in items], "NextToken": token}

    async def update_deployment(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        deployment_id = validation.required(params, "DeploymentId")
        description = validation.string(params, "Description", max_length=1024)

        def work(records: RecordStore, effects: Effects) -> Document:
            find_api(records, scope, api_id)
            record = find_deployment(records, api_id, deployment_id)
            document = dict(record.document)
            if description is not None:
                document["Description"] = description
            changed = dataclasses.replace(record, document=document)
            DEPLOYMENTS.put(records, api_scope(api_id), deployment_id, changed)
            return document

        return wire(await self._service.write(work))

    async def delete_deployment(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        deployment_id = validation.required(params, "DeploymentId")

        def work(records: RecordStore, effects: Effects) -> None:
            find_api(records, scope, api_id)
            find_deployment(records, api_id, deployment_id)
            if any(s.get("DeploymentId") == deployment_id for s in stages_of(records, api_id)):
                raise BadRequestException(DEPLOYMENT_IN_USE)
            DEPLOYMENTS.delete(records, api_scope(api_id), deployment_id)

        await self._service.write(work)
        return {}


def _without(document: Document, member: str) -> Document:
    return {key: value for key, value in document.items() if key != member}
