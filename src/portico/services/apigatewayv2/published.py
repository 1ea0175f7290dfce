"""What the control plane hands the data plane: deployed HTTP APIs as plain data.

Every document is in the shape botocore's `apigatewayv2` model gives the matching Get
operation's output (`GetApi`, `GetStage`, `GetRoute`, `GetIntegration`, `GetAuthorizer`), as
the service would answer it — so the gateway compiles exactly what a client can read back.

    ApiGatewayV2 service --publish_api(DeployedApi)--> Publisher (the gateway's registry)
                         --withdraw_api(api_id)------>
                         --publish_domains([...])---->

A stage is served only once it has a deployment; its routes, integrations and authorizers are
those frozen in that deployment (auto-deploy stages are redeployed on every change).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Document = dict[str, Any]


@dataclass(frozen=True)
class DeployedStage:
    # GetStage: StageName, StageVariables, DefaultRouteSettings, RouteSettings,
    # AccessLogSettings, DeploymentId, ...
    stage: Document
    api: Document  # GetApi as of the deployment: ApiId, Name, ProtocolType, CorsConfiguration, ...
    routes: tuple[Document, ...]  # GetRoute, as deployed
    integrations: tuple[Document, ...]  # GetIntegration, as deployed
    authorizers: tuple[Document, ...]  # GetAuthorizer, as deployed


@dataclass(frozen=True)
class DeployedApi:
    account_id: str
    region: str
    api_id: str
    disable_execute_api_endpoint: bool
    stages: tuple[DeployedStage, ...]  # only stages that have a deployment


@dataclass(frozen=True)
class ApiMapping:
    """`https://{domain_name}/{mapping_key}/...` serves `stage` of `api_id`."""

    domain_name: str  # lower case
    api_id: str
    stage: str
    mapping_key: str  # "" for the root, else "a" or "a/b" (no leading or trailing '/')


class Publisher(Protocol):
    def publish_api(self, api: DeployedApi) -> None:
        """Serve `api` as given from now on, replacing whatever was served for its id."""
        ...

    def withdraw_api(self, api_id: str) -> None:
        """Stop serving `api_id` (deleted)."""
        ...

    def publish_domains(self, mappings: Sequence[ApiMapping]) -> None:
        """The whole set of custom-domain mappings (every account and region), replacing the
        previous one."""
        ...
