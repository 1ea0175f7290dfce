"""What a route's authorizer is asked and what it answers.

route matched -> AuthRequest -> Authorizer.authorize -> Granted  (the integration runs, the
                                                                 event carries `authorizer`)
                                                     -> HttpResult (the refusal, sent as is:
                                                                 401/403/500 as AWS answers)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from portico.gateway.http_events import HttpRequest, HttpResult


@dataclass(frozen=True)
class AuthRequest:
    """A request on its way to a route with an authorizer."""

    request: HttpRequest  # as the integration gets it
    sent_path: str  # the path as the client sent it (percent-encoded), which it signed
    path: str  # the path the route matched (stage and mapping prefix removed)
    api_id: str
    account_id: str
    region: str
    stage: str
    route_key: str
    route_arn: str  # arn:aws:execute-api:{region}:{account}:{api-id}/{stage}/{METHOD}{path}
    request_id: str
    time_epoch_ms: int
    domain_name: str
    authorization_scopes: tuple[str, ...] = ()  # the route's AuthorizationScopes
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Granted:
    """Let through. `context_v2` is `requestContext.authorizer` of a 2.0 event
    (`{"jwt": {...}}`, `{"lambda": {...}}` or `{"iam": {...}}`), `context_v1` that of a 1.0
    event; `principal_id` is `$context.authorizer.principalId` in access logs."""

    context_v2: dict[str, Any]
    context_v1: dict[str, Any]
    principal_id: str = ""


class Authorizer(Protocol):
    async def authorize(self, request: AuthRequest) -> Granted | HttpResult: ...
