"""Deploying an API: freezing its configuration and pointing stages at it.

    CreateDeployment [StageName]  ──► Snapshot(api, routes, integrations, authorizers)
                                      └─► the stage's DeploymentId
    any change to an API's routes, integrations, authorizers or API document
                                  ──► redeploy(): every AutoDeploy stage gets a deployment of
                                      its own (AutoDeployed: true), in the same transaction

A stage serves the snapshot its DeploymentId names, never the live configuration; what the
gateway must serve anew is collected in `Effects` and published once the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portico.services.apigatewayv2.errors import NO_ROUTES, BadRequestException
from portico.services.apigatewayv2.identifiers import DEPLOYMENT_ID_LENGTH, NewId
from portico.services.apigatewayv2.repository import (
    AUTHORIZERS,
    DEPLOYMENTS,
    INTEGRATIONS,
    ROUTES,
    STAGES,
    ApiRecord,
    DeploymentRecord,
    Document,
    Snapshot,
    all_of,
    api_scope,
    stages_of,
)
from portico.store import RecordStore

AUTO_DEPLOY_DESCRIPTION = "Automatic deployment triggered by changes to the Api configuration"
DEPLOYED_STATUS = "Successfully deployed stage with deployment ID {}"
FAILED_STATUS = "Deployment attempt failed: {}"


@dataclass
class Effects:
    """What a write changed in what is served, to publish after it commits."""

    apis: set[str] = field(default_factory=set)  # republish these APIs' deployed stages
    withdrawn: set[str] = field(default_factory=set)  # these APIs are gone
    domains: bool = False  # the custom-domain mappings changed


def snapshot(records: RecordStore, api: ApiRecord) -> Snapshot:
    api_id = api.api_id
    return Snapshot(
        api=dict(api.document),
        routes=tuple(all_of(ROUTES, records, api_id)),
        integrations=tuple(all_of(INTEGRATIONS, records, api_id)),
        authorizers=tuple(all_of(AUTHORIZERS, records, api_id)),
    )


def deploy(
    records: RecordStore,
    api: ApiRecord,
    now: float,
    new_id: NewId,
    *,
    description: str | None = None,
    auto: bool = False,
) -> DeploymentRecord:
    """A new deployment of the API as it is now; BadRequestException when it has no routes."""
    frozen = snapshot(records, api)
    if not frozen.routes:
        raise BadRequestException(NO_ROUTES)
    document: Document = {
        "AutoDeployed": auto,
        "CreatedDate": now,
        "DeploymentId": new_id(DEPLOYMENT_ID_LENGTH),
        "DeploymentStatus": "DEPLOYED",
    }
    if description is not None:
        document["Description"] = description
    record = DeploymentRecord(document, frozen)
    DEPLOYMENTS.create(records, api_scope(api.api_id), document["DeploymentId"], record)
    return record


def point_stage(stage: Document, deployment_id: str, now: float) -> Document:
    changed = {**stage, "DeploymentId": deployment_id, "LastUpdatedDate": now}
    if stage.get("AutoDeploy"):
        changed["LastDeploymentStatusMessage"] = DEPLOYED_STATUS.format(deployment_id)
    return changed


def auto_deploy_stage(
    records: RecordStore, api: ApiRecord, stage: Document, now: float, new_id: NewId
) -> Document:
    """The AutoDeploy `stage` deployed anew, or marked with why it could not be."""
    try:
        deployment = deploy(
            records, api, now, new_id, description=AUTO_DEPLOY_DESCRIPTION, auto=True
        )
    except BadRequestException as failed:
        return {
            **stage,
            "LastDeploymentStatusMessage": FAILED_STATUS.format(failed.message),
            "LastUpdatedDate": now,
        }
    return point_stage(stage, deployment.document["DeploymentId"], now)


def redeploy(
    records: RecordStore, api: ApiRecord, now: float, new_id: NewId, effects: Effects
) -> None:
    """After a change to `api`: every AutoDeploy stage deployed again."""
    for stage in stages_of(records, api.api_id):
        if not stage.get("AutoDeploy"):
            continue
        deployed = auto_deploy_stage(records, api, stage, now, new_id)
        STAGES.put(records, api_scope(api.api_id), stage["StageName"], deployed)
        if deployed.get("DeploymentId") != stage.get("DeploymentId"):
            effects.apis.add(api.api_id)
