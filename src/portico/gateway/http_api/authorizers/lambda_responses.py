"""What a Lambda REQUEST authorizer answered, read as a `Verdict`.

    simple (EnableSimpleResponses, format 2.0)   {"isAuthorized": true, "context": {...}}
    IAM policy (format 1.0, or 2.0 otherwise)    {"principalId": "...", "policyDocument": {...},
                                                  "context": {...}}

Anything else (not JSON, not an object, `isAuthorized` not a boolean, no well-formed policy,
`context` not an object) is no answer: None, which the gateway turns into a 500. A verdict
is cached as is and applied to each request's route ARN: a simple answer covers every route,
a policy only the routes its resources match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portico.gateway import payloads
from portico.gateway.http_api.authorization import Granted
from portico.gateway.http_api.authorizers import refusals
from portico.gateway.http_api.authorizers.claims import as_text
from portico.gateway.http_api.authorizers.policy import Policy, parse_policy
from portico.gateway.http_events import HttpResult


@dataclass(frozen=True, slots=True)
class Verdict:
    policy: Policy | None  # None for a simple answer
    authorized: bool  # the simple answer (ignored when there is a policy)
    granted: Granted = field(compare=False)

    def decide(self, route_arn: str) -> Granted | HttpResult:
        allowed = self.authorized if self.policy is None else self.policy.allows(route_arn)
        return self.granted if allowed else refusals.forbidden()


def parse_response(payload: bytes, *, simple: bool, latency_ms: int) -> Verdict | None:
    try:
        answer = payloads.decode(payload)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    context = answer.get("context")
    if context is not None and not isinstance(context, dict):
        return None
    if simple:
        authorized = answer.get("isAuthorized")
        if not isinstance(authorized, bool):
            return None
        return Verdict(None, authorized, granted(context, "", latency_ms))
    policy = parse_policy(answer.get("policyDocument"))
    principal = answer.get("principalId", "")
    if policy is None or isinstance(principal, bool) or not isinstance(principal, str | int):
        return None
    return Verdict(policy, False, granted(context, str(principal), latency_ms))


def granted(context: dict[str, Any] | None, principal_id: str, latency_ms: int) -> Granted:
    """2.0 events carry the context as returned under `lambda`; 1.0 events, REST-style, its
    members as strings beside `principalId` and `integrationLatency`."""
    members: dict[str, Any] = {
        name: as_text(value) for name, value in (context or {}).items() if value is not None
    }
    if principal_id:
        members["principalId"] = principal_id
    members["integrationLatency"] = latency_ms
    return Granted(
        context_v2={"lambda": context},
        context_v1=members,
        principal_id=principal_id,
    )
